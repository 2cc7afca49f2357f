"""Write the analytics notebooks (without outputs) from the cell sources below.

    uv run python notebooks/make_notebooks.py

Edit the cells here, not in Jupyter, so the committed notebooks stay output-free and reviewable.
Each notebook reads the DuckDB file named by PIPELINE_DB (default data/balances.duckdb, relative to
the project root) read-only, and draws with matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
%matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl

from pipeline.analytics.readonly import open_readonly
from pipeline.settings import Settings, client_from_env

# Parameter: the DuckDB file (PIPELINE_DB); a relative path is taken from the project root.
DB = Settings.from_env().db_path
if not DB.is_absolute():
    here = [Path.cwd(), *Path.cwd().parents]
    DB = next((p for p in here if (p / "pyproject.toml").exists()), Path.cwd()) / DB
con = open_readonly(DB)  # read-only: only the pipeline writes


def frame(sql: str, **params) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


pl.Config.set_tbl_rows(30)
pl.Config.set_tbl_width_chars(160)
print(f"database: {DB}")'''

IMPLIED_FX = [
    new_markdown_cell(
        "# Implied FX rates\n\n"
        "The broker values every line as `Value = round(Balance × rate, 2)`, so each line implies "
        "a rate. Per slot and currency: the median across clients, the min–max band, and the "
        "lines whose rate the 2-decimal rounding cannot explain (`fx_rate_outliers`), marked ×."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        '''\
rates = frame("""
    select slot_start, currency, base_currency, median_rate, min_rate, max_rate, client_count
    from implied_fx_rates
    where currency <> base_currency
    order by currency, slot_start
""")
outliers = frame("select * from fx_rate_outliers order by slot_start, client_number")
print(f"currencies: {rates['currency'].n_unique()}, slots: {rates['slot_start'].n_unique()}")
print(f"outlier lines: {outliers.height}")
outliers.select(
    "slot_start", "client_number", "currency", "balance", "value_base", "implied_rate",
    "median_rate", "relative_deviation", "value_deviation",
)'''
    ),
    new_code_cell(
        '''\
currencies = rates["currency"].unique().sort().to_list()
cols = 2
rows = (len(currencies) + cols - 1) // cols
fig, axes = plt.subplots(rows, cols, figsize=(12, 2.8 * rows), sharex=True, squeeze=False)
for ax, currency in zip(axes.flat, currencies):
    r = rates.filter(pl.col("currency") == currency)
    base = r["base_currency"][0]
    ax.fill_between(r["slot_start"], r["min_rate"], r["max_rate"], alpha=0.3,
                    color="tab:blue", label="min–max across clients")
    ax.plot(r["slot_start"], r["median_rate"], color="tab:blue", lw=1.2, label="median")
    o = outliers.filter(pl.col("currency") == currency)
    if o.height:
        ax.scatter(o["slot_start"], o["implied_rate"], marker="x", color="tab:red", zorder=3,
                   label="outlier")
    ax.set_title(f"{currency} in {base}", fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.grid(alpha=0.3)
for ax in list(axes.flat)[len(currencies):]:
    ax.set_visible(False)
axes.flat[0].legend(fontsize=8, loc="best")
fig.suptitle("Implied rate per slot: median, min–max band across clients, outliers")
fig.tight_layout()
plt.show()'''
    ),
    new_code_cell(
        '''\
# Does the broker apply one rate to everyone? The widest relative band per currency.
rates.with_columns(
    ((pl.col("max_rate") - pl.col("min_rate")) / pl.col("median_rate")).alias("relative_band")
).group_by("currency").agg(
    pl.col("relative_band").max().alias("widest_band"),
    pl.col("client_count").max().alias("clients"),
).sort("currency")'''
    ),
]

CLIENT_BALANCES = [
    new_markdown_cell(
        "# One client's balances\n\n"
        "Values and locked amounts per currency over time, account status changes marked, and "
        "the change in value split into quantity (deposits, withdrawals, trades), FX (the "
        "market) and rounding (`value_attribution`). Parameter `PIPELINE_CLIENT` (default: the "
        "client with the most status changes, then the most balance changes)."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        '''\
CLIENT = client_from_env()
if CLIENT is None:
    CLIENT = frame("""
        select c.client_number
        from (select client_number, count(*) as changes from balance_changes group by all) as c
        left join (
            select client_number, count(*) filter (where is_transition) as transitions
            from account_status_history group by all
        ) as s using (client_number)
        order by coalesce(s.transitions, 0) desc, c.changes desc, c.client_number
        limit 1
    """)["client_number"][0]
CLIENT = int(CLIENT)
lines = frame("""
    select slot_start, currency, base_currency, balance, cash, locked, value_base
    from balance_lines where client_number = $client order by slot_start, currency
""", client=CLIENT)
status = frame("""
    select * from account_status_history where client_number = $client order by valid_from
