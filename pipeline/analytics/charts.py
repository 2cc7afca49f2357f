"""The report's charts (plotly: hover values, zoom) and the static house chart (matplotlib PNG,
for print and the README), built from the frames of `report_data`.

Charts draw floats: a picture needs no exactness, and every figure a reader copies comes from
the tables beside the chart, which format the exact Decimals.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pipeline.analytics.report_data import ClientData

# A time series needs two points; with fewer the report says so instead of drawing a dot.
MIN_SLOTS_FOR_HISTORY = 2
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
OUTCOME_COLORS = {"ok": "#2ca02c", "restricted": "#bcbd22"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
# Status labels sit above the client chart in rows; a label is this many pixels per character
# wide (11 px font), and a chart is at least this wide, so labels that could touch go up a row.
LABEL_PX_PER_CHAR = 7.0
LABEL_ROW_PX = 17
MIN_PLOT_PX = 900.0


def color_map(currencies: Sequence[str]) -> dict[str, str]:
    """One colour per currency, the same in every chart of a report."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(currencies)))}


def slot_count(frame: pl.DataFrame, column: str = "slot_start") -> int:
    return frame[column].n_unique() if frame.height else 0


def _naive(series: pl.Series) -> list[datetime]:
    # plotly.js has no time zones: hand it UTC wall-clock times (the axes say UTC).
    return series.dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_list()


def _floats(series: pl.Series) -> list[float | None]:
    return series.cast(pl.Float64).to_list()


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        # Title top left and legend top right, both in the figure's top margin (container
        # coordinates), so neither covers a subplot's own title.
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "y": 0.985,
            "yanchor": "top",
            "font": {"size": 15},
        },
        height=height,
        template="plotly_white",
        font={"family": FONT, "size": 12},
        margin={"l": 70, "r": 20, "t": 80, "b": 40},
        hovermode="x unified",
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0.985,
            "yanchor": "top",
            "x": 1,
            "xanchor": "right",
        },
        separators=".,",  # decimal point, thousands comma
    )
    return fig


def _grid(count: int, titles: Sequence[str], shared_x: bool = True) -> tuple[go.Figure, int]:
    cols = 2 if count > 1 else 1
    rows = (count + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=shared_x,
        subplot_titles=list(titles),
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.08,
    )
    return fig, cols


def house_value(house: pl.DataFrame, base: str) -> go.Figure:
    """Value held per currency (stacked) and the total, per slot, in the base currency."""
    colors = color_map(house["currency"].to_list())
    fig = go.Figure()
    for currency in sorted(colors):
        rows = house.filter(pl.col("currency") == currency)
        fig.add_trace(
            go.Scatter(
                x=_naive(rows["slot_start"]),
                y=_floats(rows["total_value_base"]),
                name=currency,
                stackgroup="value",
                line={"width": 0.5, "color": colors[currency]},
                hovertemplate=f"%{{y:,.2f}} {base}<extra>{currency}</extra>",
            )
        )
    totals = house.group_by("slot_start").agg(pl.col("total_value_base").sum()).sort("slot_start")
    fig.add_trace(
        go.Scatter(
            x=_naive(totals["slot_start"]),
            y=_floats(totals["total_value_base"]),
            name="Total",
            line={"color": "#111", "width": 2},
            hovertemplate=f"%{{y:,.2f}} {base}<extra>Total</extra>",
        )
    )
    fig.update_yaxes(title_text=base, tickformat=",.0f")
    fig.update_xaxes(title_text="slot (UTC)")
    return _layout(fig, f"What the house holds: value per currency, in {base}", 430)


