"""Run a job's steps on the host and time each one there (stdlib only, Python 3.8+).

Request (one JSON line on stdin)::

    {"workdir": "/abs", "rundir": "/abs/outputs", "env": {...}, "cpus": [1] | null,
     "watch_stdin": true,     # stdin stays open; EOF = the controller is gone: stop
     "cgroups": ["/sys/fs/cgroup/cpuset/perflab-shield/tasks"], "job_timeout": 3600 | null,
     "nice": null, "check": [{"program": "./bench", "field": "benchmarks[0].command"}],
     "require": [{"program": "erl", "field": "pin.runtime", "message": "..."}],
     "sched": {"policy": "other|fifo|rr", "priority": 0, "nice": 5 | null,
               "rttime_us": 2000000 | null, "field": "pin.policy"} | null,
     "steps": [{"id": "b0-r3", "kind": "setup|warmup|run", "argv": [...] | null,
                "shell": "..." | null, "env": {...}, "timeout": 60, "output": "file" | null}]}

Events, one JSON object per line on stdout, flushed as they happen::

    {"event": "start", "pid": ..., "cpus": [..], "cgroups": [..],
     "logs": {"stdout": "<rundir>/stdout.log", "stderr": "<rundir>/stderr.log"},
     "contention": {"source": "cpuacct" | "proc_stat", "window_ns": ...} | null}
    {"event": "step", "id": ..., "exit": 0, "signal": null, "timed_out": false,
     "wall_ns": ..., "user_ns": ..., "sys_ns": ..., "maxrss_kb": ..., "nvcsw": ..,
     "nivcsw": .., "stdout": [start, end], "stderr": [start, end],
     "output": path | null, "error": null,
     "other": 0.48, "steal": 0.0, "runnable": 3, "window": 1}   (measured steps: Contention)
    (a counted step, ``"count": {...}``, adds ``"counted"``: see counting.py)

Every step's stdout and stderr are appended to the two logs (opened once, before
any clock starts); a step's output is the byte range its event names. Events of
repetitions shorter than BATCH_S are sent in batches (at most BATCH_S apart), so
the controller is not woken for every short repetition; a batch is sent before a
step of another benchmark or kind starts, and before the harness ends.
    {"event": "missing", "items": [{"program": ..., "field": ...}]}   (nothing measured)
    {"event": "refused", "items": [{"field": ..., "message": ...}]}   (nothing started)

``require`` names programs that must exist before anything starts (a runtime the
job pins). ``sched`` is tried first in a throwaway child (a host that does not
allow the policy or nice value refuses the job, nothing started); then it applies
to every step but the setup steps: nice and RLIMIT_RTTIME (the runtime limit of a
real-time policy) are set on the harness after the setup steps, and inherited;
the policy is set by posix_spawn on each child, so the harness itself stays an
ordinary task that can always enforce timeouts.
    {"event": "done", "interrupted": false, "job_timed_out": false}

Each step runs in a process group of its own, which is killed whole on a
timeout, on SIGINT/SIGTERM to the harness, and after the step exits (so no
stray grandchild outlives its repetition). Steps are started by a tiny static
spawner process on x86-64 Linux (:class:`Spawner`: a step's max RSS is then its
own, not the harness's), else by posix_spawn. Timing is the monotonic clock
around spawn and wait4; CPU time, max RSS and context switches come from
wait4's rusage. Measured steps also carry the contamination evidence of
:class:`Contention`. A failing setup step stops the job; a failing repetition is
recorded and the job goes on (the controller marks the run failed).
"""

import json
import os
import shutil
import signal
import sys
import time
from typing import Any, Dict, List  # noqa: F401 (type comments, for Python 3.8 hosts)

try:  # sent to a host as one script: counting's, contention's and spawn's text come first
    Spawner  # noqa: B018
except NameError:  # imported as perflab.hostside.harness (tests, type checks): the modules
    from .contention import Contention
    from .counting import counted_step, read_counts
    from .spawn import FastSpawn, Spawner, _spawn, apply_inherited, sched_refusal, scheduler_of

_state = {"child": 0, "timed_out": False, "interrupted": False, "orphaned": False}
#: events of short repetitions are sent in batches: at most this long after the last send
#: (one write and one wake-up of the controller per batch, not per repetition)
BATCH_S = 0.05
_sent = {"at": 0.0}
_pending = []  # type: List[bytes]
#: events are flat dicts of numbers, strings and short lists: no cycle check needed
_encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode


def _write_all(data):
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(1, view) :]
    except BrokenPipeError:  # the controller is gone: stop the benchmark, end here
        _kill_group(_state["child"])
        os._exit(1)


