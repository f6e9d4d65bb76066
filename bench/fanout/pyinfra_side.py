"""pyinfra: the same facts and the same three settings, as a deploy run with ``--dry``.

    pyinfra inventory.py deploy.py --dry --parallel N -v

The deploy asks for pyinfra's facts for the OS (LinuxDistribution), arch,
kernel, CPU (CpuInfo, from lscpu) and memory, then declares three
``server.sysctl`` operations (``persist=False``); each reads its sysctl on the
host when it is declared, and ``--dry`` shows the detected changes and stops
(no ``-y``: that would skip change detection). ``-v`` prints a "noop" line per
host and setting already as wanted, which is how each host is checked; the
deploy also writes the facts it got to a file per host on the controller.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from common import BenchError, Target, base_env, tool
from measure import Step, StepResult

DEPLOY = '''\
"""bench/fanout: facts, then three sysctls checked (run with --dry)."""
import json
import os

from pyinfra import host
from pyinfra.facts.hardware import CpuInfo, Memory
from pyinfra.facts.server import Arch, KernelVersion, LinuxDistribution
from pyinfra.operations import server

facts = {{"os": host.get_fact(LinuxDistribution), "arch": host.get_fact(Arch),
          "kernel": host.get_fact(KernelVersion), "cpu": host.get_fact(CpuInfo),
          "memory": host.get_fact(Memory)}}
with open(os.path.join(os.environ["FANOUT_FACTS_DIR"], host.name + ".json"), "w") as out:
    json.dump(facts, out, default=str)

for key, value in {settings!r}.items():
    server.sysctl(name=key + " is " + value, key=key, value=value, persist=False)
'''


def write_inventory(path: Path, targets: list[Target], known_hosts: Path) -> Path:
    hosts = [
        (
            t.name,
            {
                "ssh_hostname": t.address,
                "ssh_port": t.port,
                "ssh_user": t.user,
                "ssh_key": t.key_file,
                "ssh_known_hosts_file": str(known_hosts),
                "ssh_strict_host_key_checking": "yes",
                "ssh_allow_agent": False,
                "ssh_look_for_keys": False,
            },
        )
        for t in targets
    ]
    path.write_text(f"fanout = {hosts!r}\n", encoding="utf-8")
    return path


class PyinfraSide:
    name = "pyinfra"

    def __init__(
        self,
        work: Path,
        targets: list[Target],
        known_hosts: Path,
        wanted: dict[str, str],
        forks: int,
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.count = len(targets)
        self.forks = forks
        self.inventory = write_inventory(work / "inventory.py", targets, known_hosts)
        self.deploy = work / "deploy.py"
        self.deploy.write_text(DEPLOY.format(settings=wanted), encoding="utf-8")
        self.wanted = wanted
        self.facts_dir: Path | None = None

    def steps(self, round_dir: Path) -> list[Step]:
        self.facts_dir = round_dir / "pyinfra-facts"
        self.facts_dir.mkdir(parents=True)
        env = {**base_env(round_dir / "home"), "FANOUT_FACTS_DIR": str(self.facts_dir)}
        return [
            Step(
                "pyinfra",
                [
                    tool("pyinfra"),
                    str(self.inventory),
                    str(self.deploy),
                    "--dry",
                    "--parallel",
                    str(self.forks),
                    "-v",
                ],
                env,
                self.work,
            )
        ]

    def check(self, results: list[StepResult]) -> dict[str, object]:
        (run,) = results
        if run.status != 0:
            raise BenchError(f"pyinfra exited {run.status}: {(run.stderr + run.stdout)[-2000:]}")
        assert self.facts_dir is not None
        with_facts = 0
        for path in self.facts_dir.glob("*.json"):
            facts = json.loads(path.read_text())
            if facts["kernel"] and facts["arch"] and facts["cpu"] and facts["memory"]:
                with_facts += 1
        output = run.stdout + run.stderr
        noop = Counter(
            host for host, _ in set(re.findall(r"\[(\S+)\]\s+noop: sysctl (\S+) is set to", output))
        )
        checked = [host for host, settings in noop.items() if settings == len(self.wanted)]
        if with_facts != self.count or len(checked) != self.count:
            raise BenchError(
                f"pyinfra: facts from {with_facts}, all {len(self.wanted)} "
                f"settings as wanted on {len(checked)} of {self.count} hosts\n"
                f"{output[-2000:]}"
            )
        return {"hosts_with_facts": with_facts, "hosts_checked": len(checked)}

    def after(self, round_dir: Path) -> None:
        return None
