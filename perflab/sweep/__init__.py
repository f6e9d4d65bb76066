"""Sweeps: one job (or job matrix) fanned out over platforms, now or on a schedule.

- :mod:`perflab.sweep.schedule`: schedules (cron with a time zone, or an interval)
  kept in Redis with RedBeat, and the scheduler ``perflab beat`` runs;
- :mod:`perflab.sweep.targets`: what a sweep's targets name, and the parts of a run;
- :mod:`perflab.sweep.define`: ``sweep add`` and ``sweep remove``;
- :mod:`perflab.sweep.start`: a sweep run (one queued job per platform and matrix
  combination), and the task a scheduler tick starts it with in a worker.

A sweep run's parts end as their jobs end; the store's ``sweeps.refresh`` follows
them (workers' reconcilers call it) and closes the sweep run.
"""
