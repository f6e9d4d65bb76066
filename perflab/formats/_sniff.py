"""Recognising a JSON format from the start of a document that does not decode.

A truncated file cannot be decoded, but its first few kilobytes usually say which tool
wrote it; the error can then name that format and the line where the document stops.
"""

from __future__ import annotations

import re

# Order matters for detection of decoded documents too (see perflab.formats._detect_json).
JSON_FORMATS: tuple[str, ...] = (
    "perflab",
    "gbench",
    "pytest-benchmark",
    "hyperfine",
    "jmh",
    "criterion",
)

_SIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("perflab", re.compile(r'"schema"\s*:\s*"perflab-result/')),
    ("pytest-benchmark", re.compile(r'"machine_info"\s*:|"stats"\s*:\s*\{\s*"min"')),
    ("gbench", re.compile(r'"(run_name|real_time|library_build_type|num_cpus)"\s*:')),
    ("hyperfine", re.compile(r'^\{\s*"results"\s*:\s*\[\s*(\{\s*"command"|$)')),
    ("jmh", re.compile(r'"(jmhVersion|primaryMetric)"\s*:')),
    ("criterion", re.compile(r'"(sampling_mode|point_estimate)"\s*:|^\{\s*"iters"\s*:')),
)


def sniff_json(head: str) -> str | None:
    """The format whose marks appear in ``head`` (the document's start), else None."""
    for fmt, sign in _SIGNS:
        if sign.search(head):
            return fmt
    return None
