"""Evidence classes (pure): runs comparable only when measured under the same conditions.

Two runs whose tuning fingerprint, platform, CPU model, kernel, architecture or
declared state class differ are a different *evidence class*, not a
regression: comparing them is refused unless forced, and then every difference
is named.
"""

from __future__ import annotations

from typing import Any, Protocol


class Evidence(Protocol):
    kind: str
    fingerprint: str | None
    platform: str | None
    environment: dict[str, Any]
    job_spec: dict[str, Any]
    experiment: str | None


def _facts(side: Evidence) -> dict[str, Any]:
    env = side.environment or {}
    return {
        "tuning fingerprint": side.fingerprint,
        "platform": side.platform,
        "CPU model": (env.get("cpu") or {}).get("model"),
        "CPU count": (env.get("cpu") or {}).get("count"),
        "kernel": env.get("kernel"),
        "architecture": env.get("arch"),
        "state class": (side.job_spec.get("compare") or {}).get("state", "clean"),
    }


def differences(base: Evidence, cand: Evidence) -> list[str]:
    """What differs between two runs' evidence classes, one line each (empty: same class)."""
    if base.kind == "file" or cand.kind == "file":
        return []
    left, right = _facts(base), _facts(cand)
    if base.experiment and base.experiment == cand.experiment:
        # variants of one experiment: the varied key may be a scheduling setting, part of
        # the fingerprint; everything else was held fixed on the same host
        left.pop("tuning fingerprint")
    out = []
    for key, value in left.items():
        if value != right[key]:
            shown = (
                f"{str(value)[:16]} vs {str(right[key])[:16]}"
                if key == "tuning fingerprint"
                else f"{value} vs {right[key]}"
            )
            out.append(f"{key}: {shown}")
    return out
