"""ansible-core: ``ansible-playbook --check -f N`` gathering facts, then three tasks.

Ansible is given its usual fast settings, not its defaults where they are slow:
SSH pipelining on, OpenSSH ControlPersist (its default), the remote Python
named (no interpreter discovery round trip), and facts narrowed to what the
other tools gather: ``gather_subset: [hardware]`` (the ``min`` subset, with
OS, arch and kernel, is always included; ``hardware`` adds CPU and memory,
and mounts and devices, which Ansible cannot leave out of it).

There is no ``sysctl`` module in ansible-core (it is in ansible.posix, not
installed here), so each setting is checked with ``ansible.builtin.lineinfile``
on its /proc/sys file: read it, compare, report "changed" or "ok", with
``check_mode: true`` on the play as well as ``--check`` on the command line.
Host keys are checked by OpenSSH against the pinned known_hosts file only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from common import SETTINGS, BenchError, Target, base_env, tool
from measure import Step, StepResult
from perflab_side import GROUP, write_inventory

CONFIG = """\
[defaults]
forks = {forks}
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = {work}/ansible-local
[ssh_connection]
pipelining = True
"""

RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


def write_playbook(path: Path, wanted: dict[str, str]) -> Path:
    tasks = [
        {
            "name": f"{name} is {wanted[name]}",
            "ansible.builtin.lineinfile": {
                "path": "/proc/sys/" + name.replace(".", "/"),
                "regexp": ".*",
                "line": wanted[name],
            },
        }
        for name in SETTINGS
    ]
    play = [
        {
            "hosts": GROUP,
            "gather_facts": True,
            "gather_subset": ["hardware"],
            "check_mode": True,
            "tasks": tasks,
        }
    ]
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    return path


class AnsibleSide:
    name = "ansible"

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
        self.inventory = write_inventory(work / "inventory.yml", targets, known_hosts)
        self.playbook = write_playbook(work / "playbook.yml", wanted)
        self.config = work / "ansible.cfg"
        self.config.write_text(CONFIG.format(forks=forks, work=work), encoding="utf-8")
        self.forks = forks

    def control_dir(self, round_dir: Path) -> Path:
        return round_dir / "cp"  # short: a unix socket path holds at most 107 bytes

    def steps(self, round_dir: Path) -> list[Step]:
        self.control_dir(round_dir).mkdir(parents=True)
        env = {
            **base_env(round_dir / "home"),
            "ANSIBLE_CONFIG": str(self.config),
            "ANSIBLE_HOME": str(round_dir / "ansible-home"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.control_dir(round_dir)),
            "ANSIBLE_REMOTE_TEMP": str(round_dir / "ansible-remote"),  # the hosts share /tmp
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        }
        return [
            Step(
                "ansible-playbook",
                [
                    tool("ansible-playbook"),
                    "-i",
                    str(self.inventory),
                    "--check",
                    "-f",
                    str(self.forks),
                    str(self.playbook),
                ],
                env,
                self.work,
            )
        ]

    def check(self, results: list[StepResult]) -> dict[str, object]:
        (run,) = results
        if run.status != 0:
            raise BenchError(
                f"ansible-playbook exited {run.status}: {(run.stdout + run.stderr)[-2000:]}"
            )
        recap = {m[1]: tuple(int(x) for x in m.groups()[1:]) for m in RECAP.finditer(run.stdout)}
        good = [
            h
            for h, (ok, changed, unreachable, failed) in recap.items()
            if ok == 1 + len(SETTINGS) and changed == 0 and not unreachable and not failed
        ]
        if len(good) != self.count:
            raise BenchError(
                f"ansible: {len(good)} of {self.count} hosts gathered facts and "
                f"checked {len(SETTINGS)} settings; recap: {recap}"
            )
        return {"hosts_ok": len(good)}

    def after(self, round_dir: Path) -> None:
        """Stop the ControlPersist masters (``ssh -O exit``) instead of leaving them for 60 s."""
        for socket in sorted(self.control_dir(round_dir).glob("*")):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "fanout"],
                capture_output=True,
                timeout=30,
                check=False,
            )
