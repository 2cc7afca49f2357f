"""The report page's fixed parts: its sections (in order), styles and print script."""

from __future__ import annotations

# (anchor, title, one sentence saying what the section answers)
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "The period at a glance."),
    (
        "house",
        "House holdings and value",
        "What all clients hold together (what the house owes them), per currency, per slot: "
        "the value in the accounting currency and the quantities held and locked. A client not "
        "observed in a slot is not carried into it.",
    ),
    (
        "fx",
        "Implied FX rates",
        "Every line implies a rate (value ÷ balance). Per currency and slot: the median across "
        "clients, the min–max band, and the lines the 2-decimal rounding of the value cannot "
        "explain (outliers, marked ×).",
    ),
    (
        "clients",
        "Clients",
        "The selected clients' value, cash and locked funds over time (cash and locked valued at "
        "each line's own rate), account status changes marked, their locks and what moved their "
        "value.",
    ),
    (
        "attribution",
        "Value attribution",
        "The change in value over the period split into quantity (deposits, withdrawals, "
        "trades, at the previous rate), FX (the market, on the current balance) and the "
        "rounding of the reported values; the three add up exactly.",
    ),
    (
        "reconciliation",
        "Reconciliation exceptions",
        "Snapshots whose reported total (TotalFloatingBalance) is not the sum of their lines.",
    ),
    (
        "coverage",
        "Coverage and fetch health",
        "How much of the schedule each client was observed in, and how fetching went: "
        "attempts, failures and the last error (never a secret).",
    ),
)

CSS = """
:root { --ink: #1b1f24; --muted: #5c6670; --rule: #d8dee4; --band: #f6f8fa; --neg: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--rule); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 4px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 24px 0 6px; }
h4 { font-size: 13px; margin: 16px 0 4px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.meta, .lead, .note, caption { color: var(--muted); }
.lead { margin: 0 0 12px; max-width: 900px; }
code { font-size: 12px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 8px 0 12px; }
nav a { color: #0b5cad; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.kpi { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px; }
.kpi-label { color: var(--muted); font-size: 12px; }
.kpi-value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.kpi-note { color: var(--muted); font-size: 12px; }
.chart { margin: 8px 0 16px; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 4px 0 12px;
  border: 1px solid var(--rule); border-radius: 4px; }
table { border-collapse: collapse; font-size: 13px; width: max-content; min-width: 100%; }
caption { caption-side: top; text-align: left; padding: 6px 8px; font-size: 12px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--rule); white-space: nowrap; }
th { background: var(--band); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.txt, th.txt { text-align: left; }
td.neg { color: var(--neg); }
tbody tr:nth-child(even) { background: #fbfcfd; }
tr.changed td { background: #fff4e5; }
.empty, .not-enough { color: var(--muted); font-style: italic; padding: 8px 0; }
.not-enough { border: 1px dashed var(--rule); border-radius: 4px; padding: 16px; }
.client { border-left: 3px solid var(--rule); padding-left: 14px; margin-bottom: 24px; }
.print-only { display: none; max-width: 100%; }
footer { height: 32px; }
@media print {
  body { font-size: 11px; }
  nav, .modebar-container { display: none !important; }
  .screen-only.has-print-twin { display: none; }
  .print-only { display: block; }
  .table-wrap { overflow: visible; border: 0; }
  table { width: 100%; min-width: 0; }
  th, td { white-space: normal; }
  h2 { break-after: avoid; }
  .chart, .kpis, tr { break-inside: avoid; }
}
"""

# Interactive charts are sized to the window; a printed page is narrower, so redraw them at the
# page's width before printing and back after. The house chart prints as its static PNG twin.
PRINT_SCRIPT = """
document.querySelectorAll('figure.chart').forEach(function (figure) {
  var twin = figure.nextElementSibling;
  if (twin && twin.classList.contains('print-only')) { figure.classList.add('has-print-twin'); }
});
function resizeCharts() {
  document.querySelectorAll('.js-plotly-plot').forEach(function (div) {
    Plotly.Plots.resize(div);
  });
}
window.addEventListener('beforeprint', resizeCharts);
window.addEventListener('afterprint', resizeCharts);
"""
