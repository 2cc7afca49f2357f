-- The fast route's parse of everything but money (pipeline/normalize/fast.py), for bodies that
-- passed the grammar gate. DuckDB's JSON reader is exact for these fields there: texts have no
-- escapes, integers have at most 9 digits, currencies are short codes. Money is NOT read here:
-- on DuckDB 1.5.5 even a DECIMAL-typed from_json rounds 150000000000.12345678 through a double,
-- so amounts are cut out of the body's text and cast by polars.
select
    _row,
    doc.ResponseCode::integer as response_code,
    doc.ResponseMsgEng as response_message,
    doc.ERP_Account_Status::integer as erp_account_status,
    doc.ERP_Account_Status_Text as erp_account_status_text,
    doc.Web_Account_Status::integer as web_account_status,
    doc.Web_Account_Status_Text as web_account_status_text,
    doc.Agency::integer as agency,
    doc.Data is not null as _data,
    list_transform(doc.Data, lambda line: line.Currency) as _currencies
from (
    select
        _row,
        from_json(
            body,
            '{"ResponseCode": "INTEGER", "ResponseMsgEng": "VARCHAR",
              "ERP_Account_Status": "INTEGER", "ERP_Account_Status_Text": "VARCHAR",
              "Web_Account_Status": "INTEGER", "Web_Account_Status_Text": "VARCHAR",
              "Agency": "INTEGER", "Data": [{"Currency": "VARCHAR"}]}'
        ) as doc
    from fast_bodies
);
-- No ORDER BY: sorting the parsed rows cost as much as parsing them; DuckDB keeps insertion
-- order by default (preserve_insertion_order), and the caller checks the rows line up.
