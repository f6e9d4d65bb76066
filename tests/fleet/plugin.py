"""pytest fixtures for the SSH test fleet.

Use from a test package's conftest.py (or add ``pytest_plugins = ["tests.fleet.plugin"]``
to the root conftest)::

    from tests.fleet.plugin import fleet  # noqa: F401  (re-exported fixture)

``fleet`` is session-scoped: hosts are built on first use and shared; a test
that breaks a host (link down, new host key) asks for a host name of its own.
Without root or openssh-server the fixture skips, unless PERFLAB_REQUIRE_ALL=1
(CI), where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fleet.fleet import Fleet, unavailable


def require_fleet() -> None:
    """Skip (or fail under PERFLAB_REQUIRE_ALL=1) when no fleet can be built here."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("PERFLAB_REQUIRE_ALL") == "1":
        pytest.fail(f"PERFLAB_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    """The session's fleet; at the end everything it made is gone (checked)."""
    require_fleet()
    built = Fleet()
    try:
        yield built
    finally:
        built.close()
    left = built.leftovers()
    assert not left, f"the SSH test fleet left things behind: {left}"
