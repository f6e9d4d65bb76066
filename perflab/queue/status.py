"""``perflab status``: the runners, what holds them, what waits, and who works."""

from __future__ import annotations

import os
from typing import Any

from perflab.execute.lease import lease_key
from perflab.facts.platform import platform_name


def _runners(store: Any) -> list[dict[str, Any]]:
    leases = {lease["runner"]: lease for lease in store.leases.list()}
    local = {"system": os.uname().sysname.lower(), "arch": os.uname().machine}
    rows = [
        {
            "name": "local",
            "groups": [],
            "platform": platform_name(local),
            "state": "idle",
            "state_reason": None,
        },
        *store.runners.list(),
    ]
    out = []
    for row in rows:
        lease = leases.get(lease_key(row["name"]))
        held = lease if lease and lease["held"] else None
        state = row["state"]
        if state not in ("quarantined", "offline"):
            state = "leased" if held else ("expired" if lease and lease["expired"] else "idle")
        out.append(
            {
                "name": row["name"],
                "state": state,
                "reason": row.get("state_reason"),
                "platform": row.get("platform"),
                "groups": row.get("groups") or [],
                "lease": held and {k: held[k] for k in ("job_id", "holder", "token", "expires_at")},
            }
        )
    return out


def _workers(timeout: float = 1.0) -> dict[str, Any]:
    from perflab.queue.app import make_app
    from perflab.queue.submit import BrokerUnreachable, connect

    app = make_app()
    try:
        connect(app, timeout=3.0).release()
    except BrokerUnreachable as exc:
        return {"alive": [], "error": str(exc)}
    replies = app.control.ping(timeout=timeout) or []
    return {"alive": sorted(name for reply in replies for name in reply), "error": None}


def lab_status() -> dict[str, Any]:
    from perflab.store import open_store

    with open_store() as store:
        runners = _runners(store)
        queued = store.jobs.depth()
        active = store.jobs.list(states=("leased", "preparing", "running", "collecting"))
    return {"runners": runners, "queued": queued, "active": active, "workers": _workers()}
