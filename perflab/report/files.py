"""A run's raw files as people read them: the listing, and what `results show` says."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from perflab.report.tables import format_value

if TYPE_CHECKING:
    from rich.table import Table

    from perflab.store.runs import RunView


def _bytes(value: int) -> str:
    return format_value(float(value), "B")


def files_table(rows: Iterable[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(header_style="bold")
    for name, justify in (
        ("file", "left"),
        ("size", "right"),
        ("stored", "right"),
        ("sha256", "left"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row["name"],
            _bytes(row["size"]),
            _bytes(row["stored"]),
            (row["sha256"] or "-")[:16],
            "[yellow]truncated[/yellow]" if row["truncated"] else "",
        )
    return table


def files_lines(view: RunView) -> list[str]:
    """Where the run's raw outputs are: in the store (readable from anywhere) and in the
    run folder of the machine that ran it."""
    files = view.files
    host = (view.fields.get("controller") or {}).get("host")
    folder = f"raw        {view.fields.get('raw_dir')}{f' on {host}' if host else ''}"
    if not files.get("count"):
        return [
            folder,
            "files      none in the store (a run still going, or older than "
            "the store's copy of run folders)",
        ]
    cut = len(files["truncated"])
    return [
        folder,
        f"files      {files['count']} in the store ({_bytes(files['size'])}, "
        f"{_bytes(files['stored'])} compressed{f', {cut} truncated' if cut else ''}), "
        "readable anywhere:",
        f"           perflab results files {view.id}; perflab results cat {view.id} NAME",
    ]
