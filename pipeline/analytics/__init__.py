"""Analytics over the data contract: analyst queries, data-quality checks and the report.

Plain Python over DuckDB; no Dagster here (the asset checks in `pipeline/defs/checks.py` wire
`checks.py` into Dagster).
"""
