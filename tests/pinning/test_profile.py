"""A profile's pin: validated with the playbook, variables resolved per runner, opt-in checked."""

from __future__ import annotations

import pytest

from perflab.errors import InputError, SpecErrors
from perflab.pinning.profile import pin_from_notes, profile_pin, resolved_pin
from perflab.spec.playbook import parse_profile

TASKS = "name: p\ntasks:\n  - cpuset_shield: {cpus: reserved}\n"


class TestProfilePin:
    def test_variables_resolved_per_runner(self) -> None:
        """Values may be inventory variables with defaults; the runner's value wins."""
        profile = parse_profile(
            TASKS + 'pin:\n  runtime: auto\n  nice: "{{ perflab_pin_nice | default(3) }}"\n',
            "p.yml",
        )
        spec = profile_pin(profile, {})
        assert spec is not None and (spec.runtime, spec.nice) == ("auto", 3)
        assert spec.source("runtime") == "profile"
        other = profile_pin(profile, {"perflab_pin_nice": 7})
        assert other is not None and other.nice == 7

    def test_no_pin(self) -> None:
        """A profile without pin gives no defaults."""
        assert profile_pin(parse_profile(TASKS, "p.yml"), {}) is None

    def test_schema_at_load(self) -> None:
        """A literal bad value is a playbook schema error (perflab validate finds it)."""
        with pytest.raises(SpecErrors):
            parse_profile(TASKS + "pin: {runtime: python}\n", "p.yml")
        with pytest.raises(SpecErrors):
            parse_profile(TASKS + 'pin: {cpus: "1"}\n', "p.yml")

    def test_resolved_value_checked(self) -> None:
        """A variable that resolves to a bad value is refused, naming the pin field."""
        profile = parse_profile(TASKS + 'pin: {nice: "{{ n }}"}\n', "p.yml")
        with pytest.raises(InputError) as caught:
            resolved_pin(profile, {"n": 99})
        assert caught.value.field == "pin.nice" and "<= 19" in str(caught.value)

    def test_realtime_opt_in(self) -> None:
        """The profile's real-time policy needs its own opt-in, checked before any change."""
        profile = parse_profile(TASKS + 'pin: {policy: "fifo:2"}\n', "p.yml")
        with pytest.raises(InputError, match="opt-in"):
            resolved_pin(profile, {})

    def test_notes_round_trip(self) -> None:
        """What prepare writes in the state file's notes comes back as the same pin."""
        profile = parse_profile(TASKS + "pin: {runtime: go, nice: 1}\n", "p.yml")
        raw = resolved_pin(profile, {})
        assert pin_from_notes({"pin": raw}) == profile_pin(profile, {})
        assert pin_from_notes({}) is None
