"""The balance history report: one self-contained HTML page rendered from the DuckDB file.

`build_report` reads the period's data (`report_data`), draws interactive charts (plotly, its
JavaScript inlined once: the page fetches nothing) and people's tables (`report_format`), and
writes `report.html`. Sections: summary, house holdings and value, implied FX rates, selected
clients, value attribution, reconciliation exceptions, coverage and fetch health.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from pipeline.analytics import charts
from pipeline.analytics.report_data import ClientData, ReportData, ReportScope, collect
from pipeline.analytics.report_format import Column, instant, number, share, table
from pipeline.analytics.report_sections import CSS, PRINT_SCRIPT, SECTIONS
from pipeline.settings import DEFAULT_READ_WAIT_SECONDS
from pipeline.store.database import WaitCallback

PAGE_NAME = "report.html"


def chart(fig: go.Figure, name: str) -> str:
    """A chart's div and the script that draws it (plotly.js itself is in the page's head)."""
    html = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{name}",
        config={"displaylogo": False, "responsive": True},
    )
    return f'<figure class="chart screen-only" data-chart="{escape(name)}">{html}</figure>'


def not_enough(name: str, slots: int, what: str = "chart") -> str:
    return (
        f'<p class="not-enough" data-chart="{escape(name)}">Not enough history yet for this '
        f"{what}: {slots} slot{'s' if slots != 1 else ''} in the period; it needs at least "
        f"{charts.MIN_SLOTS_FOR_HISTORY}.</p>"
    )


def _bases(frame: pl.DataFrame) -> list[str]:
    return sorted(b for b in frame["base_currency"].unique().to_list() if b is not None)


def _first_and_last(frame: pl.DataFrame) -> tuple[datetime, datetime]:
    first, last = frame["slot_start"].min(), frame["slot_start"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    return first, last


def _money(value: object) -> Decimal:
    # polars sums a Decimal column to a Decimal; an empty one may come back as 0.
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _summary(data: ReportData) -> str:
    o = data.overview
    cards = []
    house = data.house
    if house.height:
        first, last = _first_and_last(house)
        for base in _bases(house):
            rows = house.filter(pl.col("base_currency") == base)
            now = _money(rows.filter(pl.col("slot_start") == last)["total_value_base"].sum())
            then = _money(rows.filter(pl.col("slot_start") == first)["total_value_base"].sum())
            cards.append((f"House value ({base})", number(now, 2), f"at {instant(last)}"))
            cards.append((f"Change ({base})", number(now - then, 2), f"since {instant(first)}"))
    attempts = o["attempts"] or 0
    failed = o["failed_attempts"] or 0
    cards += [
        ("Clients", number(o["clients"] or 0, 0), f"{number(o['snapshots'] or 0, 0)} snapshots"),
        ("FX outliers", number(o["outlier_lines"] or 0, 0), "lines off the median rate"),
        ("Unreconciled", number(o["unreconciled"] or 0, 0), "snapshots"),
        (
            "Fetch failures",
            number(failed, 0),
            f"{share(failed / attempts)} of {number(attempts, 0)} attempts" if attempts else "",
        ),
    ]
    items = "".join(
        f'<div class="kpi"><div class="kpi-label">{escape(label)}</div>'
        f'<div class="kpi-value">{escape(value)}</div><div class="kpi-note">{escape(note)}</div>'
        "</div>"
        for label, value, note in cards
    )
    return f'<div class="kpis">{items}</div>'


HOUSE_COLUMNS = (
    Column("currency", "Currency"),
    Column("client_count", "Clients", "count"),
    Column("total_balance", "Held", "quantity"),
    Column("total_cash", "Cash", "quantity"),
    Column("total_locked", "Locked", "quantity"),
    Column("total_negative_balance", "Negative balances", "quantity"),
)


def house_pngs(data: ReportData) -> dict[str, bytes]:
    """The static house chart per base currency (none without enough history)."""
    if charts.slot_count(data.house) < charts.MIN_SLOTS_FOR_HISTORY:
        return {}
    return {
        base: charts.house_value_png(data.house.filter(pl.col("base_currency") == base), base)
        for base in _bases(data.house)
    }


def _house(data: ReportData, pngs: dict[str, bytes]) -> str:
    house = data.house
    if not house.height:
        return '<p class="empty">No balances in this period.</p>'
    slots = charts.slot_count(house)
    parts = []
    for base in _bases(house):
        rows = house.filter(pl.col("base_currency") == base)
        if base in pngs:
            png = base64.b64encode(pngs[base]).decode()
            parts.append(chart(charts.house_value(rows, base), f"house-value-{base}"))
            # Printed pages get the static twin of the interactive chart.
            parts.append(
                f'<img class="print-only" alt="House value per currency in {escape(base)}" '
                f'src="data:image/png;base64,{png}">'
            )
        else:
            parts.append(not_enough(f"house-value-{base}", slots))
        _, last = _first_and_last(rows)
        latest = rows.filter(pl.col("slot_start") == last).sort("currency")
        columns = (*HOUSE_COLUMNS, Column("total_value_base", f"Value ({base})", "money"))
        caption = f"Held by all clients at {instant(last)} UTC (clients observed in that slot)"
        parts.append(table(latest, columns, decimals=data.decimals, caption=caption))
    if slots >= charts.MIN_SLOTS_FOR_HISTORY:
        parts.append(chart(charts.house_holdings(house, data.decimals), "house-holdings"))
    else:
        parts.append(not_enough("house-holdings", slots))
    return "".join(parts)


OUTLIER_COLUMNS = (
    Column("slot_start", "Slot (UTC)", "instant"),
    Column("client_number", "Client", "id"),
    Column("currency", "Currency"),
    Column("balance", "Balance", "quantity"),
    Column("value_base", "Value", "money"),
    Column("base_currency", "Base"),
    Column("implied_rate", "Implied rate", "rate"),
    Column("median_rate", "Median rate", "rate"),
    Column("relative_deviation", "Deviation", "share"),
    Column("value_deviation", "Value vs median", "money"),
)


def _fx(data: ReportData) -> str:
    rates = data.rates
    if not rates.height:
        return '<p class="empty">No foreign-currency lines in this period.</p>'
    slots = charts.slot_count(rates)
    parts = []
    for base in _bases(rates):
        name = f"fx-rates-{base}"
        if slots >= charts.MIN_SLOTS_FOR_HISTORY:
            outliers = data.outliers.filter(pl.col("base_currency") == base)
            rows = rates.filter(pl.col("base_currency") == base)
            parts.append(chart(charts.fx_rates(rows, outliers, base), name))
        else:
            parts.append(not_enough(name, slots))
    band = (
        rates.group_by("base_currency", "currency")
        .agg(
            ((pl.col("max_rate") - pl.col("min_rate")) / pl.col("median_rate"))
            .max()
            .alias("widest_band"),
            pl.col("client_count").max().alias("clients"),
            pl.col("median_rate").sort_by("slot_start").last().alias("last_median"),
        )
        .sort("base_currency", "currency")
    )
    parts.append(
        table(
            band,
            (
                Column("currency", "Currency"),
                Column("base_currency", "Base"),
                Column("last_median", "Latest median rate", "rate"),
                Column("widest_band", "Widest band (max − min) / median", "share"),
                Column("clients", "Clients", "count"),
            ),
            caption="Does everyone get the same rate? The widest spread per currency",
        )
    )
    parts.append(f"<h3>Outlier lines ({number(data.outliers.height, 0)})</h3>")
    parts.append(
        table(
            data.outliers,
            OUTLIER_COLUMNS,
            decimals=data.decimals,
            empty="No line's rate is off the median by more than rounding explains.",
        )
    )
    return "".join(parts)


ATTRIBUTION_COLUMNS = (
    Column("currency", "Currency"),
    Column("value_change", "Change in value", "money"),
    Column("quantity_effect", "Quantity", "money"),
    Column("fx_effect", "FX", "money"),
    Column("residual", "Rounding", "money"),
)


def _client(data: ReportData, client: ClientData) -> str:
    label = f" — {client.label}" if client.label else ""
    head = (
        f'<h3 id="client-{client.client_number}">Client {client.client_number}{escape(label)}</h3>'
    )
    lines = client.lines
    bases = _bases(lines) if lines.height else []
    base = bases[0] if bases else "base"
    slots = charts.slot_count(lines)
    name = f"client-{client.client_number}"
    if not lines.height:
        body = [f'<p class="not-enough" data-chart="{name}">No balances observed for this client '
                "in the period (restricted answers without Data only).</p>"]  # fmt: skip
    elif slots >= charts.MIN_SLOTS_FOR_HISTORY:
        body = [chart(charts.client_chart(client, base), name)]
    else:
        body = [not_enough(name, slots)]
    body.append("<h4>Latest balances</h4>")
    body.append(
        table(
            client.latest,
            (
                Column("currency", "Currency"),
                Column("balance", "Balance", "quantity"),
                Column("cash", "Cash", "quantity"),
                Column("locked", "Locked", "quantity"),
                Column("value_base", f"Value ({base})", "money"),
                Column("implied_rate", "Implied rate", "rate"),
                Column("slot_start", "Slot (UTC)", "instant"),
            ),
            decimals=data.decimals,
            empty="No balances observed.",
        )
    )
    body.append("<h4>Account status</h4>")
    body.append(
        table(
            client.status,
            (
                Column("valid_from", "From (UTC)", "instant"),
                Column("valid_to", "Until (UTC)", "instant"),
                Column("observed_snapshots", "Snapshots", "count"),
                Column("erp_account_status", "ERP status", "id"),
                Column("erp_account_status_text", "ERP text"),
                Column("web_account_status", "Web status", "id"),
                Column("web_account_status_text", "Web text"),
            ),
            row_class=lambda row: "changed" if row["is_transition"] else "",
        )
    )
    body.append("<h4>Locked funds</h4>")
    body.append(
        table(
            client.locks,
            (
                Column("currency", "Currency"),
                Column("episode_start", "Locked from (UTC)", "instant"),
                Column("episode_end", "Until (UTC)", "instant"),
                Column("duration_hours", "Hours", "hours"),
                Column("peak_locked", "Peak locked", "quantity"),
                Column("last_locked", "Last locked", "quantity"),
                Column("is_stuck", "Stuck"),
            ),
            decimals=data.decimals,
            empty="Nothing was locked in the period.",
        )
    )
    body.append(f"<h4>Change in value by source ({escape(base)})</h4>")
    body.append(table(client.attribution, ATTRIBUTION_COLUMNS, empty="No consecutive snapshots."))
    return f'<div class="client" data-client="{client.client_number}">{head}{"".join(body)}</div>'


def _clients(data: ReportData) -> str:
    if not data.clients:
        return '<p class="empty">No client has a snapshot in this period.</p>'
    return "".join(_client(data, c) for c in data.clients)


def _attribution(data: ReportData) -> str:
    rows = data.attribution
    if not rows.height:
        return '<p class="empty">No consecutive snapshots in this period: nothing to attribute.</p>'
    parts = []
    for base in _bases(rows):
        of_base = rows.filter(pl.col("base_currency") == base)
        parts.append(chart(charts.attribution_chart(of_base, base), f"attribution-{base}"))
        columns = (ATTRIBUTION_COLUMNS[0], Column("clients", "Clients", "count"),
                   *ATTRIBUTION_COLUMNS[1:])  # fmt: skip
        caption = f"All clients, in {base}: change = quantity + FX + rounding, exactly"
        parts.append(table(of_base, columns, caption=caption))
    return "".join(parts)


def _reconciliation(data: ReportData) -> str:
    snapshots = data.overview["snapshots"] or 0
    rows = data.unreconciled
    lead = (
        f"<p>{number(rows.height, 0)} of {number(snapshots, 0)} snapshots report a total that "
        "differs from the sum of their lines.</p>"
        if rows.height
        else ""
    )
    return lead + table(
        rows,
        (
            Column("slot_start", "Slot (UTC)", "instant"),
            Column("client_number", "Client", "id"),
            Column("base_currency", "Base"),
            Column("line_count", "Lines reported", "count"),
            Column("lines_stored", "Lines stored", "count"),
            Column("reported_total", "Reported total", "money"),
            Column("lines_value", "Sum of lines", "money"),
            Column("difference", "Difference", "money"),
        ),
        empty=f"All {number(snapshots, 0)} snapshots report a total equal to the sum of their "
        "lines."
        if snapshots
        else "No snapshots in this period.",
    )


COVERAGE_COLUMNS = (
    Column("client_number", "Client", "id"),
    Column("label", "Label"),
    Column("scheduled_slots", "Scheduled slots", "count"),
    Column("observed_slots", "Observed", "count"),
    Column("balances_observed_slots", "With balances", "count"),
    Column("share_observed", "Share observed", "share"),
    Column("longest_gap_slots", "Longest gap (slots)", "count"),
    Column("longest_gap_start", "Gap from (UTC)", "instant"),
    Column("attempts", "Attempts", "count"),
    Column("successes", "Successes", "count"),
    Column("failures", "Failures", "count"),
    Column("success_share", "Success share", "share"),
    Column("last_success_at", "Last success (UTC)", "instant"),
    Column("last_failure_at", "Last failure (UTC)", "instant"),
    Column("last_failure_outcome", "Last failure"),
    Column("last_error", "Last error"),
)


def _coverage(data: ReportData) -> str:
    parts = []
    if data.coverage.height:
        parts.append(chart(charts.coverage_chart(data.coverage), "coverage"))
    slots = charts.slot_count(data.outcomes)
    if slots >= charts.MIN_SLOTS_FOR_HISTORY:
        parts.append(chart(charts.outcomes_chart(data.outcomes), "fetch-outcomes"))
    else:
        parts.append(not_enough("fetch-outcomes", slots))
    parts.append(table(data.coverage, COVERAGE_COLUMNS, empty="No fetch attempts in this period."))
    return "".join(parts)


def render(
    data: ReportData, pngs: dict[str, bytes] | None = None, *, rendered_at: datetime | None = None
) -> str:
    """The whole page as one string: styles, plotly.js, images and every section inline."""
    pngs = house_pngs(data) if pngs is None else pngs
    stamp = instant(rendered_at or datetime.now(UTC))
    o = data.overview
    period = (
        f"slots {instant(o['first_slot'])} – {instant(o['last_slot'])} UTC "
        f"({number(o['slots'] or 0, 0)} slots)"
        if o["first_slot"] is not None
        else "no slots"
    )
    asked = []
    if data.scope.start is not None:
        asked.append(f"from {instant(data.scope.start)}")
    if data.scope.end is not None:
        asked.append(f"to {instant(data.scope.end)}")
    if asked:
        period += f"; period asked: {' '.join(asked)} UTC"
    builders: dict[str, Callable[[ReportData], str]] = {
        "summary": _summary,
        "house": lambda d: _house(d, pngs),
        "fx": _fx,
        "clients": _clients,
        "attribution": _attribution,
        "reconciliation": _reconciliation,
        "coverage": _coverage,
    }
    nav = "".join(f'<a href="#{key}">{escape(title)}</a>' for key, title, _ in SECTIONS)
    sections = "".join(
        f'<section id="{key}" data-section="{key}"><h2>{escape(title)}</h2>'
        f'<p class="lead">{escape(lead)}</p>{builders[key](data)}</section>'
        for key, title, lead in SECTIONS
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Balance history report</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<header><h1>Balance history report</h1><p class="meta">{escape(period)} · '
        f"database <code>{escape(str(Path(data.db_path).resolve()))}</code> · rendered {stamp} UTC"
        f"</p><nav>{nav}</nav></header><main>{sections}</main>"
        f"<script>{PRINT_SCRIPT}</script></body></html>\n"
    )


def build_report(
    db_path: Path,
    out_dir: Path,
    *,
    scope: ReportScope | None = None,
    wait_seconds: float = DEFAULT_READ_WAIT_SECONDS,
    on_wait: WaitCallback | None = None,
) -> Path:
    """Render the report of `scope` (default: all history, the most eventful client) from the
    file at db_path into `out_dir/report.html` (and `house_<BASE>.png`); return the page's path.

    Raises:
        ReportError: one line, when the scope asks for a client or period the file cannot give.
        DatabaseMissing: when db_path holds no database.
        DatabaseBusy: when a writer held the file for all of `wait_seconds`.
    """
    data = collect(
        Path(db_path), scope or ReportScope(), wait_seconds=wait_seconds, on_wait=on_wait
    )
    pngs = house_pngs(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The house chart also as a file beside the page: for slides, mail, the README.
    for base, png in pngs.items():
        (out_dir / f"house_{base}.png").write_bytes(png)
    page = out_dir / PAGE_NAME
    page.write_text(render(data, pngs), encoding="utf-8")
    return page