def emit(event, batch=False):
    """Send one event line (stdout is written directly: PYTHONUNBUFFERED or not, a batch
    is one write)."""
    _pending.append((_encode(event) + "\n").encode())
    now = time.monotonic()
    if not batch or now - _sent["at"] >= BATCH_S:
        send_pending(now)


def send_pending(now=None):
    """Send batched events now (before a step that may take long, so none waits on it)."""
    if _pending:
        data = b"".join(_pending)
        del _pending[:]
        _write_all(data)
        _sent["at"] = time.monotonic() if now is None else now


def _kill_group(pgid):
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _on_alarm(signum, frame):
    _state["timed_out"] = True
    _kill_group(_state["child"])


def _on_stop(signum, frame):
    _state["interrupted"] = True
    _kill_group(_state["child"])


def read_request():
    """The request: one JSON line (then stdin may stay open, see ``watch_stdin``), or
    a whole JSON document up to EOF."""
    first = sys.stdin.buffer.readline()
    try:
        return json.loads(first.decode("utf-8"))
    except ValueError:
        return json.loads((first + sys.stdin.buffer.read()).decode("utf-8"))


def _watch_stdin():
    """``watch_stdin``: the controller keeps our stdin open while it listens; EOF means it
    died or lost the connection, so nobody will restore the host after this job or read
    its results. Stop as on SIGTERM: the benchmark's process group dies, no more steps."""
    import threading

    def watch():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        _state["orphaned"] = True
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="perflab-stdin-watch", daemon=True).start()


def _enter_cgroups(paths):
    entered = []
    for path in paths or []:
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))
        entered.append(path)
    return entered


