"""Dagster wiring: resources, partitioned assets, the poll job and its schedule.

Only this package (and the CLI that launches it) imports Dagster.
"""
