"""The report's plots: matplotlib figures made without pyplot, inlined as SVG."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys
from perflab.report import plots
svg = plots.distribution("sort", "ns", [("baseline", [1.0, 2.0, 3.0]), ("candidate", [2.0, 3.0])])
svg += plots.changes("changes", [0.01, -0.02, 0.0])
svg += plots.history("sort", "ns", [("linux", [{"median": 1.0}, {"median": 2.0, "change_point": True}])])
print(svg.count("<svg"), "matplotlib.pyplot" in sys.modules)
"""


def test_plots_are_svg_and_pyplot_is_never_imported() -> None:
    """Three plots come back as inline SVG (no XML prolog) without importing pyplot: no
    global figure registry in a long-lived worker to leak a half-drawn figure into."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["3", "False"]


def test_same_input_same_svg() -> None:
    """A plot is a pure function of its data (fixed hash salt, fonts as text)."""
    from perflab.report import plots

    one = plots.distribution("x", "ns", [("a", [1.0, 2.0]), ("b", [3.0])])
    two = plots.distribution("x", "ns", [("a", [1.0, 2.0]), ("b", [3.0])])
    assert one == two
    assert one.startswith("<svg") and "<metadata>" not in one
