"""Which processes may never be frozen (pure)."""

from __future__ import annotations

from perflab.knobs.freeze import protected_pids


def proc(pid: int, ppid: int, session: int, comm: str = "x", kthread: bool = False) -> dict:
    return {"pid": pid, "ppid": ppid, "session": session, "comm": comm, "kthread": kthread}


PROCS = [
    proc(1, 0, 1, "init"),
    proc(2, 0, 0, "kthreadd", True),
    proc(3, 2, 0, "kworker", True),
    proc(10, 1, 10, "sshd"),
    proc(20, 10, 20, "bash"),
    proc(30, 20, 20, "python3"),
    proc(31, 30, 20, "probe"),
    proc(40, 30, 40, "noisy"),
    proc(50, 20, 20, "make"),
    proc(60, 1, 60, "stress-ng"),
]


class TestProtectedPids:
    def test_the_chain_and_session_of_perflab(self) -> None:
        """PID 1, kernel threads, sshd, the probe's ancestors and the controller's session."""
        keep = protected_pids(PROCS, self_pid=31)
        assert {1, 2, 3, 10, 20, 30, 31, 50} <= keep

    def test_independent_processes_are_not_protected(self) -> None:
        """A child in a session of its own, and an unrelated daemon, may be frozen."""
        keep = protected_pids(PROCS, self_pid=31)
        assert 40 not in keep and 60 not in keep

    def test_without_knowing_itself_only_the_fixed_rules_apply(self) -> None:
        """With no self pid only PID 1, kernel threads and protected names remain."""
        assert protected_pids(PROCS, self_pid=None) == {1, 2, 3, 10}
