"""The noise probe's verdict (pure): contamination measured, timing against the host's
own quiet history."""

from __future__ import annotations

from typing import Any

from perflab.prepare.noise import judge


def cpu_data(
    *, cv: float = 0.03, other: float = 0.0, steal: float = 0.0, involuntary: int = 0, n: int = 100
) -> dict[str, Any]:
    """A probe answer for one CPU: ``n`` repetitions around 5 ms with about this CV (two
    alternating values), over 1 s, with others' and steal shares as given."""
    base = 5_000_000.0
    ns = [base * (1 - cv) if i % 2 else base * (1 + cv) for i in range(n)]
    elapsed = 1_000_000_000
    own = 0.9 * elapsed
    return {
        "ns": ns,
        "involuntary": involuntary,
        "interrupts": 100,
        "elapsed_ns": elapsed,
        "busy_ns": own + other * elapsed,
        "own_ns": own,
        "steal_ns": steal * elapsed,
    }


def history(
    cv: float, k: int, *, cpu: int = 1, other: float = 0.01, ok: bool = True, work_ms: float = 5.0
) -> list[dict[str, Any]]:
    return [
        {
            "at": i,
            "cpu": cpu,
            "work_ms": work_ms,
            "cv": cv,
            "slowdown": 1 / (1 - cv),
            "other": other,
            "steal": 0.0,
            "involuntary_per_s": 0.0,
            "ok": ok,
        }
        for i in range(k)
    ]


class TestContamination:
    def test_others_on_the_cpu_fail_it_with_the_numbers(self) -> None:
        """A neighbour that took 48% of CPU 1 while the probe ran: failed, whatever the
        timing says (a hog can leave the CV small)."""
        verdict = judge({"cpus": {"1": cpu_data(cv=0.01, other=0.48)}})
        assert not verdict.ok
        assert (
            verdict.cpus[0].failures[0]
            == "other processes used 48% of CPU 1 during the probe (limit 10%)"
        )
        assert verdict.cpus[0].contaminated

    def test_steal_fails_it_too(self) -> None:
        verdict = judge({"cpus": {"1": cpu_data(steal=0.2)}})
        assert not verdict.ok and "stole 20%" in verdict.cpus[0].failures[0]

    def test_a_quiet_cpu_without_history_passes_and_is_calibrating(self) -> None:
        """No quiet history yet: a VM's CV of 20% is not judged (no absolute 5%); the
        contamination evidence decides."""
        verdict = judge({"cpus": {"1": cpu_data(cv=0.2, other=0.01)}})
        assert verdict.ok
        assert verdict.cpus[0].cv_limit is None and verdict.cpus[0].quiet_history == 0


class TestRelativeTiming:
    def test_cv_is_judged_against_the_hosts_quiet_history(self) -> None:
        """Five quiet probes with a CV of 4%: 5% passes, 20% fails (limit 1.5 x p90)."""
        past = history(0.04, 5)
        ok = judge({"cpus": {"1": cpu_data(cv=0.05)}}, history=past, work_ms=5.0)
        assert ok.ok and abs(ok.cpus[0].cv_limit - 0.06) < 1e-9
        bad = judge({"cpus": {"1": cpu_data(cv=0.2)}}, history=past, work_ms=5.0)
        assert not bad.ok and bad.cpus[0].failures[0].startswith("CV 20.1% above 6.0%")

    def test_only_quiet_probes_of_this_cpu_and_work_calibrate(self) -> None:
        """Contaminated probes, other CPUs' and other work sizes' do not count."""
        past = (
            history(0.5, 10, other=0.5)
            + history(0.5, 10, cpu=2)
            + history(0.5, 10, work_ms=2.0)
            + history(0.04, 4)
        )
        verdict = judge({"cpus": {"1": cpu_data(cv=0.2)}}, history=past, work_ms=5.0)
        assert verdict.ok and verdict.cpus[0].quiet_history == 4
        assert verdict.cpus[0].cv_limit is None  # 4 < min_history

    def test_a_profile_may_set_absolute_limits(self) -> None:
        verdict = judge({"cpus": {"1": cpu_data(cv=0.05)}}, {"max_cv": 0.02})
        assert not verdict.ok and verdict.cpus[0].cv_limit == 0.02

    def test_the_history_comes_with_the_answer_and_makes_a_record(self) -> None:
        """The answer's own history (what the host kept) is used, and summed up: quiet
        probes that failed, contaminated ones that were caught."""
        past = history(0.04, 6) + history(0.04, 1, ok=False) + history(0.3, 3, other=0.5, ok=False)
        verdict = judge({"cpus": {"1": cpu_data()}, "history": past})
        assert verdict.record.to_dict() == {
            "quiet": 7,
            "quiet_failed": 1,
            "contaminated": 3,
            "contaminated_failed": 3,
        }
