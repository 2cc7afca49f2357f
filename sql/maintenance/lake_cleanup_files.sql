-- Files no snapshot references any more, scheduled for deletion over $keep_days days ago (a
-- reader that started before that may still scan them).
call ducklake_cleanup_old_files({catalog}, older_than => now() - to_days(cast($keep_days as integer)));
