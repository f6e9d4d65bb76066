"""`perflab compare` output: a benchstat-like table, or Markdown for a pull request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perflab.report.tables import format_value

if TYPE_CHECKING:
    from rich.console import Console

    from perflab.compare.engine import Outcome

_COLOURS = {"regressed": "red", "improved": "green", "same": "white", "unknown": "yellow",
            "not_comparable": "magenta", "waived": "cyan"}
_ICONS = {"regressed": "🔴", "improved": "🟢", "same": "⚪", "unknown": "🟡",
          "not_comparable": "⚫", "waived": "🔵"}


def _value(summary: Any, unit: str | None, counted: bool = False) -> str:
    if summary is None:
        return "-"
    if counted:  # counts are exact numbers: all their digits (docs/counters.md)
        return f"{summary.median:,.0f} {unit or ''}".rstrip()
    median = format_value(summary.median, unit or "")
    return f"{median} ±{summary.cv:.0%}" if summary.cv == summary.cv else median


def _side(row: Any, side: str) -> str:
    return _value(getattr(row, side), row.unit, row.test == "counted")


def _change(row: Any) -> str:
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


def _flags(outcome: Outcome) -> list[str]:
    seen: dict[str, None] = {}
    for row in outcome.report.rows:
        for side, flags in (("baseline", row.base_flags), ("candidate", row.cand_flags)):
            for flag in flags:
                seen.setdefault(f"{side} {row.benchmark} {row.metric}: {flag.message}", None)
    return list(seen)


def _pair_text(row: Any) -> str:
    change = "-" if row.change is None else f"{row.change:+.2%}" if row.test == "counted" \
        else f"{row.change:+.1%}"
    return f"{row.metric} {change} {row.verdict}"


def side_by_side(outcome: Outcome) -> list[tuple[str, str, str]]:
    """(benchmark, time, counts) for benchmarks measured both ways (docs/counters.md)."""
    from perflab.compare.counted import side_by_side as pairs

    return [(bench, _pair_text(time), _pair_text(work))
            for bench, time, work in pairs(outcome.report.rows)]


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
        console.print(f"[bold]finding[/bold] {escape(finding.benchmark)}: "
                      f"{escape(finding.message)}")


def render_table(console: Console, outcome: Outcome) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(f"baseline:  {outcome.base.label}\ncandidate: {outcome.cand.label}")
    s = outcome.settings
    table = Table(header_style="bold", title_justify="left",
                  title=f"noise band {s.noise_band:.1%}, confidence {s.confidence:.0%}"
                        + (f", FDR {s.fdr:.0%}" if s.fdr else ""))
    for name in ("benchmark", "metric", "baseline", "candidate", "change [CI]", "verdict", ""):
        table.add_column(name, justify="right" if name in ("baseline", "candidate") else "left")
    for i, row in enumerate(outcome.report.rows):
        verdict = outcome.row_verdict(i)
        colour = _COLOURS.get(verdict, "white")
        table.add_row(escape(row.benchmark), row.metric, _side(row, "base"),
                      _side(row, "cand"), _change(row),
                      f"[{colour}]{verdict}[/{colour}]", _q(row))
    for geo in outcome.report.summary:
        if geo.ratio is not None:
            table.add_row("[bold]geomean[/bold]", geo.metric, "", "", f"{geo.change:+.1%}",
                          geo.verdict, f"{geo.count} benchmarks")
    console.print(table)
    _render_counts(console, outcome)
    unknown = 0
    for i, row in enumerate(outcome.report.rows):
        verdict = outcome.row_verdict(i)
        unknown += verdict == "unknown"
        if verdict not in ("same", "unknown"):
            console.print(f"  [{_COLOURS.get(verdict, 'white')}]{escape(row.benchmark)}[/] "
                          f"{escape(row.reason)}")
        if i in outcome.exceeded:
            w = outcome.exceeded[i]
            console.print(f"    waiver {w['id']} expected at most {w['magnitude']:.1%}; this is "
                          "much larger, so it is reported")
    if unknown:
        console.print(f"  [yellow]{unknown} unknown[/yellow]: the confidence interval straddles "
                      "the noise band's edge; more repetitions would decide (see --json for "
                      "each reason)")
    for gate in outcome.gates:
        colour = {"pass": "green", "fail": "red", "waived": "cyan"}.get(gate.outcome, "yellow")
        console.print(f"gate [{colour}]{gate.outcome}[/{colour}] {escape(gate.benchmark)}: "
                      f"{escape(gate.result.reason)}")
    for line in _flags(outcome):
        console.print(f"[yellow]flag[/yellow] {escape(line)}")
    for line in outcome.differences:
        console.print(f"[magenta]forced across evidence classes[/magenta]: {line}")
    console.print(_counts(outcome) + ("; [red]REGRESSION[/red]" if outcome.regression else ""))


def render_markdown(outcome: Outcome) -> str:
    s = outcome.settings
    lines = [f"### perflab compare: {_counts(outcome)}", "",
             f"Baseline **{outcome.base.label}**, candidate **{outcome.cand.label}**; noise "
             f"band {s.noise_band:.1%}, {s.confidence:.0%} confidence"
             + (f", FDR {s.fdr:.0%}" if s.fdr else "") + ".", "",
             "| benchmark | metric | baseline | candidate | change [CI] | verdict |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for i, row in enumerate(outcome.report.rows):
        verdict = outcome.row_verdict(i)
        lines.append(f"| `{row.benchmark}` | {row.metric} | {_side(row, 'base')} | "
                     f"{_side(row, 'cand')} | {_change(row)} | "
                     f"{_ICONS.get(verdict, '')} {verdict} |")
    for geo in outcome.report.summary:
        if geo.ratio is not None:
            lines.append(f"| **geomean** ({geo.count}) | {geo.metric} | | | {geo.change:+.1%} | "
                         f"{geo.verdict} |")
    counts = side_by_side(outcome)
    if counts:
        lines += ["", "**Time and counts**", "", "| benchmark | time | counted |",
                  "| --- | --- | --- |"]
        lines += [f"| `{bench}` | {time} | {work} |" for bench, time, work in counts]
        if outcome.findings:
            lines += [""] + [f"- **finding** `{f.benchmark}`: {f.message}"
                             for f in outcome.findings]
    if outcome.gates:
        lines += ["", "**Gates**", ""]
        lines += [f"- {_ICONS.get('regressed' if g.outcome == 'fail' else 'same', '')} "
                  f"`{g.benchmark}`: {g.outcome}: {g.result.reason}" for g in outcome.gates]
    notes = [f"- `{r.benchmark}` {r.reason}" for r in outcome.report.rows
             if r.verdict not in ("same",)]
    flags = _flags(outcome)
    if notes or flags or outcome.differences:
        lines += ["", "<details><summary>Why, and data-quality flags</summary>", ""]
        lines += notes + [f"- flag: {f}" for f in flags]
        lines += [f"- forced across evidence classes: {d}" for d in outcome.differences]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
