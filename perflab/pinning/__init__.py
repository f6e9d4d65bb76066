"""Pinned schedulers: runtimes told exactly which CPUs they own, and proof that they obeyed.

Pure modules (no I/O): ``cpus`` chooses the CPUs a benchmark runs on (housekeeping
and reserved CPUs); ``perflab.spec.pin`` types the job's and the profile's ``pin``;
``detect`` finds runtimes in benchmark commands; ``erlang`` and ``runtimes``
derive each runtime's settings from the owned CPUs and let the job's own
values win; ``plan`` turns all of it into environment, harness scheduling and
probe steps; ``probes`` parses what the runtimes and ``/proc`` answered;
``proof`` compares the answers with what was applied. The shell around them
is ``perflab.execute.pinning``. Guide: docs/pinning.md.
"""
