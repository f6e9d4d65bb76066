"""Helpers the knobs share: CPU selection, kernel CPU masks, existence globs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from perflab.facts.cpulist import parse_cpumask
from perflab.knobs._common import exists, exists_glob, kernel_cpumask, select_cpus
from perflab.knobs.base import Facts, HostContext

CTX = HostContext(online=[0, 1, 2, 3], housekeeping=[0], reserved=[1, 2, 3])


class TestSelectCpus:
    def test_words(self) -> None:
        """all, reserved and housekeeping name the context's CPU sets."""
        assert select_cpus("all", CTX) == ([0, 1, 2, 3], None)
        assert select_cpus(None, CTX) == ([0, 1, 2, 3], None)
        assert select_cpus("reserved", CTX) == ([1, 2, 3], None)
        assert select_cpus("housekeeping", CTX) == ([0], None)

    def test_lists(self) -> None:
        """A CPU list or one CPU number; offline CPUs are a problem, named."""
        assert select_cpus("1-2", CTX) == ([1, 2], None)
        assert select_cpus(3, CTX) == ([3], None)
        assert select_cpus("2-5", CTX) == ([], "CPU 4-5 is not online on this host (online: 0-3)")
        cpus, problem = select_cpus("2-", CTX)
        assert cpus == [] and problem is not None and "CPU list" in problem


class TestKernelCpumask:
    def test_examples(self) -> None:
        """32-bit groups, comma separated, as the kernel's bitmap parser wants them."""
        assert kernel_cpumask([0]) == "1"
        assert kernel_cpumask([0, 1]) == "3"
        assert kernel_cpumask([]) == "0"
        assert kernel_cpumask(range(36)) == "f,ffffffff"
        assert kernel_cpumask([64]) == "1,00000000,00000000"

    @given(st.sets(st.integers(min_value=0, max_value=300)))
    def test_round_trip(self, cpus: set[int]) -> None:
        """parse_cpumask reads back exactly the CPUs, and no group exceeds 8 digits."""
        mask = kernel_cpumask(sorted(cpus))
        assert parse_cpumask(mask) == sorted(cpus)
        assert all(len(group) <= 8 for group in mask.split(","))


class TestExists:
    def test_glob(self) -> None:
        """A one-path glob tells existence apart from readability."""
        assert exists_glob("/run/systemd/system") == "/run/systemd/syste[m]"
        facts = Facts(globs={"/run/systemd/syste[m]": ["/run/systemd/system"]})
        assert exists(facts, "/run/systemd/system")
        assert not exists(Facts(globs={"/run/systemd/syste[m]": []}), "/run/systemd/system")
