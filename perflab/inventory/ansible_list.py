"""Render an inventory the way ``ansible-inventory --list`` prints it (as parsed JSON).

Groups reachable from ``all`` appear once each with their own ``hosts`` (not
for ``all``) and ``children``; a group with neither is left out, though its
parents still name it. ``_meta.hostvars`` holds each host's merged variables
(hosts without any are left out) minus the magic names Ansible strips.
Values are made JSON-shaped as Ansible's encoder would: dates become ISO
text, tuples and sets lists, mapping keys text, ``!vault`` values
``{"__ansible_vault": ciphertext}``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from perflab.secret_vars import Vaulted

if TYPE_CHECKING:
    from perflab.inventory.model import Inventory

# Variables ansible-inventory removes from what it prints (magic and play-time names).
INTERNAL_NAMES = frozenset(
    {
        "ansible_async_path",
        "ansible_collection_name",
        "ansible_config_file",
        "ansible_dependent_role_names",
        "ansible_diff_mode",
        "ansible_facts",
        "ansible_forks",
        "ansible_inventory_sources",
        "ansible_limit",
        "ansible_play_batch",
        "ansible_play_hosts",
        "ansible_play_hosts_all",
        "ansible_play_role_names",
        "ansible_playbook_python",
        "ansible_role_name",
        "ansible_role_names",
        "ansible_run_tags",
        "ansible_skip_tags",
        "ansible_verbosity",
        "ansible_version",
        "inventory_dir",
        "inventory_file",
        "inventory_hostname",
        "inventory_hostname_short",
        "groups",
        "group_names",
        "hostvars",
        "playbook_dir",
        "play_hosts",
        "role_name",
        "role_names",
        "role_path",
        "role_uuid",
    }
)


def ansible_list(inventory: Inventory) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _group(inventory, "all", out, set())
    hostvars = {}
    for name, host in inventory.hosts.items():
        shown = {k: json_value(v) for k, v in host.vars.items() if k not in INTERNAL_NAMES}
        if shown:
            hostvars[name] = shown
    out["_meta"] = {"hostvars": hostvars, "profile": "inventory_legacy"}
    return out


def _group(inventory: Inventory, name: str, out: dict[str, Any], seen: set[str]) -> None:
    group = inventory.groups[name]
    entry: dict[str, Any] = {}
    if name != "all" and group.hosts:
        entry["hosts"] = list(group.hosts)
    if group.children:
        entry["children"] = list(group.children)
    for child in group.children:
        if child not in seen:
            seen.add(child)
            _group(inventory, child, out, seen)
    if entry:
        out[name] = entry


def json_value(value: Any) -> Any:
    """``value`` as it reads back from Ansible's JSON output."""
    if isinstance(value, Vaulted):
        return {"__ansible_vault": str(value)}
    if isinstance(value, dict):
        return {_json_key(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)