def house_holdings(house: pl.DataFrame, decimals: dict[str, int]) -> go.Figure:
    """Quantity held per currency (each in its own unit), with the locked part."""
    currencies = sorted(house["currency"].unique().to_list())
    colors = color_map(currencies)
    fig, cols = _grid(len(currencies), currencies)
    for i, currency in enumerate(currencies):
        rows = house.filter(pl.col("currency") == currency).sort("slot_start")
        places = decimals.get(currency, 8)
        x = _naive(rows["slot_start"])
        at = {"row": i // cols + 1, "col": i % cols + 1}
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_floats(rows["total_balance"]),
                name=f"{currency} held",
                line={"color": colors[currency]},
                hovertemplate=f"held %{{y:,.{places}f}} {currency}<extra></extra>",
                showlegend=False,
            ),
            **at,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_floats(rows["total_locked"]),
                name=f"{currency} locked",
                line={"color": colors[currency], "dash": "dot"},
                hovertemplate=f"locked %{{y:,.{places}f}} {currency}<extra></extra>",
                showlegend=False,
            ),
            **at,
        )
    fig.update_yaxes(tickformat=",~r")
    rows_count = (len(currencies) + cols - 1) // cols
    title = "Holdings per currency (solid: held by all clients, dotted: of which locked)"
    return _layout(fig, title, 120 + 210 * rows_count)


def fx_rates(rates: pl.DataFrame, outliers: pl.DataFrame, base: str) -> go.Figure:
    """Per currency: the median implied rate, the min-max band across clients, outliers (x)."""
    currencies = sorted(rates["currency"].unique().to_list())
    fig, cols = _grid(len(currencies), [f"{c} in {base}" for c in currencies])
    for i, currency in enumerate(currencies):
        r = rates.filter(pl.col("currency") == currency).sort("slot_start")
        at = {"row": i // cols + 1, "col": i % cols + 1}
        x = _naive(r["slot_start"])
        first = i == 0
        band = {"color": "rgba(31,119,180,0)"}
        fig.add_trace(
            go.Scatter(x=x, y=_floats(r["min_rate"]), line=band, name="min", showlegend=False,
                       hovertemplate="min %{y:,.7g}<extra></extra>"),
            **at,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_floats(r["max_rate"]),
                line=band,
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.25)",
                name="min–max across clients",
                legendgroup="band",
                showlegend=first,
                hovertemplate="max %{y:,.7g}<extra></extra>",
            ),
            **at,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_floats(r["median_rate"]),
                line={"color": "#1f77b4", "width": 1.5},
                name="median",
                legendgroup="median",
                showlegend=first,
                hovertemplate="median %{y:,.7g}<extra></extra>",
            ),
            **at,
        )
        o = outliers.filter(pl.col("currency") == currency)
        if o.height:
            fig.add_trace(
                go.Scatter(
                    x=_naive(o["slot_start"]),
                    y=_floats(o["implied_rate"]),
                    mode="markers",
                    marker={"symbol": "x", "size": 9, "color": "#d62728"},
                    name="outlier",
                    legendgroup="outlier",
                    showlegend=not any(t.name == "outlier" for t in fig.data),
                    customdata=o["client_number"].to_list(),
                    hovertemplate="outlier %{y:,.7g} (client %{customdata})<extra></extra>",
                ),
                **at,
            )
    fig.update_yaxes(tickformat=",~r")
    rows_count = (len(currencies) + cols - 1) // cols
    return _layout(fig, f"Implied FX rates in {base}", 120 + 210 * rows_count)


