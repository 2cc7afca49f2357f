"""The endpoint documentation's example answer, shared by the normalizer and simulator tests."""

from __future__ import annotations

import json
import re
from decimal import Decimal

# Verbatim from the endpoint's doc (shared/seed/000_7287e33cf4822302.txt), comment included.
SEED_OUTPUT = """\
{
"ResponseCode": 0,
"ResponseMsgEng": "Client account is OK",
"ERP_Account_Status": 5,
"ERP_Account_Status_Text": "לקוח אמיתי",
"Web_Account_Status": 2,
"Web_Account_Status_Text": "מאושר / פעיל",
"Agency": 0,
"Data": [
{
"Currency": "BTC",
"Balance": 0.10790961,
"Value_ILS": 25133.8,
"Cash": 0.10790961
},
{
"Currency": "ETH",
"Balance": 2.47121843,
"Value_ILS": 17208.41,
"Cash": 2.47121843
},
{
"Currency": "ILS",
"Balance": 27354.00,
"Value_ILS": 27354.00,
"Cash": 25354.00 // -2000 ILS for Margin (V.A.R) or Tax Deduction
},
{
"Currency": "USD",
"Balance": 1064.15,
"Value_ILS": 3192.44,
"Cash": 1064.15
}
],
"Total_Floating_Balance_ILS": 72888.65
}"""


def seed_body() -> str:
    """The seed's example response with its `// comment` stripped (real responses have none)."""
    return re.sub(r"//[^\n]*", "", SEED_OUTPUT)


def seed_document() -> dict:
    """The example parsed with exact decimals: what the simulator must answer at its instant."""
    return json.loads(seed_body(), parse_float=Decimal)