def open_logs(rundir):
    """One stdout and one stderr log for all steps, opened once (creating a file per step
    costs more than spawning `true` on some filesystems); steps get byte ranges of them."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    paths = {name: os.path.join(rundir, name + ".log") for name in ("stdout", "stderr")}
    fds = {name: os.open(path, flags, 0o644) for name, path in paths.items()}
    fds["stdin"] = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return paths, fds


def _size(fd):
    """The log's length (seeking to the end: an int, cheaper than a stat result; the logs
    are opened O_APPEND, so where the offset stands changes nothing for writers)."""
    return os.lseek(fd, 0, os.SEEK_END)


_programs = {}  # type: Dict[Any, Any]


def prepare_step(step, base_env, merged=True):
    """The program path, argv, environment (None unless ``merged``) and the step's own
    variables (overrides). The PATH search is done once per program (not by posix_spawnp
    in every repetition's measured time)."""
    argv = [str(a) for a in step["argv"]] if step.get("argv") else ["/bin/sh", "-c", step["shell"]]
    overrides = {k: str(v) for k, v in step["env"].items()} if step.get("env") else {}
    env = None
    if merged:
        env = base_env
        if overrides:
            env = dict(base_env)
            env.update(overrides)
    program = argv[0]
    if "/" not in program:
        key = (program, overrides.get("PATH", base_env.get("PATH", os.defpath)))
        if key not in _programs:
            _programs[key] = shutil.which(program, path=key[1]) or program
        program = _programs[key]
    return program, argv, env, overrides


def confined(workdir, name):
    """(real path of output ``name``, None) when it lies inside the workdir, else (None, why).

    By the real path, symlinks resolved: the controller refuses '..' and absolute outputs,
    and this holds even when it is bypassed, or when a link out appears in the workdir."""
    try:
        root = os.path.realpath(workdir)
        path = os.path.realpath(os.path.join(root, name))
    except (ValueError, OSError) as exc:
        return None, "output %r cannot be resolved: %s" % (name, exc)
    if path == root:
        return None, "output %r is the workdir itself" % name
    if not path.startswith(root.rstrip("/") + "/"):
        return None, "output %r resolves to %s, outside the workdir %s" % (name, path, root)
    return path, None


def _collect_output(step, workdir, rundir, sid):
    name = step.get("output")
    if not name:
        return None, None
    source, refused = confined(workdir, name)
    if refused:
        return None, refused + ": not copied"
    if "/" in sid or "\0" in sid:  # the copy replaces <rundir>/<id>.output, nothing else
        return None, "step id %r is not a plain name: output not copied" % sid
    target = os.path.join(rundir, sid + ".output")
    if os.path.isdir(source):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        return target, None
    if not os.path.exists(source):
        return None, "output file %s was not written" % name
    shutil.copyfile(source, target)
    return target, None


def _remove_stale_output(step, workdir):
    """Delete the output a previous repetition left; the reason when it may not be touched."""
    path, refused = confined(workdir, step["output"])
    if refused:
        return refused + ": nothing deleted, the step not started"
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.unlink(path)
    return None


def _not_started(event, status, error, fds, out_start, err_start):
    event["exit"] = status
    event["error"] = error
    os.write(fds["stderr"], (error + "\n").encode())
    event["stdout"] = [out_start, out_start]
    event["stderr"] = [err_start, _size(fds["stderr"])]
    return event


def run_step(step, base_env, workdir, rundir, deadline, fds, scheduler=None, fast=None):
    sid = step["id"]
    wrapper = None
    if step.get("count"):  # a counted repetition: under callgrind or perf stat (counting.py)
        step, wrapper = counted_step(step, rundir)
    if scheduler is not None:
        fast = None  # a scheduling policy for the child: os.posix_spawn sets it
    program, argv, env, overrides = prepare_step(step, base_env, merged=fast is None)
    prepared = fast.prepare(program, argv, overrides) if fast is not None else None
    timeout = step.get("timeout")
    if deadline is not None:
        remaining = max(deadline - time.monotonic(), 0.001)
        timeout = remaining if timeout is None else min(timeout, remaining)
    refused = _remove_stale_output(step, workdir) if step.get("output") else None
    out_start, err_start = _size(fds["stdout"]), _size(fds["stderr"])
    event = {
        "event": "step",
        "id": sid,
        "kind": step.get("kind"),
        "exit": None,
        "signal": None,
        "timed_out": False,
        "wall_ns": 0,
        "user_ns": 0,
        "sys_ns": 0,
        "maxrss_kb": 0,
        "nvcsw": 0,
        "nivcsw": 0,
        "output": None,
        "error": None,
    }
    if refused:
        return _not_started(event, 126, refused, fds, out_start, err_start)
    _state["timed_out"] = False
    start = time.monotonic_ns()
    try:
        if prepared is not None:
            pid = fast.spawn(prepared)
        else:
            pid = _spawn(program, argv, env, fds, scheduler)
    except OSError as exc:
        what = step.get("argv", [step.get("shell")])[0]
        return _not_started(
            event,
            127 if isinstance(exc, FileNotFoundError) else 126,
            "cannot start %s: %s" % (what, exc.strerror or exc),
            fds,
            out_start,
            err_start,
        )
    _state["child"] = pid
    if _state["interrupted"]:  # the stop signal came while it was being spawned
        _kill_group(pid)
    if timeout is not None:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        status, usage = fast.wait(pid) if prepared is not None else os.wait4(pid, 0)[1:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        end = time.monotonic_ns()
        _kill_group(pid)
        _state["child"] = 0
    event.update(
        wall_ns=end - start,
        timed_out=_state["timed_out"],
        user_ns=int(usage.ru_utime * 1e9),
        sys_ns=int(usage.ru_stime * 1e9),
        maxrss_kb=usage.ru_maxrss,
        nvcsw=usage.ru_nvcsw,
        nivcsw=usage.ru_nivcsw,
        stdout=[out_start, _size(fds["stdout"])],
        stderr=[err_start, _size(fds["stderr"])],
    )
    if os.WIFSIGNALED(status):
        event["signal"] = os.WTERMSIG(status)
        event["exit"] = -event["signal"]
    else:
        event["exit"] = os.WEXITSTATUS(status)
    if event["timed_out"]:
        event["error"] = "timed out after %.3g s" % timeout
    elif event["exit"] == 0:
        event["output"], event["error"] = _collect_output(step, workdir, rundir, sid)
        _add_counts(step, event, rundir, pid, wrapper)
    return event


def _add_counts(step, event, rundir, pid, wrapper):
    """What a counted step's tool counted (counting.py)."""
    if step.get("count") and not event["error"]:
        event["counted"], event["error"] = read_counts(step, rundir, pid, wrapper)


def missing_programs(checks, env, workdir):
    """Programs the benchmarks start that cannot be found (checked after setup)."""
    missing = []
    for check in checks or []:
        program = check["program"]
        if "/" in program:
            path = os.path.join(workdir, program)
            found = os.path.isfile(path) and os.access(path, os.X_OK)
        else:
            found = shutil.which(program, path=env.get("PATH", os.defpath)) is not None
        if not found:
            missing.append(check)
    return missing


def refusals(request, env):
    """Reasons not to start at all: a required program missing, a policy not allowed."""
    items = []
    for need in request.get("require") or []:
        if shutil.which(need["program"], path=env.get("PATH", os.defpath)) is None:
            items.append(need)
    reason = sched_refusal(request.get("sched"))
    if reason:
        items.append({"field": request["sched"].get("field", "pin.policy"), "message": reason})
    return items


def _before_measuring(request, base_env, workdir):
    """Between the setup steps and the first other step: the scheduling the benchmark
    inherits, then the benchmark programs must exist. Returns the spawn scheduler, or
    False when a program is missing (nothing is measured then)."""
    sched = request.get("sched") or {}
    if sched:
        apply_inherited(sched)
    missing = missing_programs(request.get("check"), base_env, workdir)
    if missing:
        emit({"event": "missing", "items": missing})
        return False
    return scheduler_of(sched)


def run_steps(request, base_env, workdir, rundir, deadline, fds, contention=None):
    """Every step in order; True when the job's time ran out."""
    checked = False
    scheduler = None
    group = None
    fast = Spawner.create(fds, base_env) or FastSpawn.create(fds, base_env)
    if contention is not None and isinstance(fast, Spawner):
        contention.watch(fast.pid)
    try:
        for step in request["steps"]:
            if _state["interrupted"]:
                break
            measured = step.get("kind") != "setup"
            # a batch holds repetitions of one benchmark and kind; another may be long
            this = (step.get("kind"), step.get("benchmark", step["id"]))
            if this != group:
                _flush(contention)
                group = this
            if measured and not checked:
                checked = True
                scheduler = _before_measuring(request, base_env, workdir)
                if scheduler is False:
                    break
                if _inherited(request) and isinstance(fast, Spawner):
                    # nice and RLIMIT_RTTIME pass to children: a spawner started before
                    # they were set would give the benchmark the harness's old values
                    fast.close()
                    fast = Spawner.create(fds, base_env) or FastSpawn.create(fds, base_env)
                    if contention is not None and isinstance(fast, Spawner):
                        contention.watch(fast.pid)
            if deadline is not None and time.monotonic() >= deadline:
                return True
            if measured and contention is not None:
                contention.begin()
            event = run_step(
                step,
                base_env,
                workdir,
                rundir,
                deadline,
                fds,
                scheduler if measured else None,
                fast,
            )
            _emit_step(event, measured, contention)
            if deadline is not None and event["timed_out"] and time.monotonic() >= deadline:
                return True
            if not measured and (event["exit"] != 0 or event["timed_out"]):
                break
    finally:
        _flush(contention)
        if fast is not None:
            fast.close()
    return False


def _inherited(request):
    """Whether the job sets what children inherit (nice, RLIMIT_RTTIME) after setup."""
    sched = request.get("sched") or {}
    return sched.get("nice") is not None or bool(sched.get("rttime_us"))


def _flush(contention):
    """Events of an open window, then every batched event, go out now."""
    for event in contention.close() if contention is not None else []:
        emit(event, batch=True)
    send_pending()


def _emit_step(event, measured, contention):
    if _state["interrupted"]:
        event["interrupted"] = True
    # a short repetition is followed by more like it: its event may wait for the batch
    urgent = event["wall_ns"] >= BATCH_S * 1e9 or event["error"] or _state["interrupted"]
    if not measured or contention is None:
        emit(event, batch=measured and not urgent)
        return
    for ready in contention.add(event, force=bool(urgent)):
        emit(ready, batch=not urgent)
    if urgent:
        send_pending()


def main():
    request = read_request()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, _on_stop)
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGHUP, _on_stop)
    if request.get("watch_stdin"):
        _watch_stdin()
    workdir = request["workdir"]
    rundir = request["rundir"]
    os.makedirs(rundir, exist_ok=True)
    os.chdir(workdir)
    try:
        cgroups = _enter_cgroups(request.get("cgroups"))
        if request.get("cpus"):
            os.sched_setaffinity(0, request["cpus"])
        if request.get("nice") is not None:
            os.setpriority(os.PRIO_PROCESS, 0, int(request["nice"]))
    except OSError as exc:
        allowed = sorted(os.sched_getaffinity(0))
        emit(
            {
                "event": "fatal",
                "error": "cannot place the benchmark (cgroups %s, CPUs %s): "
                "%s; this process may use CPUs %s"
                % (request.get("cgroups"), request.get("cpus"), exc.strerror or exc, allowed),
            }
        )
        return
    base_env = dict(os.environ)
    base_env.update({k: str(v) for k, v in (request.get("env") or {}).items()})
    job_timeout = request.get("job_timeout")
    deadline = time.monotonic() + job_timeout if job_timeout else None
    logs, fds = open_logs(rundir)
    cpus = sorted(os.sched_getaffinity(0))
    contention = Contention.create(cpus)
    emit(
        {
            "event": "start",
            "pid": os.getpid(),
            "cgroups": cgroups,
            "logs": logs,
            "cpus": cpus,
            "contention": contention
            and {"source": contention.source, "window_ns": contention.window_ns},
        }
    )
    refused = refusals(request, base_env)
    job_timed_out = False
    if refused:
        emit({"event": "refused", "items": refused})
    else:
        job_timed_out = run_steps(request, base_env, workdir, rundir, deadline, fds, contention)
    emit({"event": "done", "interrupted": _state["interrupted"], "job_timed_out": job_timed_out})


if __name__ == "__main__":
    main()
