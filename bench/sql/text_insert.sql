-- The exact SQL reference, second half: both tables from the parsed rows (text_parse.sql).
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
    case when j.Data is not null or total is not null then 'ILS' end as base_currency,
    total::decimal(38, 2) as total_floating_balance,
    coalesce(len(j.Data), 0) as line_count,
    j.ResponseCode <> 0 as is_restricted,
    raw_id
from parsed;

insert into balance_lines by name
select
    client_number, slot_start, currency, raw_id as snapshot_id, observed_at,
    'ILS' as base_currency,
    balance::decimal(38, 8) as balance,
    amount::decimal(38, 2) as value_base,
    cash::decimal(38, 8) as cash,
    (balance::decimal(38, 8) - cash::decimal(38, 8))::decimal(38, 8) as locked,
    case when balance::decimal(38, 8) <> 0
        then amount::decimal(38, 2)::double / balance::decimal(38, 8)::double end
        as implied_rate
from (
    select
        raw_id, client_number, slot_start, observed_at,
        unnest(list_transform(j.Data, lambda line: line.Currency)) as currency,
        unnest(balances) as balance,
        unnest(amounts) as amount,
        unnest(cashes) as cash
    from parsed
);
