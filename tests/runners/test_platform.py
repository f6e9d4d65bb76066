"""A runner's platform, one definition: from facts, or the runner's own."""

from __future__ import annotations

from perflab.facts.platform import platform_name, runner_platform


class TestPlatform:
    def test_from_facts(self) -> None:
        """The kernel's system and the architecture: not every OS is "linux"."""
        assert platform_name({"system": "linux", "arch": "x86_64"}) == "linux-x86_64"
        assert platform_name({"system": "linux", "arch": "aarch64"}) == "linux-aarch64"
        assert platform_name({"system": "darwin", "arch": "arm64"}) == "darwin-arm64"

    def test_facts_from_before_the_system_was_recorded(self) -> None:
        """Older snapshots have a kernel but no system: perflab's probes read Linux /proc."""
        assert platform_name({"kernel": "6.1.0", "arch": "x86_64"}) == "linux-x86_64"
        assert platform_name({}) == "unknown-unknown"

    def test_the_runners_own_wins(self) -> None:
        """perflab_platform (or the platform registered from facts) overrides the run's."""
        env = {"system": "linux", "arch": "x86_64"}
        assert runner_platform("linux-x86_64-epyc", env) == "linux-x86_64-epyc"
        assert runner_platform(None, env) == "linux-x86_64"
