# %% [markdown]
# # One client's balances
#
# Value, cash and locked funds over time (in the base currency), account status changes
# marked, and the change in value split into quantity (deposits, withdrawals, trades), FX (the
# market) and rounding (`value_attribution`). Parameter `PIPELINE_CLIENT` (default: the client
# with the most status changes, then the most balance changes).

# %%
from IPython.display import HTML, display

from pipeline.analytics import charts
from pipeline.analytics.report import ATTRIBUTION_COLUMNS
from pipeline.analytics.report_data import (
    ReportError,
    choose_clients,
    client_data,
    frame,
    parse_client,
    reading,
)
from pipeline.analytics.report_format import Column, table
from pipeline.analytics.report_notebooks import notebook_db_path
from pipeline.settings import client_from_env

DB = notebook_db_path()
try:
    chosen = client_from_env()
    requested = (parse_client(chosen, "PIPELINE_CLIENT"),) if chosen else ()
    # Read-only, and only for this block: an open connection would keep the writer out.
    with reading(DB) as con:
        decimals = dict(frame(con, "currency_decimals").iter_rows())
        known = frame(con, "clients")
        CLIENT = choose_clients(known, requested)[0] if known.height else None
        labels = dict(zip(known["client_number"], known["label"], strict=True))
        client = client_data(con, CLIENT, labels.get(CLIENT)) if CLIENT is not None else None
except ReportError as exc:
    raise SystemExit(str(exc)) from None  # one line for the reader, not a traceback
if client is None:
    raise SystemExit(f"no client has a snapshot in {DB}; run `pipeline demo` first")
lines = client.lines
base = lines["base_currency"].drop_nulls().first() if lines.height else "?"
print(
    f"client {CLIENT}: {lines['slot_start'].n_unique()} observed slots, "
    f"currencies {sorted(lines['currency'].unique().to_list())}, base {base}"
)

# %%
if charts.slot_count(lines) >= charts.MIN_SLOTS_FOR_HISTORY:
    charts.client_chart(client, base).show()
else:
    print("not enough history yet for a chart")

# %%
status_columns = (
    Column("valid_from", "From (UTC)", "instant"),
    Column("valid_to", "Until (UTC)", "instant"),
    Column("erp_account_status", "ERP status", "id"),
    Column("erp_account_status_text", "ERP text"),
    Column("web_account_status", "Web status", "id"),
    Column("web_account_status_text", "Web text"),
)
display(HTML(table(client.status, status_columns)))

# %%
attribution = client.attribution
assert all(
    r["quantity_effect"] + r["fx_effect"] + r["residual"] == r["value_change"]
    for r in attribution.iter_rows(named=True)
)
print("value attribution: quantity + fx + residual == value change (exact) for every currency")
display(HTML(table(attribution, ATTRIBUTION_COLUMNS, decimals=decimals)))
if attribution.height:
    charts.attribution_chart(attribution, base).show()