def label_rows(lefts: Sequence[float], widths: Sequence[float]) -> list[int]:
    """Rows for labels spanning [left, left + width] (any unit): each goes to the lowest row
    where it touches no other label; labels are placed from left to right."""
    ends: list[float] = []
    rows = [0] * len(lefts)
    for i in sorted(range(len(lefts)), key=lambda i: lefts[i]):
        row = next((r for r, end in enumerate(ends) if end <= lefts[i]), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = lefts[i] + widths[i]
        rows[i] = row
    return rows


def _status_label(row: dict[str, Any]) -> tuple[str, str]:
    parts, details = [], []
    if row["prev_erp_account_status"] != row["erp_account_status"]:
        parts.append(f"ERP {row['prev_erp_account_status']}→{row['erp_account_status']}")
        details.append(
            f"ERP status {row['erp_account_status']} {row['erp_account_status_text'] or ''}"
        )
    if row["prev_web_account_status"] != row["web_account_status"]:
        parts.append(f"web {row['prev_web_account_status']}→{row['web_account_status']}")
        details.append(
            f"web status {row['web_account_status']} {row['web_account_status_text'] or ''}"
        )
    return ", ".join(parts) or "status", "<br>".join(d.strip() for d in details)


def client_chart(client: ClientData, base: str) -> go.Figure:
    """One client's value, cash and locked value over time (top) and value per currency
    (bottom), in the base currency; status changes as dashed lines with labels above."""
    lines = client.lines
    per_slot = (
        lines.group_by("slot_start")
        .agg(
            pl.col("value_base").cast(pl.Float64).sum().alias("value"),
            pl.col("cash_value").sum(),
            pl.col("locked_value").sum(),
        )
        .sort("slot_start")
    )
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.55, 0.45])  # fmt: skip
    x = _naive(per_slot["slot_start"])
    # value = cash + locked: the two stack up to the value line.
    for column, name, color in (
        ("cash_value", "cash", "#2ca02c"),
        ("locked_value", "locked", "#d62728"),
    ):
        fig.add_trace(
            go.Scatter(x=x, y=per_slot[column].to_list(), name=name, stackgroup="value",
                       line={"color": color, "width": 0.5, "shape": "hv"},
                       hovertemplate=f"%{{y:,.2f}} {base}<extra>{name}</extra>"),
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=per_slot["value"].to_list(), name="value",
                   line={"color": "#111", "width": 1.5, "shape": "hv"},
                   hovertemplate=f"%{{y:,.2f}} {base}<extra>value</extra>"),
        row=1, col=1,
    )  # fmt: skip
    colors = color_map(lines["currency"].to_list())
    for currency in sorted(colors):
        c = lines.filter(pl.col("currency") == currency)
        fig.add_trace(
            go.Scatter(
                x=_naive(c["slot_start"]),
                y=_floats(c["value_base"]),
                name=currency,
                stackgroup="currencies",
                line={"width": 0.5, "color": colors[currency], "shape": "hv"},
                hovertemplate=f"%{{y:,.2f}} {base}<extra>{currency}</extra>",
            ),
            row=2,
            col=1,
        )
    _mark_status_changes(fig, client.status, x)
    fig.update_yaxes(title_text=f"total, {base}", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text=f"per currency, {base}", tickformat=",.0f", row=2, col=1)
    fig.update_xaxes(title_text="slot (UTC)", row=2, col=1)
    title = f"Client {client.client_number}: value, cash and locked ({base})"
    return _layout(fig, title, 560)


