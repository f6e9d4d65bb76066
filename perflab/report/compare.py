"""`perflab compare` output: a benchstat-like table, or Markdown for a pull request."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from perflab.report.tables import format_value

if TYPE_CHECKING:
    from rich.console import Console

    from perflab.compare.engine import Outcome

_COLOURS = {
    "regressed": "red",
    "improved": "green",
    "same": "white",
    "unknown": "yellow",
    "not_comparable": "magenta",
    "waived": "cyan",
}
_ICONS = {
    "regressed": "🔴",
    "improved": "🟢",
    "same": "⚪",
    "unknown": "🟡",
    "not_comparable": "⚫",
    "waived": "🔵",
}


def _value(summary: Any, unit: str | None, counted: bool = False) -> str:
    if summary is None:
        return "-"
    if counted:  # counts are exact numbers: all their digits (docs/counters.md)
        return f"{summary.median:,.0f} {unit or ''}".rstrip()
    median = format_value(summary.median, unit or "")
    cv = summary.cv
    return f"{median} ±{cv:.0%}" if cv is not None and math.isfinite(cv) else median


def _side(row: Any, side: str) -> str:
    return _value(getattr(row, side), row.unit, row.test == "counted")


def _change(row: Any) -> str:
    if getattr(row, "exact", False) and row.base is not None and row.cand is not None:
        return f"{row.base.median:g} → {row.cand.median:g} (exact)"
    if row.change is None:
        return "-"
    text = f"{row.change:+.1%}"
    if row.ratio_ci is not None:
        low, high = row.ratio_ci
        text += f" [{low - 1:+.1%}, {high - 1:+.1%}]"
    return text


def _q(row: Any) -> str:
    return "" if row.qvalue is None else f"q={row.qvalue:.3g}"


def _counts(outcome: Outcome) -> str:
    counts: dict[str, int] = {}
    for i in range(len(outcome.report.rows)):
        verdict = outcome.row_verdict(i)
        counts[verdict] = counts.get(verdict, 0) + 1
    order = ("regressed", "improved", "same", "unknown", "waived", "not_comparable")
    return ", ".join(f"{counts[v]} {v.replace('_', ' ')}" for v in order if counts.get(v))


def _flags(outcome: Outcome, rows: list[int] | None = None) -> list[str]:
    """Data-quality flags of the rows shown (all rows when ``rows`` is None)."""
    seen: dict[str, None] = {}
    picked = outcome.report.rows if rows is None else [outcome.report.rows[i] for i in rows]
    for row in picked:
        for side, flags in (("baseline", row.base_flags), ("candidate", row.cand_flags)):
            for flag in flags:
                seen.setdefault(f"{side} {row.benchmark} {row.metric}: {flag.message}", None)
    return list(seen)


QUIET = ("same", "unknown")
_ORDER = {"regressed": 0, "improved": 1, "waived": 2, "not_comparable": 3, "unknown": 4, "same": 5}


def shown_rows(outcome: Outcome, show_all: bool) -> tuple[list[int], int]:
    """Row indices to print, changes first (regressed, improved, waived, not comparable),
    and how many rows unchanged within noise or undecided were left out."""
    verdicts = [outcome.row_verdict(i) for i in range(len(outcome.report.rows))]
    order = sorted(range(len(verdicts)), key=lambda i: _ORDER.get(verdicts[i], 6))
    if show_all:
        return order, 0
    kept = [
        i
        for i in order
        if verdicts[i] not in QUIET or getattr(outcome.report.rows[i], "unmeasured", False)
    ]
    return kept, len(order) - len(kept)


def hidden_line(hidden: int) -> str:
    return (
        f"{hidden:,} benchmark{'s' if hidden != 1 else ''} unchanged within noise or "
        "undecided; `--all` shows them"
    )


def _geo_change(geo: Any) -> str:
    text = f"{geo.change:+.1%}"
    if geo.ratio_ci is not None:
        text += f" [{geo.ratio_ci[0] - 1:+.1%}, {geo.ratio_ci[1] - 1:+.1%}]"
    return text


def _fit(console: Console, table: Any) -> None:
    """Not on a terminal (a pipe, a CI log), the console is as wide as the table needs:
    names are never cut (on a terminal, long names wrap instead)."""
    from rich.measure import Measurement

    isatty = getattr(console.file, "isatty", None)
    if isatty is not None and isatty():
        return
    need = Measurement.get(console, console.options.update_width(100_000), table).maximum
    console.width = max(console.width, need)


def _runs(outcome: Outcome) -> list[str]:
    """What the decisions allowed for between runs: one line (a range over the rows)."""
    rows = [r for r in outcome.report.rows if getattr(r, "runs", None)]
    if not rows:
        return []
    shown = _span([r.run_spread or 0.0 for r in rows], "{:.0%}", "-")
    runs = rows[0].runs
    line = f"runs: baseline {runs[0]}, candidate {runs[1]}; run-to-run spread allowed for {shown}"
    sources = {
        r.run_spread_source.split(" learned from ")[-1].split("; ")[0]
        for r in rows
        if " learned from " in r.run_spread_source
    }
    if any("assumed" in r.run_spread_source for r in rows):
        line += (
            " (single-run baseline and no history: assumed, which widens the decision; "
            "see docs/comparing.md)"
        )
    elif sources:
        line += f" (learned from {sorted(sources)[0]})"
    return [line, *_outliers(rows)]


def _outliers(rows: list[Any]) -> list[str]:
    """One line per earlier run that makes most of the learned spread of some rows."""
    from perflab.compare.runs import spread_outliers

    lines = []
    for found in spread_outliers(rows):
        shifts = _span(found["shift"], "{:+.0%}", " .. ")
        without = _span(found["spread_without"], "{:.0%}", "-")
        lines.append(
            f"one earlier run, {found['run']} ({shifts} from the others), makes most of the "
            f"learned spread of {found['rows']} of {found['of_rows']} rows ({without} without "
            "it): if it was a code change rather than drift, declare the spread "
            "(--run-spread) or compare interleaved (perflab ab)"
        )
    return lines


def _span(values: list[float], form: str, sep: str) -> str:
    """'low<sep>high' of ``values`` in ``form``, or one figure where both print alike."""
    low, high = form.format(min(values)), form.format(max(values))
    return low if low == high else f"{low}{sep}{high}"


def _notes(console: Console, outcome: Outcome, rows: list[int] | None = None) -> None:
    """Gates, what was allowed for between runs, flags (of the rows shown), forced
    differences."""
    from rich.markup import escape

    for gate in outcome.gates:
        colour = {"pass": "green", "fail": "red", "waived": "cyan"}.get(gate.outcome, "yellow")
        console.print(
            f"gate [{colour}]{gate.outcome}[/{colour}] {escape(gate.benchmark)}: "
            f"{escape(gate.result.reason)}"
        )
    for line in _runs(outcome):
        console.print(escape(line))
    for line in _flags(outcome, rows):
        console.print(f"[yellow]flag[/yellow] {escape(line)}")
    for line in outcome.differences:
        console.print(f"[magenta]forced across evidence classes[/magenta]: {line}")


def _pair_text(row: Any) -> str:
    change = (
        "-"
        if row.change is None
        else f"{row.change:+.2%}"
        if row.test == "counted"
        else f"{row.change:+.1%}"
    )
    return f"{row.metric} {change} {row.verdict}"


def side_by_side(outcome: Outcome) -> list[tuple[str, str, str]]:
    """(benchmark, time, counts) for benchmarks measured both ways (docs/counters.md)."""
    from perflab.compare.counted import side_by_side as pairs

    return [
        (bench, _pair_text(time), _pair_text(work))
        for bench, time, work in pairs(outcome.report.rows)
    ]


def _render_counts(console: Console, outcome: Outcome) -> None:
    from rich.markup import escape
    from rich.table import Table

    rows = side_by_side(outcome)
    if not rows:
        return
    table = Table(header_style="bold", title="time and counts", title_justify="left")
    for name in ("benchmark", "time", "counted"):
        table.add_column(name)
    for bench, time, work in rows:
        table.add_row(escape(bench), time, work)
    console.print(table)
    for finding in outcome.findings:
        console.print(
            f"[bold]finding[/bold] {escape(finding.benchmark)}: {escape(finding.message)}"
        )


def render_table(console: Console, outcome: Outcome, *, show_all: bool = False) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(f"baseline:  {outcome.base.label}\ncandidate: {outcome.cand.label}")
    s = outcome.settings
    table = Table(
        header_style="bold",
        title_justify="left",
        title=f"noise band {s.noise_band:.1%}, confidence {s.confidence:.0%}"
        + (f", FDR {s.fdr:.0%}" if s.fdr else ""),
    )
    for name in ("benchmark", "metric", "baseline", "candidate", "change [CI]", "verdict", ""):
        table.add_column(
            name, justify="right" if name in ("baseline", "candidate") else "left", overflow="fold"
        )
    rows, hidden = shown_rows(outcome, show_all)
    for i in rows:
        row = outcome.report.rows[i]
        verdict = outcome.row_verdict(i)
        colour = _COLOURS.get(verdict, "white")
        table.add_row(
            escape(row.benchmark),
            row.metric,
            _side(row, "base"),
            _side(row, "cand"),
            _change(row),
            f"[{colour}]{verdict}[/{colour}]",
            _q(row),
        )
    for geo in outcome.report.summary:
        if geo.ratio is not None:
            table.add_row(
                "[bold]geomean[/bold]",
                geo.metric,
                "",
                "",
                _geo_change(geo),
                geo.verdict,
                f"{geo.count} benchmarks",
            )
    _fit(console, table)
    console.print(table)
    if hidden:
        console.print(hidden_line(hidden))
    _render_counts(console, outcome)
    unknown = 0
    for i in rows:
        row = outcome.report.rows[i]
        verdict = outcome.row_verdict(i)
        unknown += verdict == "unknown"
        if verdict not in ("same", "unknown") or row.unmeasured:
            console.print(
                f"  [{_COLOURS.get(verdict, 'white')}]{escape(row.benchmark)}[/] "
                f"{escape(row.reason)}"
            )
        if i in outcome.exceeded:
            w = outcome.exceeded[i]
            console.print(
                f"    waiver {w['id']} expected at most {w['magnitude']:.1%}; this is "
                "much larger, so it is reported"
            )
    unknown -= len(outcome.unmeasured_rows)
    if unknown:
        console.print(
            f"  [yellow]{unknown} unknown[/yellow]: the data cannot decide (see --json "
            "for each reason and the interval that decided)"
        )
    _notes(console, outcome, rows)
    tail = "; [red]REGRESSION[/red]" if outcome.regression else ""
    if outcome.unmeasured_rows:
        tail += f"; [magenta]COULD NOT MEASURE[/magenta] {len(outcome.unmeasured_rows)} row(s)"
    console.print(_counts(outcome) + tail)


def render_markdown(outcome: Outcome, *, show_all: bool = False) -> str:
    s = outcome.settings
    lines = [
        f"### perflab compare: {_counts(outcome)}",
        "",
        f"Baseline **{outcome.base.label}**, candidate **{outcome.cand.label}**; noise "
        f"band {s.noise_band:.1%}, {s.confidence:.0%} confidence"
        + (f", FDR {s.fdr:.0%}" if s.fdr else "")
        + ".",
        "",
        "| benchmark | metric | baseline | candidate | change [CI] | verdict |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    rows, hidden = shown_rows(outcome, show_all)
    for i in rows:
        row = outcome.report.rows[i]
        verdict = outcome.row_verdict(i)
        lines.append(
            f"| `{row.benchmark}` | {row.metric} | {_side(row, 'base')} | "
            f"{_side(row, 'cand')} | {_change(row)} | "
            f"{_ICONS.get(verdict, '')} {verdict} |"
        )
    for geo in outcome.report.summary:
        if geo.ratio is not None:
            lines.append(
                f"| **geomean** ({geo.count}) | {geo.metric} | | | {geo.change:+.1%} | "
                f"{geo.verdict} |"
            )
    if hidden:
        lines += ["", hidden_line(hidden) + "."]
    counts = side_by_side(outcome)
    if counts:
        lines += [
            "",
            "**Time and counts**",
            "",
            "| benchmark | time | counted |",
            "| --- | --- | --- |",
        ]
        lines += [f"| `{bench}` | {time} | {work} |" for bench, time, work in counts]
        if outcome.findings:
            lines += [""] + [
                f"- **finding** `{f.benchmark}`: {f.message}" for f in outcome.findings
            ]
    if outcome.gates:
        lines += ["", "**Gates**", ""]
        lines += [
            f"- {_ICONS.get('regressed' if g.outcome == 'fail' else 'same', '')} "
            f"`{g.benchmark}`: {g.outcome}: {g.result.reason}"
            for g in outcome.gates
        ]
    notes = [
        f"- `{outcome.report.rows[i].benchmark}` {outcome.report.rows[i].reason}"
        for i in rows
        if outcome.report.rows[i].verdict not in ("same",)
    ]
    flags = _flags(outcome, rows)
    if notes or flags or outcome.differences:
        lines += ["", "<details><summary>Why, and data-quality flags</summary>", ""]
        lines += notes + [f"- flag: {f}" for f in flags]
        lines += [f"- forced across evidence classes: {d}" for d in outcome.differences]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
