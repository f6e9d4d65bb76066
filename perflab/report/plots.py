"""Plots for the HTML report, drawn with matplotlib and inlined as SVG (pure: data in,
markup out; no file, no network).

matplotlib because it installs from wheels with no browser-side code: the page
needs no JavaScript library to show a plot, opens offline, and a plot is there
even when scripts are blocked. Only a bounded number of plots is drawn (the
benchmarks that changed most); the table, not a plot per row, carries the rest.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

PLATFORM_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure and its axes, made without pyplot: a figure belongs to its caller and
    goes with it, so a plot that fails half-drawn in a long-lived worker leaves nothing in
    pyplot's global registry. (Measured end to end, the HTML page of a 10,000-row compare
    is as fast either way.)"""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.use("Agg")  # named, or reading rcParams (boxplot does) imports pyplot to pick one
    matplotlib.rcParams.update(
        {"svg.fonttype": "none", "font.size": 8, "svg.hashsalt": "perflab"}
    )  # same input, same SVG
    fig = Figure(figsize=size)
    return fig, fig.subplots()


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")  # fixed margins: "tight" draws every figure twice
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)


def distribution(title: str, unit: str, groups: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Box plot with every sample as a dot, one box per group (platform, or baseline and
    candidate)."""
    fig, ax = _figure((max(3.0, 1.1 * len(groups) + 1.5), 2.4))
    fig.subplots_adjust(left=0.2, right=0.97, top=0.86, bottom=0.14)
    labels = [name for name, _ in groups]
    data = [list(values) for _, values in groups]
    ax.boxplot(data, showfliers=False, widths=0.5)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    for i, values in enumerate(data, start=1):
        offsets = [i + ((k * 37) % 21 - 10) / 60.0 for k in range(len(values))]
        ax.plot(
            offsets,
            values,
            "o",
            markersize=2.5,
            alpha=0.6,
            color=PLATFORM_COLOURS[(i - 1) % len(PLATFORM_COLOURS)],
        )
    ax.set_title(_short(title), loc="left")
    ax.set_ylabel(unit)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def history(title: str, unit: str, series: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> str:
    """Median per run over time, one line per platform; change points as dashed lines."""
    fig, ax = _figure((5.5, 2.4))
    fig.subplots_adjust(left=0.15, right=0.97, top=0.86, bottom=0.2)
    for i, (name, points) in enumerate(series):
        colour = PLATFORM_COLOURS[i % len(PLATFORM_COLOURS)]
        xs = list(range(len(points)))
        ax.plot(xs, [p["median"] for p in points], "-o", markersize=3, color=colour, label=name)
        for x, point in zip(xs, points, strict=True):
            if point.get("change_point"):
                ax.axvline(x - 0.5, color=colour, linestyle="--", alpha=0.8)
    ax.set_title(_short(title), loc="left")
    ax.set_xlabel("run (oldest first); dashed: change point")
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _svg(fig)


def changes(title: str, values: Sequence[float]) -> str:
    """Histogram of the changes of every compared benchmark (percent)."""
    fig, ax = _figure((5.5, 2.4))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.86, bottom=0.2)
    ax.hist([v * 100.0 for v in values], bins=60, color=PLATFORM_COLOURS[0])
    ax.set_title(title, loc="left")
    ax.set_xlabel("change (%)")
    ax.set_ylabel("benchmarks")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    return _svg(fig)


def _short(text: str, width: int = 70) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= width else text[: width - 1] + "…"
