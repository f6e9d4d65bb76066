"""The runners as the commands show them: the built-in ``local`` first, then the registered.

``local`` is this machine, reached without SSH. It is not registered (a
store shared by several controllers would not know whose machine it is), so
its row is made when asked for, with its facts read from the machine there
and then (one stdlib-only probe, no connection), and the same fields as a
registered runner's row.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from perflab.errors import HostError
from perflab.runners import LOCAL

if TYPE_CHECKING:
    from perflab.store import Store


def _local_facts() -> dict[str, Any]:
    from perflab.facts.platform import parse_platform, platform_request
    from perflab.runners import open_runner

    host = open_runner(LOCAL)
    with host.transport:
        return parse_platform(host.transport.call_hostside("probe", platform_request()))


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a container's odd user)
        return None


def local_runner() -> dict[str, Any]:
    """The ``local`` runner's row: this machine, its facts read now (None if the probe
    fails, with the reason as ``state_reason``)."""
    facts: dict[str, Any] | None = None
    reason = None
    try:
        facts = _local_facts()
    except HostError as exc:
        reason = f"facts could not be read: {exc}"
    now = datetime.now(UTC).isoformat()
    return {
        "name": LOCAL,
        "address": None,
        "port": None,
        "user": _user(),
        "key_file": None,
        "proxy_jump": None,
        "groups": [],
        "labels": {},
        "vars": {},
        "platform": facts["platform"] if facts else None,
        "state": "idle",
        "state_reason": reason,
        "state_changed_at": None,
        "facts": facts,
        "facts_at": now if facts else None,
        "host_key": None,
        "source": "built-in",
    }


def list_runners(
    store: Store, *, group: str | None = None, platform: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """``local`` (when it matches the filters) and the registered runners that match."""
    rows = store.runners.list(group=group, platform=platform, state=state)
    if group is not None or state not in (None, "idle"):
        return rows  # local is in no group, and always idle
    local = local_runner()
    if platform is not None and local["platform"] != platform:
        return rows
    return [local, *rows]


def runner_info(store: Store, name: str) -> dict[str, Any]:
    """Everything known about one runner, ``local`` included."""
    return local_runner() if name == LOCAL else store.runners.get(name)
