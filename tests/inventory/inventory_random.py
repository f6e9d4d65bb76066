"""Random inventories for comparing perflab with Ansible beyond hand-written cases.

Each seed gives a YAML or INI inventory: groups linked into a random DAG
(children), hosts in zero to three groups, variables v0..v3 set at random on
``all``, groups and each listing of a host, ``ansible_group_priority`` here and there, and
group_vars/ and host_vars/ files. INI sections come in random order, so
children are often named before they are defined; INI values come from a
list that covers Ansible's typing rules.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

INI_VALUES = [
    "1",
    "007",
    "True",
    "yes",
    "'quoted'",
    "[1, 2]",
    "{'a': 1}",
    "None",
    "x y",
    "1.5",
    "-3",
    "a=b",
    "",
    "0,16",
    "2-15",
]
YAML_VALUES: list[Any] = [1, "s", True, None, [1, "a"], {"k": 2}, "007", 1.5]


class _Draw:
    def __init__(self, seed: int, fmt: str) -> None:
        self.r = random.Random(seed)
        self.fmt = fmt
        self.groups = [f"g{i}" for i in range(self.r.randint(1, 7))]
        self.edges = [
            (p, c)
            for i, p in enumerate(self.groups)
            for c in self.groups[i + 1 :]
            if self.r.random() < 0.3
        ]
        self.member = {
            f"h{i}": self.r.sample(self.groups, self.r.randint(0, 3) % (len(self.groups) + 1))
            for i in range(self.r.randint(1, 8))
        }
        self.gvars = {g: self.variables() for g in [*self.groups, "all"]}
        for g in self.groups:
            if self.r.random() < 0.3:
                priority = self.r.randint(1, 5)
                self.gvars[g]["ansible_group_priority"] = (
                    priority if fmt == "yaml" else str(priority)
                )
        self.hvars = {h: self.variables() for h in self.member}

    def variables(self) -> dict[str, Any]:
        values = INI_VALUES if self.fmt == "ini" else YAML_VALUES
        return {
            f"v{self.r.randint(0, 3)}": self.r.choice(values) for _ in range(self.r.randint(0, 2))
        }

    def occurrence(self, host: str) -> dict[str, Any]:
        """A host's variables where it is listed: its own, or new ones (later ones win)."""
        return self.hvars[host] if self.r.random() < 0.5 else self.variables()

    def hosts_of(self, group: str) -> list[str]:
        return [h for h, groups in self.member.items() if group in groups]

    def children_of(self, group: str) -> list[str]:
        return [c for p, c in self.edges if p == group]


def _yaml(draw: _Draw) -> str:
    doc: dict[str, Any] = {}
    order = list(draw.groups)
    draw.r.shuffle(order)
    for g in order:
        body: dict[str, Any] = {}
        if draw.hosts_of(g):
            body["hosts"] = {h: draw.occurrence(h) or None for h in draw.hosts_of(g)}
        if draw.children_of(g):
            body["children"] = dict.fromkeys(draw.children_of(g))
        if draw.gvars[g]:
            body["vars"] = draw.gvars[g]
        doc[g] = body or None
    loose = [h for h, groups in draw.member.items() if not groups]
    top: dict[str, Any] = {}
    if draw.gvars["all"]:
        top["vars"] = draw.gvars["all"]
    if loose:
        top["hosts"] = {h: draw.hvars[h] or None for h in loose}
    if top:
        doc["all"] = top
    return yaml.safe_dump(doc, sort_keys=False)


def _ini_host(draw: _Draw, host: str) -> str:
    pairs = [
        f"{k}={json.dumps(v) if ' ' in v or not v else v}" for k, v in draw.occurrence(host).items()
    ]
    return " ".join([host, *pairs])


def _ini(draw: _Draw) -> str:
    sections: list[list[str]] = []
    for g in draw.groups:
        sections.append([f"[{g}]", *(_ini_host(draw, h) for h in draw.hosts_of(g))])
        if draw.children_of(g):
            sections.append([f"[{g}:children]", *draw.children_of(g)])
        if draw.gvars[g]:
            sections.append([f"[{g}:vars]", *(f"{k}={v}" for k, v in draw.gvars[g].items())])
    if draw.gvars["all"]:
        sections.append(["[all:vars]", *(f"{k}={v}" for k, v in draw.gvars["all"].items())])
    draw.r.shuffle(sections)
    loose = [_ini_host(draw, h) for h, groups in draw.member.items() if not groups]
    return "\n".join([*loose, *(line for s in sections for line in s)]) + "\n"


def write_random_inventory(seed: int, fmt: str, root: Path) -> Path:
    """Write one random inventory (and its vars files) under ``root``; its path."""
    draw = _Draw(seed, fmt)
    root.mkdir(parents=True, exist_ok=True)
    source = root / ("hosts.yml" if fmt == "yaml" else "hosts.ini")
    source.write_text(_yaml(draw) if fmt == "yaml" else _ini(draw))
    for folder, names in (("group_vars", [*draw.groups, "all"]), ("host_vars", draw.member)):
        for name in names:
            if draw.r.random() < 0.3:
                (root / folder).mkdir(exist_ok=True)
                value = {f"v{draw.r.randint(0, 3)}": f"{folder}-{name}"}
                (root / folder / f"{name}.yml").write_text(yaml.safe_dump(value))
    return source
