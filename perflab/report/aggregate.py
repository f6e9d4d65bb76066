"""An aggregation as Markdown (an issue or pull request), CSV and JSON (pure)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from perflab.report.tables import format_value

if TYPE_CHECKING:
    from perflab.compare.aggregate import Aggregate, Cell, Row

QUIET = ("same", "unknown", "no baseline")
_ICONS = {
    "regressed": "🔴",
    "improved": "🟢",
    "same": "⚪",
    "unknown": "🟡",
    "not_comparable": "⚫",
    "waived": "🔵",
}
CSV_COLUMNS = [
    "benchmark",
    "metric",
    "unit",
    "direction",
    "platform",
    "run_id",
    "n",
    "median",
    "ci_low",
    "ci_high",
    "baseline_median",
    "change",
    "change_low",
    "change_high",
    "verdict",
    "consistency",
    "ratio_raw",
    "ratio_normalised",
]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _cell(row: Row, cell: Cell | None, platform: str, reference: str) -> str:
    if cell is None:
        return "-"
    text = format_value(cell.median, row.unit)
    if cell.verdict != "no baseline":
        text += f" {_pct(cell.change)} {_ICONS.get(cell.verdict, '')} {cell.verdict}"
    ratio = row.ratios.get(platform) or {}
    if platform != reference and ratio.get("raw") is not None:
        norm = ratio.get("normalised")
        text += f" ({ratio['raw']:.2f}× raw" + (f", {norm:.2f}× norm." if norm else "") + ")"
    return text


def shown(agg: Aggregate, show_all: bool) -> tuple[list[Row], int]:
    """Rows to print (changes first) and how many quiet ones were left out."""
    judged = any(c.verdict != "no baseline" for r in agg.rows for c in r.cells.values())
    if show_all or not judged:
        return agg.rows, 0
    loud = [r for r in agg.rows if any(v not in QUIET for v in r.verdicts)]
    loud.sort(key=lambda r: ("regressed" not in r.verdicts, "improved" not in r.verdicts))
    return loud, len(agg.rows) - len(loud)


def markdown(agg: Aggregate, *, show_all: bool = False) -> str:
    platforms = [p["platform"] for p in agg.platforms]
    counts = ", ".join(f"{n:,} {v}" for v, n in sorted(agg.counts().items()))
    lines = [
        f"### perflab report: {len(agg.rows):,} benchmark rows on {len(platforms)} "
        f"platform(s); cells: {counts}",
        "",
        "| platform | run | baseline | calibration | "
        "geomean change | geomean ratio (raw / normalised) |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for p in agg.platforms:
        geo = agg.geomean.get(p["platform"], {})
        change = (
            "; ".join(
                f"{m} {_pct(g.get('change'))} {g.get('verdict', '')}"
                for m, g in geo.items()
                if "change" in g
            )
            or "-"
        )
        ratio = (
            "; ".join(
                f"{m} {_x(g.get('ratio_raw'))} / {_x(g.get('ratio_normalised'))}"
                for m, g in geo.items()
                if "ratio_raw" in g
            )
            or "-"
        )
        cal = p.get("calibration_ns")
        lines.append(
            f"| {p['platform']} | `{p['run_id']}` | {p.get('baseline') or 'none'} | "
            f"{f'{cal:.4g} ns/iter' if cal else 'not measured'} | {change} | {ratio} |"
        )
    lines += sweep_lines(agg.sweep)
    rows, hidden = shown(agg, show_all)
    lines += [
        "",
        "| benchmark | metric | " + " | ".join(platforms) + " | consistency |",
        "| --- | --- | " + " | ".join("---:" for _ in platforms) + " | --- |",
    ]
    for row in rows:
        cells = " | ".join(_cell(row, row.cells.get(p), p, agg.reference) for p in platforms)
        lines.append(f"| `{row.benchmark}` | {row.metric} | {cells} | {row.consistency} |")
    if hidden:
        lines += [
            "",
            f"{hidden:,} benchmark{'s' if hidden != 1 else ''} unchanged within "
            "noise or undecided; `--all` shows them.",
        ]
    lines += [
        "",
        f"Ratios are against {agg.reference}; normalised ones divide out the "
        "runners' calibration probes (`perflab verify`).",
    ]
    for platform, differ in agg.differences.items():
        lines.append(
            f"- {platform} was measured unlike its baseline (compared anyway): " + "; ".join(differ)
        )
    return "\n".join(lines) + "\n"


def sweep_parts(sweep: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(part, state, what happened) for each part of a sweep run."""
    from perflab.compare.platforms import part_label

    out = []
    for part in sweep["parts"]:
        what = ": ".join(str(x) for x in (part.get("reason"), part.get("message")) if x)
        if part["state"] == "ran" and part["run_ids"]:
            what = f"run {part['run_ids'][-1]}" + (f"; {what}" if what else "")
        out.append((part_label(part), part["state"], what or "-"))
    return out


def sweep_lines(sweep: dict[str, Any] | None) -> list[str]:
    """Markdown: the sweep run's parts, so a platform that failed or was skipped is said."""
    if not sweep:
        return []
    lines = [
        "",
        f"Sweep **{sweep['sweep']}**, run `{sweep['sweep_run_id']}` "
        f"({sweep.get('trigger') or '-'}): {sweep['outcome']}; baseline policy "
        f"{sweep.get('baseline_policy') or 'current'}.",
        "",
        "| part | state | what happened |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {state} | {what.replace('|', '/')} |"
        for label, state, what in sweep_parts(sweep)
    ]
    return lines


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}×"


def csv_text(agg: Aggregate) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    runs = {p["platform"]: p["run_id"] for p in agg.platforms}
    for row in agg.rows:
        for platform, c in row.cells.items():
            ratio = row.ratios.get(platform) or {}
            lo, hi = c.change_ci or (None, None)
            writer.writerow(
                [
                    row.benchmark,
                    row.metric,
                    row.unit,
                    row.direction,
                    platform,
                    runs.get(platform),
                    c.n,
                    c.median,
                    c.ci[0],
                    c.ci[1],
                    _blank(c.baseline_median),
                    _blank(c.change),
                    _blank(lo),
                    _blank(hi),
                    c.verdict,
                    row.consistency,
                    _blank(ratio.get("raw")),
                    _blank(ratio.get("normalised")),
                ]
            )
    return out.getvalue()


def _blank(value: float | None) -> str | float:
    return "" if value is None else value
