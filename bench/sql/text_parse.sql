-- The exact SQL reference (any DuckDB version): money cut out of the body's text with
-- regexp_extract_all and cast from that text; everything else through from_json, which is
-- exact for texts and small integers. No validation, no rejection, base currency assumed.
create or replace temp table parsed as
select
    raw_id, client_number, slot_start, observed_at,
    from_json(
        body,
        '{"ResponseCode": "INTEGER", "ResponseMsgEng": "VARCHAR",
          "ERP_Account_Status": "INTEGER", "ERP_Account_Status_Text": "VARCHAR",
          "Web_Account_Status": "INTEGER", "Web_Account_Status_Text": "VARCHAR",
          "Agency": "INTEGER", "Data": [{"Currency": "VARCHAR"}]}'
    ) as j,
    nullif(regexp_extract(body, '"Total_Floating_Balance_ILS"\s*:\s*"?(-?[0-9.]+)', 1), '')
        as total,
    regexp_extract_all(body, '"Balance"\s*:\s*"?(-?[0-9.]+)', 1) as balances,
    regexp_extract_all(body, '"Value_ILS"\s*:\s*"?(-?[0-9.]+)', 1) as amounts,
    regexp_extract_all(body, '"Cash"\s*:\s*"?(-?[0-9.]+)', 1) as cashes
from raw_responses
where http_status = 200 and body_encoding = 'utf-8' and not body_truncated;
