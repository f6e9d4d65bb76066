"""How much input perflab accepts, and reading a user's file within it.

Every file perflab reads from a user (jobs, playbooks, inventories with their
``group_vars``/``host_vars``, result files given to ``parse`` and ``compare``)
is read by :func:`read_limited`: only a regular file (never ``/dev/zero``, a
FIFO or a socket), and only up to a size limit, checked before reading. The
YAML loader (:mod:`perflab.spec.yamlbounds`) then bounds what the text may
expand to. docs/jobs.md and docs/formats.md list these numbers for users.

Why these numbers: the largest real files are below them (a job is a few KB; an
inventory of 10,000 hosts with two variables each is 0.8 MiB, 80,000 values, and
loads in about 2 s here; a pytest-benchmark file with every round of a long run
is a few MB), and the most they can cost stays well under 1 GB of memory and a
few seconds.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from perflab.errors import InputError, Location

MiB = 1024 * 1024

#: a YAML file (job, playbook, inventory, vars file); a job is a few KB
MAX_YAML_BYTES = 1 * MiB
#: values in one YAML document with its aliases expanded (see above: 80,000 for 10,000 hosts)
MAX_YAML_NODES = 100_000
#: nesting of lists and mappings in a YAML document (real files: under 20)
MAX_YAML_DEPTH = 100
#: levels of child groups below ``all`` in an inventory (YAML nesting alone allows ~49)
MAX_GROUP_DEPTH = 50
#: steps spent checking an inventory's child links for cycles (a real lab needs thousands)
MAX_LINK_CHECKS = 2_000_000
#: a benchmark tool's output given to parse/compare, or collected from a run: real ones are
#: a few MB; at the limit, 3 million samples parse in about 5 s and 0.3 GB (0.5 GB --json)
MAX_RESULT_BYTES = 16 * MiB

#: a job's counts (schemas/job.schema.json says the same; a test holds them together):
#: measured runs of one benchmark, also the adaptive max_runs ...
MAX_RUNS = 100_000
#: ... warmups of one benchmark ...
MAX_WARMUP = 10_000
#: ... and steps of the whole job: benchmarks x (warmup + max(runs, max_runs)). Each is a
#: step in the harness's request, an event and a row: 100,000 cost about 100 MB to plan.
MAX_REPETITIONS = 100_000
#: repetitions of the noise probe (`verify --repetitions`, a profile's verify.repetitions):
#: each works 5 ms per CPU, and the probe must end within its 600 s timeout
MAX_PROBE_REPETITIONS = 10_000
#: rows a listing prints (`results list --limit`, `history --limit`)
MAX_LIST_LIMIT = 1_000_000
#: every duration in a job or profile (timeouts, max_time, realtime.limit): below 1 ms a
#: timer is not armed reliably (setitimer rounds 1ns to "no timer"), above 30 days it is
#: a typo; 0 used to mean "the default" silently and is refused
MIN_DURATION_S = 0.001
MAX_DURATION_S = 30 * 24 * 3600

#: seconds to wait for a database server to answer a connection (PostgreSQL); a URL's own
#: ?connect_timeout=N wins. Like the SSH connect timeout (perflab_connect_timeout).
DB_CONNECT_TIMEOUT_S = 10

_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def size_text(limit: int) -> str:
    """``1048576`` -> ``"1 MiB (1048576 bytes)"``."""
    if limit % MiB == 0:
        return f"{limit // MiB} MiB ({limit} bytes)"
    return f"{limit} bytes"


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _open(path: str | Path) -> int:
    where = Location(str(path))
    try:  # O_NONBLOCK: opening a FIFO nobody writes to returns at once, and is refused below
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError("no such file", location=where) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", location=where) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=where) from None


def read_limited(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; InputError if it is anything else or larger
    than ``limit`` (checked before reading, and again while reading a growing file)."""
    where = Location(str(path))
    fd = _open(path)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("is a directory, expected a file", location=where)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"expected a regular file, got {_kind(info.st_mode)}", location=where)
        data = _read(fd, limit + 1 if info.st_size <= limit else 0, where)
    finally:
        os.close(fd)
    if info.st_size > limit or len(data) > limit:
        raise InputError(
            f"expected a file of at most {size_text(limit)}, got "
            f"{max(info.st_size, len(data))} bytes",
            location=where,
        )
    return data


def _read(fd: int, most: int, where: Location) -> bytes:
    chunks: list[bytes] = []
    try:
        while most > 0:
            chunk = os.read(fd, min(most, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            most -= len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=where) from None
    return b"".join(chunks)
