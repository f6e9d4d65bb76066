"""perflab through its real command line: import the inventory, check a profile with facts.

Two processes per round, each timed from fork to exit, so interpreter and
import start-up are paid twice, as a user running the commands pays them:

    perflab runner import inventory.yml
    perflab prepare --group fanout --profile profile.yml --check --facts --forks N --json

``--facts`` gathers and stores every host's platform facts (what ``perflab
runner facts`` stores) in the same probe that reads the host for the profile.
The ``perflab3`` side (``--tools perflab,perflab3,...``) times ``runner facts
--all`` as a command of its own instead (three commands, two connections a host).
Every round has a fresh ``PERFLAB_HOME`` (empty store) whose ``known_hosts``
pins the hosts' keys; no host key is ever accepted on first use.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml
from common import SETTINGS, BenchError, Target, base_env, tool
from measure import Step, StepResult

GROUP = "fanout"


def write_inventory(path: Path, targets: list[Target], known_hosts: Path) -> Path:
    """An Ansible YAML inventory, read by both perflab (`runner import`) and ansible-playbook."""
    first = targets[0]
    inventory = {
        "all": {
            "vars": {
                "ansible_user": first.user,
                "ansible_ssh_private_key_file": first.key_file,
                "ansible_python_interpreter": "/usr/bin/python3",
                # Ansible's OpenSSH checks host keys against this file only, and refuses
                # unknown ones
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts} "
                "-o GlobalKnownHostsFile=/dev/null "
                "-o StrictHostKeyChecking=yes",
            },
            "children": {
                GROUP: {
                    "hosts": {
                        t.name: {"ansible_host": t.address, "ansible_port": t.port} for t in targets
                    }
                }
            },
        }
    }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def write_profile(path: Path, wanted: dict[str, str]) -> Path:
    tasks = []
    for name, knob in SETTINGS.items():
        value = int(wanted[name])
        args = {"name": name, "value": value} if knob == "sysctl" else {"value": value}
        tasks.append({"name": f"{name} is {value}", knob: args})
    profile = {
        "name": "fanout",
        "description": "Three sysctls, checked (bench/fanout).",
        "tasks": tasks,
    }
    path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return path


class PerflabSide:
    name = "perflab"

    def __init__(
        self,
        work: Path,
        targets: list[Target],
        known_hosts: Path,
        wanted: dict[str, str],
        forks: int,
        separate: bool = False,
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.separate = separate  # facts by `runner facts --all`, not `prepare --facts`
        self.count = len(targets)
        self.known_hosts = known_hosts
        self.forks = forks
        self.inventory = write_inventory(work / "inventory.yml", targets, known_hosts)
        self.profile = write_profile(work / "profile.yml", wanted)

    def steps(self, round_dir: Path) -> list[Step]:
        home = round_dir / "perflab-home"
        home.mkdir(parents=True)
        shutil.copyfile(self.known_hosts, home / "known_hosts")
        env = {**base_env(round_dir / "home"), "PERFLAB_HOME": str(home), **self.extra_env}
        perflab = self.command()
        forks = str(self.forks)
        return [
            Step(
                "perflab-import",
                [*perflab, "runner", "import", str(self.inventory), "--json"],
                env,
                round_dir,
            ),
            *(
                [
                    Step(
                        "perflab-facts",
                        [*perflab, "runner", "facts", "--all", "--forks", forks, "--json"],
                        env,
                        round_dir,
                    )
                ]
                if self.separate
                else []
            ),
            Step(
                "perflab-prepare-check",
                [
                    *perflab,
                    "prepare",
                    "--group",
                    GROUP,
                    "--profile",
                    str(self.profile),
                    "--check",
                    "--forks",
                    forks,
                    "--json",
                    *([] if self.separate else ["--facts"]),
                ],
                env,
                round_dir,
            ),
        ]

    extra_env: dict[str, str] = {}  # noqa: RUF012 - replaced whole, never mutated

    def command(self) -> list[str]:
        return [tool("perflab")]

    def check(self, results: list[StepResult]) -> dict[str, object]:
        imported, prepared = results[0], results[-1]
        for result in results:
            if result.status != 0:
                raise BenchError(
                    f"perflab: `{result.label}` exited {result.status}: "
                    f"{(result.stderr or result.stdout)[-2000:]}"
                )
        added = json.loads(imported.stdout)["added"]
        if len(added) != self.count:
            raise BenchError(f"perflab: imported {len(added)} runners, not {self.count}")
        answer = json.loads(prepared.stdout)
        if "runners" not in answer:  # one runner: its report alone
            answer = {"runners": [{"runner": answer["host"], "ok": True, "result": answer}]}
        if self.separate:
            fact_rows = json.loads(results[1].stdout)["runners"]
        else:
            fact_rows = [
                {
                    "runner": r["runner"],
                    "ok": r["ok"],
                    "result": (r.get("result") or {}).get("facts") or {},
                }
                for r in answer["runners"]
            ]
        with_facts = [
            r
            for r in fact_rows
            if r["ok"]
            and r["result"].get("kernel")
            and r["result"]["cpu"]["count"]
            and r["result"]["memory_bytes"]
        ]
        checked = []
        for row in answer["runners"]:
            tasks = (row.get("result") or {}).get("tasks") or []
            if row["ok"] and len(tasks) == 3 and all(t["status"] == "ok" for t in tasks):
                checked.append(row["runner"])
        if len(with_facts) != self.count or len(checked) != self.count:
            failed = [r for r in fact_rows if not r["ok"]][:3]
            raise BenchError(
                f"perflab: facts on {len(with_facts)}, three settings checked on "
                f"{len(checked)} of {self.count} hosts; e.g. {failed}"
            )
        return {"hosts_with_facts": len(with_facts), "hosts_checked": len(checked)}

    def after(self, round_dir: Path) -> None:
        return None


class PerflabSeparateFacts(PerflabSide):
    """The same work as three commands: `runner facts --all` on its own connections."""

    name = "perflab3"

    def __init__(
        self,
        work: Path,
        targets: list[Target],
        known_hosts: Path,
        wanted: dict[str, str],
        forks: int,
    ) -> None:
        super().__init__(work, targets, known_hosts, wanted, forks, separate=True)


class PerflabBefore(PerflabSide):
    """The same two commands run by another checkout of perflab (``--before DIR``: a tree of
    an earlier revision, e.g. from `git archive`), as ``python -m perflab`` with that tree
    first on PYTHONPATH and this environment's libraries: a change measured against what
    came before it, in the same run."""

    name = "before"
    checkout: Path | None = None  # set by run.py from --before

    def __init__(
        self,
        work: Path,
        targets: list[Target],
        known_hosts: Path,
        wanted: dict[str, str],
        forks: int,
    ) -> None:
        super().__init__(work, targets, known_hosts, wanted, forks)
        if self.checkout is None or not (self.checkout / "perflab").is_dir():
            raise BenchError(f"--before {self.checkout}: not a perflab checkout")
        self.extra_env = {"PYTHONPATH": str(self.checkout)}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "perflab"]
