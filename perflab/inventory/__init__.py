"""Ansible inventories, read as Ansible reads them.

::

    inventory = load_inventory(Path("inventories/lab/hosts.yml"))
    host = inventory.hosts["epyc-01"]
    host.address, host.port, host.user, host.key_file   # connection
    host.perflab_vars()["isolated_cpus"]                 # perflab's own variables
    inventory.group_hosts("nightly")                     # through children

YAML and INI, ``children``, ``vars``, ``group_vars/`` and ``host_vars/``,
host ranges, and Ansible's variable precedence (see :mod:`.merge`);
``Inventory.to_ansible_list()`` equals what ``ansible-inventory --list``
prints. Reading is pure except for reading the inventory and its vars files.
"""

from __future__ import annotations

from pathlib import Path

from perflab.errors import InputError
from perflab.inventory.loader import read_inventory
from perflab.inventory.model import Group, Host, Inventory
from perflab.inventory.variables import CONNECTION_VARIABLES, PERFLAB_VARIABLES

__all__ = [
    "CONNECTION_VARIABLES",
    "PERFLAB_VARIABLES",
    "Group",
    "Host",
    "Inventory",
    "load_inventory",
    "validate_inventory",
]


def load_inventory(path: Path) -> Inventory:
    """The inventory at ``path`` (a file or a directory of inventory files).

    Raises :class:`InputError` (exit status 3) if anything is wrong: one error,
    or a ``SpecErrors`` holding all of them. Nothing is returned half-read.
    """
    inventory, problems = read_inventory(Path(path))
    problems.raise_if_any()
    assert inventory is not None
    return inventory


def validate_inventory(path: Path) -> list[InputError]:
    """Every problem of the inventory at ``path``, each with file:line:col; [] if none."""
    _, problems = read_inventory(Path(path))
    return sorted(problems.errors, key=_place)


def _place(error: InputError) -> tuple[str, int, int]:
    where = error.location
    if where is None:
        return ("", 0, 0)
    return (where.file, where.line or 0, where.column or 0)
