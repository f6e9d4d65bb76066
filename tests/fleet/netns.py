"""Network plumbing for the fleet: namespaces, veth pairs, and a claim on an address block.

Every fleet takes a /24 inside 10.213.0.0/16 (used only by these namespaces)
and claims it with a file under /tmp/perflab-fleet-claims while it lives, so
concurrent test sessions on one machine never share addresses. Each host gets
a /30 of it: the root-namespace end of its veth pair has the first address,
the host (inside its namespace) the second.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

NETWORK = ipaddress.ip_network("10.213.0.0/16")
CLAIMS = Path("/tmp/perflab-fleet-claims")


class FleetError(RuntimeError):
    """The fleet could not build or tear down a host."""


def ip(*args: str, batch: list[str] | None = None, check: bool = True) -> str:
    """Run ``ip`` (with ``-batch -`` when given lines); FleetError with its stderr on failure."""
    argv = ["ip", *args, *(["-batch", "-"] if batch is not None else [])]
    done = subprocess.run(
        argv, input="\n".join(batch or []) + "\n", capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise FleetError(f"{' '.join(argv)} failed: {done.stderr.strip()} (batch: {batch})")
    return done.stdout


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def links() -> list[str]:
    names = []
    for line in ip("-o", "link", "show").splitlines():
        name = line.split(":", 2)[1].strip().split("@")[0]
        names.append(name)
    return names


def pids(netns: str) -> list[int]:
    out = ip("netns", "pids", netns, check=False)
    return [int(p) for p in out.split()]


def _used_blocks() -> set[int]:
    used = set()
    for line in ip("-o", "-4", "addr", "show").splitlines():
        fields = line.split()
        if "inet" in fields:
            address = ipaddress.ip_interface(fields[fields.index("inet") + 1]).ip
            if address in NETWORK:
                used.add(int(address) >> 8 & 0xFF)
    return used


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _claims_lock() -> Iterator[None]:
    CLAIMS.mkdir(mode=0o700, exist_ok=True)
    with (CLAIMS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def claim_block(token: str) -> int:
    """A free /24 (its third octet), recorded as ours until :func:`release_block`."""
    with _claims_lock():
        used = _used_blocks()
        for claim in CLAIMS.glob("10.213.*.claim"):
            pid = int(claim.read_text().split()[0] or 0)
            if _alive(pid):
                used.add(int(claim.name.split(".")[2]))
            else:  # a session that died without tearing down: clear what it left
                sweep(claim.read_text().split()[1])
                claim.unlink(missing_ok=True)
        for block in range(256):
            if block not in used:
                (CLAIMS / f"10.213.{block}.claim").write_text(f"{os.getpid()} {token}\n")
                return block
    raise FleetError("no free /24 left in 10.213.0.0/16 for a test fleet")


def sweep(token: str) -> None:
    """Remove what a dead fleet ``token`` left: processes in its namespaces, them, its links."""
    for name in namespaces():
        if name.startswith(f"perflab-{token}-"):
            for pid in pids(name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            delete_netns(name)
    for name in links():
        if name.startswith(f"perflab{token}"):
            ip("link", "del", name, check=False)
    for directory in Path("/tmp").glob(f"perflab-fleet-{token}-*"):
        shutil.rmtree(directory, ignore_errors=True)


def release_block(block: int, token: str) -> None:
    with _claims_lock():
        claim = CLAIMS / f"10.213.{block}.claim"
        with contextlib.suppress(FileNotFoundError):
            if claim.read_text().split()[1:] == [token]:
                claim.unlink()


def claimed_by(token: str) -> list[Path]:
    return (
        [c for c in CLAIMS.glob("10.213.*.claim") if c.read_text().split()[1:] == [token]]
        if CLAIMS.is_dir()
        else []
    )


def subnet(block: int, index: int) -> tuple[str, str]:
    """(first, second) address of the index-th /30 of the block."""
    base = int(NETWORK.network_address) + (block << 8) + 4 * index
    return str(ipaddress.ip_address(base + 1)), str(ipaddress.ip_address(base + 2))


def add_host_netns(netns: str, outer: str, inner: str, gateway: str, address: str) -> None:
    """A namespace joined to the root namespace by a veth pair (outer end stays here)."""
    ip(
        batch=[
            f"netns add {netns}",
            f"link add {outer} type veth peer name {inner} netns {netns}",
            f"addr add {gateway}/30 dev {outer}",
            f"link set {outer} up",
        ]
    )
    ip(
        "-n",
        netns,
        batch=[f"addr add {address}/30 dev {inner}", f"link set {inner} up", "link set lo up"],
    )


def add_behind_netns(
    netns: str, parent: str, *, outer: str, inner: str, gateway: str, address: str
) -> None:
    """A namespace reachable only from ``parent``'s namespace (no link to the root one)."""
    ip(batch=[f"netns add {netns}"])
    ip(
        "-n",
        parent,
        batch=[
            f"link add {outer} type veth peer name {inner} netns {netns}",
            f"addr add {gateway}/30 dev {outer}",
            f"link set {outer} up",
        ],
    )
    ip(
        "-n",
        netns,
        batch=[f"addr add {address}/30 dev {inner}", f"link set {inner} up", "link set lo up"],
    )


def delete_netns(netns: str) -> None:
    ip("netns", "del", netns, check=False)
