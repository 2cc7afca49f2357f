# %% [markdown]
# # Implied FX rates
#
# The broker values every line as `Value = round(Balance × rate, 2)`, so each line implies a
# rate. Per slot and currency: the median across clients, the min–max band, and the lines whose
# rate the 2-decimal rounding cannot explain (`fx_rate_outliers`), marked ×.
#
# Reads the database named by `PIPELINE_DB` (default `data/balances.duckdb` under the project
# root), read-only.

# %%
from IPython.display import HTML, display

from pipeline.analytics import charts
from pipeline.analytics.report import OUTLIER_COLUMNS
from pipeline.analytics.report_data import frame, reading
from pipeline.analytics.report_format import Column, table
from pipeline.analytics.report_notebooks import notebook_db_path

DB = notebook_db_path()
# Read-only, and only for this block: an open connection would keep the pipeline's writer out.
with reading(DB) as con:
    decimals = dict(frame(con, "currency_decimals").iter_rows())
    rates = frame(con, "fx_rates")
    outliers = frame(con, "fx_outliers")
print(f"database: {DB}")
print(f"currencies: {rates['currency'].n_unique()}, slots: {rates['slot_start'].n_unique()}")
print(f"outlier lines: {outliers.height}")

# %%
for base in sorted(rates["base_currency"].drop_nulls().unique()):
    charts.fx_rates(
        rates.filter(rates["base_currency"] == base),
        outliers.filter(outliers["base_currency"] == base),
        base,
    ).show()

# %%
display(HTML(table(outliers, OUTLIER_COLUMNS, decimals=decimals, empty="No outliers.")))

# %% [markdown]
# Does the broker apply one rate to everyone? The widest band (max − min) / median per currency.

# %%
import polars as pl  # noqa: E402

band = (
    rates.group_by("currency")
    .agg(
        ((pl.col("max_rate") - pl.col("min_rate")) / pl.col("median_rate"))
        .max()
        .alias("widest_band"),
        pl.col("client_count").max().alias("clients"),
    )
    .sort("currency")
)
columns = (
    Column("currency", "Currency"),
    Column("widest_band", "Widest band", "share"),
    Column("clients", "Clients", "count"),
)
display(HTML(table(band, columns)))
