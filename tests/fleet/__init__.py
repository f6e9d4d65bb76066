"""A reusable SSH test fleet: real sshd hosts in network namespaces (see :mod:`.fleet`)."""

from tests.fleet.fleet import Fleet, unavailable
from tests.fleet.host import FleetHost
from tests.fleet.keys import KeyPair
from tests.fleet.netns import FleetError

__all__ = ["Fleet", "FleetError", "FleetHost", "KeyPair", "unavailable"]
