"""Run one piece of work on many runners at once, with bounded parallelism.

One host failing never stops the others: every host ends with an outcome,
its value or its error, reported by name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from perflab.errors import PerflabError

DEFAULT_FORKS = 16


@dataclass
class HostOutcome:
    name: str
    ok: bool
    value: Any = None
    error: str | None = None
    exit_status: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        value = self.value.to_dict() if hasattr(self.value, "to_dict") else self.value
        return {
            "runner": self.name,
            "ok": self.ok,
            "result": value,
            "error": self.error,
            "exit_status": self.exit_status,
            "seconds": round(self.seconds, 3),
        }


class FanOutReporter:
    def started(self, name: str) -> None: ...
    def finished(self, outcome: HostOutcome) -> None: ...


def _one(name: str, work: Callable[[str], Any]) -> HostOutcome:
    start = time.monotonic()
    try:
        value = work(name)
    except PerflabError as exc:
        return HostOutcome(
            name,
            False,
            error=str(exc),
            exit_status=int(exc.exit_status),
            seconds=time.monotonic() - start,
        )
    except Exception as exc:  # one host's surprise must not stop the others
        return HostOutcome(
            name,
            False,
            error=f"{type(exc).__name__}: {exc}",
            exit_status=1,
            seconds=time.monotonic() - start,
        )
    return HostOutcome(name, True, value=value, seconds=time.monotonic() - start)


def fan_out(
    names: Sequence[str],
    work: Callable[[str], Any],
    *,
    forks: int = DEFAULT_FORKS,
    reporter: FanOutReporter | None = None,
) -> list[HostOutcome]:
    """``work(name)`` for every runner, at most ``forks`` at a time; outcomes in name order."""
    reporter = reporter or FanOutReporter()
    outcomes: dict[str, HostOutcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(names)))) as pool:
        futures = {}
        for name in names:
            reporter.started(name)
            futures[pool.submit(_one, name, work)] = name
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[outcome.name] = outcome
            reporter.finished(outcome)
    return [outcomes[name] for name in names]
