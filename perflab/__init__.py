"""perflab: run a performance lab.

Prepared runners, benchmark jobs, raw samples, noise-aware comparison.
Heavy libraries (sqlalchemy, scipy, celery, paramiko) are imported where they
are used, so importing this package and ``perflab --version`` stay fast.
"""

__version__ = "0.1.0"
