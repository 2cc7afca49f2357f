"""The analytics layer as assets: the views and the HTML report, downstream of the tables.

The views are DuckDB views (they compute at query time), so materializing them only defines
them in the database and records their columns; that is quick, and it tells the UI when the
analytics last saw new data. The report executes the notebooks (tens of seconds), so it never
runs inside a poll: the automation sensor materializes the views after each poll and the
report after the views, in a run of their own.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline.defs.catalog import catalog
from pipeline.defs.resources import StoreResource
from pipeline.store.sqlfiles import load_sql

ANALYTICS_GROUP = "analytics"
REPORT = "report"
ANALYTICS_SENSOR = "analytics_automation_sensor"

# After any upstream update, once nothing upstream is running. Unlike `eager()`, a missing
# upstream partition does not block it: the views read the tables whole, and a slot nobody
# polled (a gap, or one before the first poll) is history's normal state.
AFTER_UPSTREAM = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("after_upstream_updates")
)


def build_analytics_assets() -> list[dg.AssetsDefinition]:
    views = catalog().views

    @dg.multi_asset(
        name="analytics_views",
        specs=[
            dg.AssetSpec(
                name,
                deps=list(view.upstream),
                description=view.description,
                kinds={"duckdb", "sql"},
                group_name=ANALYTICS_GROUP,
                metadata={
                    "dagster/column_schema": view.column_schema,
                    "sql_file": f"sql/{view.sql_file}.sql",
                },
                automation_condition=AFTER_UPSTREAM,
            )
            for name, view in views.items()
        ],
    )
    def analytics_views(store: StoreResource) -> Iterator[dg.MaterializeResult[None]]:
        """Define every view in the database (create or replace) and record its columns."""
        with store.writer() as writer:
            for name, view in views.items():
                assert view.sql_file is not None
                writer.con.execute(load_sql(view.sql_file))
                described = writer.con.execute(f'describe "{name}"').fetchall()
                schema = dg.TableSchema(
                    columns=[dg.TableColumn(row[0], row[1]) for row in described]
                )
                yield dg.MaterializeResult(
                    asset_key=name, metadata={"dagster/column_schema": schema}
                )

    @dg.asset(
        name=REPORT,
        deps=list(views),
        kinds={"jupyter", "html"},
        group_name=ANALYTICS_GROUP,
        automation_condition=AFTER_UPSTREAM,
    )
    def report(
        context: dg.AssetExecutionContext, store: StoreResource
    ) -> dg.MaterializeResult[None]:
        """The self-contained HTML report: the analytics notebooks executed against the book."""
        # Imported here: nbconvert and nbclient are slow to import, and only this run needs them.
        from pipeline.analytics.report import build_report

        db = Path(store.database)
        page = build_report(db, db.parent / "report")
        context.log.info(f"report written to {page}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(page.resolve())),
                "bytes": page.stat().st_size,
            }
        )

    return [analytics_views, report]


def analytics_sensor(assets: list[dg.AssetsDefinition]) -> dg.AutomationConditionSensorDefinition:
    """Runs the analytics assets' automation conditions; on by default (nothing else does)."""
    return dg.AutomationConditionSensorDefinition(
        ANALYTICS_SENSOR,
        target=dg.AssetSelection.assets(*assets),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After each poll: re-define the views, then re-render the report.",
    )
