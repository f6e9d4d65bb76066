"""The results store: the only package that talks to the database.

``open_store()`` connects to ``PERFLAB_DB_URL`` (default: SQLite under
``$PERFLAB_HOME``), migrates the schema, and returns a :class:`Store` whose
attributes group the queries by concern (``store.runs`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from perflab.store.baselines import BaselineStore
    from perflab.store.calibrations import CalibrationStore
    from perflab.store.jobs import JobStore
    from perflab.store.leases import Fence, LeaseStore
    from perflab.store.runners import RunnerStore
    from perflab.store.runs import RunStore
    from perflab.store.sweeps import SweepStore


class Store:
    def __init__(self, engine: Engine) -> None:
        from sqlalchemy.orm import sessionmaker

        from perflab.store.baselines import BaselineStore
        from perflab.store.calibrations import CalibrationStore
        from perflab.store.jobs import JobStore
        from perflab.store.leases import LeaseStore
        from perflab.store.runners import RunnerStore
        from perflab.store.runs import RunStore
        from perflab.store.sweeps import SweepStore

        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.runs: RunStore = RunStore(self.sessions)
        self.runners: RunnerStore = RunnerStore(self.sessions)
        self.baselines: BaselineStore = BaselineStore(self.sessions)
        self.jobs: JobStore = JobStore(self.sessions)
        self.leases: LeaseStore = LeaseStore(self.sessions)
        self.sweeps: SweepStore = SweepStore(self.sessions)
        self.calibrations: CalibrationStore = CalibrationStore(self.sessions)

    def fenced(self, fence: Fence) -> Store:
        """This store, but every write of a run checks ``fence`` (a queued job's lease):
        a worker whose lease moved on gets :class:`perflab.store.leases.LeaseLost`."""
        import copy

        from perflab.store.runs import RunStore

        other = copy.copy(self)
        other.runs = RunStore(self.sessions, fence=fence)
        return other

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(url: str | None = None) -> Store:
    """The store, migrated; runs left "running" by a controller on this machine that
    died (SIGKILL, power cut) are closed as ``failed: controller lost`` on the way."""
    from perflab import controller
    from perflab.store.engine import create_engine_for

    store = Store(create_engine_for(url))
    store.runs.close_lost(controller.is_gone, controller.describe)
    return store