""", client=CLIENT)
base = lines["base_currency"].drop_nulls().first() if lines.height else "?"
print(f"client {CLIENT}: {lines['slot_start'].n_unique()} observed slots, "
      f"currencies {sorted(lines['currency'].unique().to_list())}, base {base}")
status.select("valid_from", "valid_to", "erp_account_status", "web_account_status",
              "is_transition", "prev_erp_account_status")'''
    ),
    new_code_cell(
        '''\
fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
for currency in sorted(lines["currency"].unique().to_list()):
    c = lines.filter(pl.col("currency") == currency)
    top.step(c["slot_start"], c["value_base"].cast(pl.Float64), where="post", label=currency)
    if (c["locked"] != 0).any():
        locked_value = (c["value_base"].cast(pl.Float64) * (c["locked"] / c["balance"]).cast(pl.Float64))
        bottom.step(c["slot_start"], locked_value.fill_nan(0), where="post", label=currency)
for ax in (top, bottom):
    for row in status.filter(pl.col("is_transition")).iter_rows(named=True):
        ax.axvline(row["valid_from"], color="tab:red", ls="--", lw=1)
        ax.text(row["valid_from"], 1.0, f" ERP {row['prev_erp_account_status']}→{row['erp_account_status']}",
                transform=ax.get_xaxis_transform(), color="tab:red", fontsize=8, va="top")
    ax.grid(alpha=0.3)
top.set_title(f"client {CLIENT}: value per currency ({base}); status changes dashed")
top.legend(fontsize=8)
bottom.set_title(f"locked value ({base}, at the line's rate)")
if bottom.get_legend_handles_labels()[0]:
    bottom.legend(fontsize=8)
else:
    bottom.text(0.5, 0.5, "no locked funds in this period", transform=bottom.transAxes,
                ha="center", color="gray")
fig.tight_layout()
plt.show()'''
    ),
    new_code_cell(
        '''\
attribution = frame("""
    select currency, sum(value_change) as value_change, sum(quantity_effect) as quantity_effect,
        sum(fx_effect) as fx_effect, sum(residual) as residual
    from value_attribution where client_number = $client
    group by currency order by currency
""", client=CLIENT)
assert all(
    r["quantity_effect"] + r["fx_effect"] + r["residual"] == r["value_change"]
    for r in attribution.iter_rows(named=True)
)
print("value attribution: quantity + fx + residual == value change (exact) for every currency")
attribution'''
    ),
    new_code_cell(
        '''\
fig, ax = plt.subplots(figsize=(10, 3.5))
x = range(attribution.height)
ax.bar([i - 0.2 for i in x], attribution["quantity_effect"].cast(pl.Float64), 0.4, label="quantity")
ax.bar([i + 0.2 for i in x], attribution["fx_effect"].cast(pl.Float64), 0.4, label="FX")
ax.set_xticks(list(x), attribution["currency"].to_list())
ax.axhline(0, color="black", lw=0.8)
ax.set_title(f"client {CLIENT}: change in value over the period by source ({base})")
ax.legend()
fig.tight_layout()
plt.show()'''
    ),
]

RECONCILIATION = [
    new_markdown_cell(
        "# Reconciliation, house totals and fetch health\n\n"
        "What all clients hold per currency (what the house owes), snapshots whose reported "
        "total differs from the sum of their lines, how much of the schedule each client was "
        "observed in, and how fetching went."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        '''\
house = frame("""
    select slot_start, currency, base_currency, client_count, total_balance, total_value_base
    from house_totals order by slot_start, currency
""")
latest = house.filter(pl.col("slot_start") == pl.col("slot_start").max())
print(f"house totals at {latest['slot_start'].max()}:")
latest'''
    ),
    new_code_cell(
        '''\
fig, ax = plt.subplots(figsize=(12, 4.5))
for currency in sorted(house["currency"].unique().to_list()):
    c = house.filter(pl.col("currency") == currency)
    ax.plot(c["slot_start"], c["total_value_base"].cast(pl.Float64), label=currency)
ax.set_yscale("symlog")
ax.set_title(f"house totals per currency, value in {house['base_currency'].drop_nulls().first()}")
ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()'''
    ),
    new_code_cell(
        '''\
unreconciled = frame("""
    select client_number, slot_start, reported_total, lines_value, difference
    from snapshot_reconciliation where not is_reconciled order by slot_start, client_number
""")
snapshots = frame("select count(*) as n from snapshot_reconciliation")["n"][0]
print(f"unreconciled snapshots: {unreconciled.height} of {snapshots}")
unreconciled'''
    ),
    new_code_cell(
        '''\
coverage = frame("select * from coverage order by client_number")
health = frame("select * from fetch_health order by client_number")
fig, ax = plt.subplots(figsize=(12, 3.5))
ax.bar(coverage["client_number"].cast(pl.String), coverage["share_observed"], label="any answer")
ax.bar(coverage["client_number"].cast(pl.String),
       coverage["balances_observed_slots"] / coverage["scheduled_slots"], alpha=0.6,
       label="with balances")
ax.set_ylim(0, 1.05)
ax.set_title("share of scheduled slots observed per client")
ax.tick_params(axis="x", labelrotation=45, labelsize=8)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
print(f"clients: {coverage.height}, longest gap: {coverage['longest_gap_slots'].max()} slots")
coverage.join(health.select("client_number", "attempts", "failures", "last_failure_outcome"),
              on="client_number", how="left")'''
    ),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{name.split('.')[0][:40]}-{index}"
    nbformat.validate(nb)
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("implied_fx_rates.ipynb", IMPLIED_FX)
    write("client_balances.ipynb", CLIENT_BALANCES)
    write("reconciliation.ipynb", RECONCILIATION)
