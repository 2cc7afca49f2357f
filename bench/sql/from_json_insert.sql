-- The reference route, second half: both tables from the parsed documents (see
-- from_json_parse.sql).
insert into balance_snapshots by name
select
    client_number, slot_start, raw_id as snapshot_id, observed_at,
    j.ResponseCode as response_code,
    j.ResponseMsgEng as response_message,
    j.ERP_Account_Status as erp_account_status,
    j.ERP_Account_Status_Text as erp_account_status_text,
    j.Web_Account_Status as web_account_status,
    j.Web_Account_Status_Text as web_account_status_text,
    j.Agency as agency,
    case when j.Data is not null or j.Total_Floating_Balance_ILS is not null then 'ILS' end
        as base_currency,
    j.Total_Floating_Balance_ILS as total_floating_balance,
    coalesce(len(j.Data), 0) as line_count,
    j.ResponseCode <> 0 as is_restricted,
    raw_id
from parsed;

insert into balance_lines by name
select
    client_number, slot_start, line.Currency as currency, raw_id as snapshot_id, observed_at,
    'ILS' as base_currency,
    line.Balance as balance,
    line.Value_ILS as value_base,
    line.Cash as cash,
    (line.Balance - line.Cash)::decimal(38, 8) as locked,
    case when line.Balance <> 0 then line.Value_ILS::double / line.Balance::double end
        as implied_rate
from (select raw_id, client_number, slot_start, observed_at, unnest(j.Data) as line from parsed);
