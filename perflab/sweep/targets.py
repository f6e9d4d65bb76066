"""A sweep's targets, and the parts a sweep run is made of.

A target is ``platform:NAME``, ``group:NAME`` or a bare name, which must name a
group or a platform of some registered runner (a group first). An explicit
``platform:NAME`` is accepted with no runner of it yet (a lab adds machines
later); a sweep run then records that platform as skipped, with the reason.

When a sweep runs, each platform target is one part per matrix combination,
queued for an idle runner of that platform (``perflab.platform.<name>``); a
group target is one part per platform among the group's runners, queued for the
group with the group's runners of other platforms excluded. A platform whose
runners are all quarantined or offline is skipped, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.execute.lease import lease_key

if TYPE_CHECKING:
    from perflab.store import Store

UNUSABLE = ("quarantined", "offline")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")


@dataclass(frozen=True)
class Part:
    """Where one part of a sweep run goes, or why it cannot go anywhere."""

    platform: str
    kind: str  # platform | group
    target: str
    exclude: tuple[str, ...] = ()  # lease keys of runners the job may not run on
    skip: str | None = None  # why the part is skipped (no usable runner)


def _known(store: Store) -> tuple[set[str], set[str]]:
    runners = store.runners.list()
    groups = {g for r in runners for g in r["groups"]}
    platforms = {r["platform"] for r in runners if r["platform"]}
    return groups, platforms


def parse_targets(store: Store, text: str) -> list[dict[str, str]]:
    """``--targets`` (comma-separated) as ``[{"kind": ..., "name": ...}]``; exit 3 for a
    target that names nothing known."""
    groups, platforms = _known(store)
    out: list[dict[str, str]] = []
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words:
        raise InputError(
            f'expected platforms or groups, comma-separated, got "{text}"', field="--targets"
        )
    for word in words:
        kind, _, name = (
            word.partition(":") if word.startswith(("platform:", "group:")) else ("", "", word)
        )
        if not _NAME.match(name):
            raise InputError(f'expected a platform or group name, got "{word}"', field="--targets")
        if kind == "group" and name not in groups:
            raise InputError(
                f'expected a group of registered runners ({_list(groups)}), got "{name}"',
                field="--targets",
                hint="see `perflab runner list`",
            )
        if not kind:
            if name in groups:
                kind = "group"
            elif name in platforms:
                kind = "platform"
            else:
                raise InputError(
                    f"expected a platform ({_list(platforms)}) or group ({_list(groups)}) of "
                    f'registered runners, got "{name}"',
                    field="--targets",
                    hint="write platform:NAME for a platform with no runner yet; see "
                    "`perflab runner list`",
                )
        target = {"kind": kind, "name": name}
        if target not in out:
            out.append(target)
    return out


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _why_unusable(runners: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{r['name']} {r['state']}" + (f" ({r['state_reason']})" if r.get("state_reason") else "")
        for r in runners
    )


def _platform_part(store: Store, name: str) -> Part:
    runners = store.runners.list(platform=name)
    if not runners:
        return Part(name, "platform", name, skip=f"no runner of platform {name} is registered")
    if all(r["state"] in UNUSABLE for r in runners):
        return Part(
            name,
            "platform",
            name,
            skip=f"no usable runner of platform {name}: {_why_unusable(runners)}",
        )
    return Part(name, "platform", name)


def _group_parts(store: Store, group: str) -> list[Part]:
    runners = store.runners.list(group=group)
    if not runners:
        return [Part(f"group:{group}", "group", group, skip=f"no runner in group {group}")]
    by_platform: dict[str, list[dict[str, Any]]] = {}
    for runner in runners:
        by_platform.setdefault(runner["platform"] or "unknown", []).append(runner)
    parts = []
    for platform, members in sorted(by_platform.items()):
        others = tuple(lease_key(r["name"]) for r in runners if r not in members)
        if platform == "unknown":
            names = ", ".join(r["name"] for r in members)
            parts.append(
                Part(
                    platform,
                    "group",
                    group,
                    others,
                    skip=f"runners of group {group} with no known platform: {names} "
                    "(`perflab runner facts` reads it)",
                )
            )
        elif all(r["state"] in UNUSABLE for r in members):
            parts.append(
                Part(
                    platform,
                    "group",
                    group,
                    others,
                    skip=f"no usable runner of platform {platform} in group "
                    f"{group}: {_why_unusable(members)}",
                )
            )
        else:
            parts.append(Part(platform, "group", group, others))
    return parts


def plan(store: Store, targets: list[dict[str, str]]) -> list[Part]:
    """The parts of a sweep run over ``targets`` now (before matrix combinations); a
    platform reached through two targets is one part."""
    parts: list[Part] = []
    for target in targets:
        found = (
            _platform_part(store, target["name"])
            if target["kind"] == "platform"
            else _group_parts(store, target["name"])
        )
        for part in found if isinstance(found, list) else [found]:
            same = [i for i, p in enumerate(parts) if p.platform == part.platform]
            if not same:
                parts.append(part)
            elif parts[same[0]].skip is not None and part.skip is None:
                parts[same[0]] = part  # reached through another target after all
    return parts
