insert into fetch_attempts by name
select * from incoming_attempts
on conflict do nothing;
