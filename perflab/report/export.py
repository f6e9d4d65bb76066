"""Run exports: CSV with one row per raw sample, or the run's JSON document."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from perflab.store.runs import RunView

CSV_COLUMNS = [
    "run_id",
    "job",
    "runner",
    "benchmark",
    "params",
    "metric",
    "unit",
    "direction",
    "seq",
    "repetition",
    "value",
]


def run_csv(view: RunView, rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "run_id": view.id,
                "job": view.job,
                "runner": view.runner,
                **row,
                "params": json.dumps(row["params"], sort_keys=True),
            }
        )
    return out.getvalue()


def run_json(view: RunView) -> str:
    return json.dumps(view.to_dict(), indent=2, default=str, allow_nan=False) + "\n"
