# %% [markdown]
# # Reconciliation, house totals and fetch health
#
# What all clients hold per currency (what the house owes), snapshots whose reported total
# differs from the sum of their lines, how much of the schedule each client was observed in,
# and how fetching went.

# %%
import polars as pl
from IPython.display import HTML, display

from pipeline.analytics import charts
from pipeline.analytics.report import COVERAGE_COLUMNS, HOUSE_COLUMNS
from pipeline.analytics.report_data import frame, reading
from pipeline.analytics.report_format import Column, table
from pipeline.analytics.report_notebooks import notebook_db_path

DB = notebook_db_path()
# Read-only, and only for this block: an open connection would keep the pipeline's writer out.
with reading(DB) as con:
    decimals = dict(frame(con, "currency_decimals").iter_rows())
    house = frame(con, "house_totals")
    unreconciled = frame(con, "unreconciled")
    snapshots = frame(con, "overview")["snapshots"][0]
    coverage = frame(con, "coverage_health")
    outcomes = frame(con, "fetch_outcomes")
latest_slot = house["slot_start"].max()
print(f"house totals at {latest_slot:%Y-%m-%d %H:%M} UTC:")
for base in sorted(house["base_currency"].drop_nulls().unique()):
    latest = house.filter((pl.col("slot_start") == latest_slot) & (pl.col("base_currency") == base))
    columns = (*HOUSE_COLUMNS, Column("total_value_base", f"Value ({base})", "money"))
    display(HTML(table(latest, columns, decimals=decimals)))

# %%
for base in sorted(house["base_currency"].drop_nulls().unique()):
    charts.house_value(house.filter(pl.col("base_currency") == base), base).show()
charts.house_holdings(house, decimals).show()

# %%
print(f"unreconciled snapshots: {unreconciled.height} of {snapshots}")
display(HTML(table(unreconciled, (
    Column("slot_start", "Slot (UTC)", "instant"),
    Column("client_number", "Client", "id"),
    Column("reported_total", "Reported total", "money"),
    Column("lines_value", "Sum of lines", "money"),
    Column("difference", "Difference", "money"),
), empty="Every snapshot reconciles.")))  # fmt: skip

# %%
charts.coverage_chart(coverage).show()
charts.outcomes_chart(outcomes).show()
print(f"clients: {coverage.height}, longest gap: {coverage['longest_gap_slots'].max()} slots")
display(HTML(table(coverage, COVERAGE_COLUMNS)))
