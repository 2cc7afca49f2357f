"""The plain-Python steps both front ends (CLI, Dagster) call: open a source, poll a slot,
ingest landed bodies, replay history. No Dagster here."""
