"""``perflab beat``: Celery beat with RedBeat's scheduler, reading the sweeps' schedules
from Redis and sending a tick to the sweep queue when one is due.

Several may run (on several machines, for availability): RedBeat's lock in Redis
makes one the leader; the others wait and take over within ``5 x max_interval``
seconds after the leader stops renewing it.
"""

from __future__ import annotations

from perflab.queue.app import make_app
from perflab.queue.submit import connect
from perflab.sweep.schedule import configure


def start(
    *, max_interval: float = 30.0, loglevel: str = "INFO", broker_url: str | None = None
) -> None:
    """Run the scheduler until stopped (SIGTERM, Ctrl-C)."""
    app = configure(make_app(broker_url), max_interval=max_interval)
    connect(app).release()  # a broker that cannot be reached: one line, exit 1
    app.start(
        [
            "beat",
            "-S",
            "perflab.sweep.schedule:Scheduler",
            "-l",
            loglevel,
            "--max-interval",
            f"{max_interval:g}",
        ]
    )