def _mark_status_changes(fig: go.Figure, status: pl.DataFrame, x: list[datetime]) -> None:
    changes = status.filter(pl.col("is_transition")).sort("valid_from")
    if not changes.height or len(x) < 2:
        return
    span = (max(x) - min(x)).total_seconds() or 1.0
    whens = _naive(changes["valid_from"])
    starts = [(t - min(x)).total_seconds() for t in whens]
    labels = [_status_label(row) for row in changes.iter_rows(named=True)]
    widths = [(len(text) * LABEL_PX_PER_CHAR + 10) / MIN_PLOT_PX * span for text, _ in labels]
    # A label that would run past the right edge hangs to the left of its line instead.
    flipped = [start + width > span for start, width in zip(starts, widths, strict=True)]
    lefts = [s - w if f else s for s, w, f in zip(starts, widths, flipped, strict=True)]
    rows = label_rows(lefts, widths)
    for when, (text, detail), row, flip in zip(whens, labels, rows, flipped, strict=True):
        fig.add_vline(x=when, line={"color": "#d62728", "dash": "dash", "width": 1})
        fig.add_annotation(
            x=when,
            y=1.0,
            xref="x",
            yref="paper",
            yanchor="bottom",
            xanchor="right" if flip else "left",
            yshift=4 + row * LABEL_ROW_PX,
            text=text,
            hovertext=f"{when:%Y-%m-%d %H:%M} UTC<br>{detail}",
            showarrow=False,
            font={"size": 11, "color": "#b22222"},
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_layout(margin={"t": 70 + (max(rows) + 1) * LABEL_ROW_PX})


def attribution_chart(attribution: pl.DataFrame, base: str) -> go.Figure:
    """Per currency, the period's change in value from quantity and from FX."""
    rows = attribution.sort("currency")
    fig = go.Figure()
    for column, name, color in (
        ("quantity_effect", "quantity (deposits, withdrawals, trades)", "#1f77b4"),
        ("fx_effect", "FX (the market)", "#ff7f0e"),
    ):
        fig.add_trace(
            go.Bar(x=rows["currency"].to_list(), y=_floats(rows[column]), name=name,
                   marker_color=color, hovertemplate=f"%{{y:,.2f}} {base}<extra>{name}</extra>")
        )  # fmt: skip
    fig.update_layout(barmode="group")
    fig.add_hline(y=0, line={"color": "#111", "width": 1})
    fig.update_yaxes(title_text=base, tickformat=",.0f")
    fig = _layout(fig, f"Change in value over the period by source ({base})", 380)
    fig.update_layout(hovermode="x")
    return fig


def coverage_chart(coverage: pl.DataFrame) -> go.Figure:
    """Per client, the share of scheduled slots observed, and observed with balances."""
    rows = coverage.filter(pl.col("scheduled_slots").is_not_null()).sort("client_number")
    clients = [str(c) for c in rows["client_number"].to_list()]
    with_balances = rows["balances_observed_slots"] / rows["scheduled_slots"]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=clients,
            y=rows["share_observed"].to_list(),
            name="any answer",
            marker_color="#9ecae1",
            hovertemplate="%{y:.1%}<extra>any answer</extra>",
        )
    )
    fig.add_trace(go.Bar(x=clients, y=with_balances.to_list(), name="with balances",
                         marker_color="#1f77b4",
                         hovertemplate="%{y:.1%}<extra>with balances</extra>"))  # fmt: skip
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(type="category", title_text="client")
    fig = _layout(fig, "Share of scheduled slots observed per client", 340)
    fig.update_layout(hovermode="x")
    return fig


def outcomes_chart(outcomes: pl.DataFrame) -> go.Figure:
    """HTTP attempts per slot, stacked by outcome word (failures in shades of red)."""
    fig = go.Figure()
    reds = iter(("#d62728", "#ff9896", "#8c564b", "#e377c2", "#7f7f7f", "#c49c94", "#f7b6d2"))
    for outcome in sorted(
        outcomes["outcome"].unique().to_list(), key=lambda o: (o not in OUTCOME_COLORS, o)
    ):
        rows = outcomes.filter(pl.col("outcome") == outcome).sort("slot_start")
        color = OUTCOME_COLORS.get(outcome) or next(reds, "#444")
        fig.add_trace(go.Bar(x=_naive(rows["slot_start"]), y=rows["attempts"].to_list(),
                             name=outcome, marker_color=color,
                             hovertemplate=f"%{{y:,}}<extra>{outcome}</extra>"))  # fmt: skip
    fig.update_layout(barmode="stack", bargap=0.1)
    fig.update_yaxes(title_text="attempts")
    fig.update_xaxes(title_text="slot (UTC)")
    return _layout(fig, "Fetch attempts per slot by outcome", 320)


def house_value_png(house: pl.DataFrame, base: str, *, dpi: int = 110) -> bytes:
    """The house chart as a static PNG (stacked value per currency and the total)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    colors = color_map(house["currency"].to_list())
    wide = (
        house.pivot(on="currency", index="slot_start", values="total_value_base")
        .sort("slot_start")
        .fill_null(0)
    )
    x = wide["slot_start"].dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_numpy()
    currencies = sorted(colors)
    values = [wide[c].cast(pl.Float64).to_numpy() for c in currencies]
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=dpi)
    ax.stackplot(x, *values, labels=currencies, colors=[colors[c] for c in currencies],
                 alpha=0.85, linewidth=0)  # fmt: skip
    ax.plot(x, sum(values), color="#111", linewidth=1.6, label="Total")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel(base)
    ax.set_xlabel("slot (UTC)")
    ax.set_title(f"What the house holds: value per currency, in {base}", loc="left")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))  # type: ignore[no-untyped-call]
    ax.margins(x=0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
