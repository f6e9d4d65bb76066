"""Fuzzing the YAML loaders: any text gives a loaded file or a perflab error, never another
exception. The job loader gets the most (it is what `validate`, `run` and `submit` read);
profiles and inventories (YAML and INI) get a share.

A job that loads is also planned into the harness's request, so a value that passes
validation but breaks what comes after (a NaN timeout used to crash the harness) is found.
Examples are derandomized so a run is repeatable, and there is no deadline (this machine's
speed varies by 1.7x).
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perflab.errors import PerflabError
from perflab.execute.plan import bench_steps, harness_request, setup_steps
from perflab.inventory import validate_inventory
from perflab.spec.job import Job, parse_job
from perflab.spec.playbook import parse_profile

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: mutations of a valid job: many more examples, they are cheap and where bugs hide
MUTATE = settings(FUZZ, max_examples=300)

GOOD_JOB: dict[str, Any] = {
    "name": "router",
    "workdir": ".",
    "env": {"MODE": "fast", "THREADS": 4},
    "setup": [{"run": "make -j2", "timeout": "2m"}],
    "benchmarks": [
        {"name": "lookup", "command": "./bench --lookup", "format": "go"},
        {
            "name": "insert",
            "command": ["./bench", "--insert"],
            "output": "out.json",
            "format": "gbench",
            "timeout": 30,
        },
    ],
    "repetitions": {"warmup": 2, "runs": 15, "order": "interleaved", "max_runs": 40},
    "timeout": {"repetition": "90s", "job": "1h"},
    "pin": {"cpus": "1-3", "nice": 5},
    "artifacts": ["profiles/*.svg"],
    "tags": ["net"],
    "compare": {"noise_band": "2%", "confidence": 0.95},
    "gates": [
        {"metric": "time", "stat": "p95", "max_increase": "10%"},
        {"metric": "time", "max": "200us"},
    ],
}
GOOD_PROFILE = (
    "name: lab\nvars: {cpus: reserved}\nverify: {max_cv: 0.05, repetitions: 50}\n"
    "pin: {nice: 5}\ntasks:\n  - cpuset_shield: {cpus: '{{ cpus }}'}\n"
    "  - freeze: {patterns: [chrome*], cpu_above: 10}\n"
)

_hostile = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        10**30,
        -(10**30),
        0,
        -1,
        1e-12,
        True,
        None,
        "",
        "0s",
        "0ms",
        "1ns",
        "99999999999h",
        "\x00",
        "a\x00b",
        "../../etc/passwd",
        "/etc/passwd",
        "~/x",
        ".",
        "{{ x }}",
        "*",
        "x" * 5000,
        [],
        {},
        [[[[]]]],
        {"a": {"b": {"c": 1}}},
        "reserved",
        "all",
        "2-",
        "fifo:99",
        "auto",
    ]
)
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=10)
    | _hostile,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_fragments = st.sampled_from(
    [
        "name: t\n",
        "benchmarks:\n",
        "  - ",
        "name: a\n",
        "command: [x]\n",
        "    ",
        "&a ",
        "*a",
        "<<: *a\n",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "\n",
        "- ",
        "? ",
        "|\n",
        ">\n",
        "!!binary ",
        "!!python/object:os.system ",
        "!custom ",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
        "'",
        '"',
        "#",
        ".nan",
        ".inf",
        "0x1F",
        "1e999",
        "~",
        "\t",
        "\x00",
        "\x07",
        "\ufeff",
        "\\0",
        '"\\0"',
        "repetitions: {runs: 1000000000000}\n",
        "timeout: {job: 0s}\n",
        "output: ../x\n",
    ]
)


def load_or_refuse(text: str) -> Job | None:
    """The job, planned into a harness request; or None when a perflab error refused it."""
    try:
        job = parse_job(text, "j.yaml")
    except PerflabError:
        return None
    reps = job.repetitions
    if len(job.benchmarks) * (reps.warmup + reps.runs) <= 2000:  # plan the small ones
        steps = setup_steps(job) + bench_steps(
            job, range(1, reps.runs + 1), warmups=reps.warmup, seed=1
        )
        request = harness_request(job, steps, workdir="/w", rundir="/w/out", cpus=[1], env={})
        json.dumps(request, allow_nan=False)  # what the harness receives: no NaN, no inf
    return job


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``doc``: each value's path (key or index steps), containers included."""
    found = [here] if here else []
    children = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, child in children:
        found += _paths(child, (*here, key))
    return found


PLACES = _paths(GOOD_JOB)


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = copy.deepcopy(value)  # sampled values are shared between examples


class TestJobLoader:
    def test_the_seed_job_loads(self) -> None:
        """The job the mutations start from is valid (else they would test nothing)."""
        assert load_or_refuse(yaml.safe_dump(GOOD_JOB)) is not None

    @FUZZ
    @given(st.text(max_size=400))
    def test_arbitrary_text(self, text: str) -> None:
        """Any text at all."""
        load_or_refuse(text)

    @FUZZ
    @given(st.lists(_fragments, max_size=40).map("".join))
    def test_yaml_token_soup(self, text: str) -> None:
        """YAML's syntax (anchors, aliases, merge keys, tags, flow and block) mixed up."""
        load_or_refuse(text)

    @MUTATE
    @given(st.lists(st.tuples(st.sampled_from(PLACES), _values | _hostile), min_size=1, max_size=3))
    def test_values_replaced(self, changes: list[tuple[tuple[Any, ...], Any]]) -> None:
        """A valid job with up to three of its values (any place) replaced by hostile ones."""
        doc = copy.deepcopy(GOOD_JOB)
        for path, value in changes:
            try:
                _replace(doc, path, value)
            except (KeyError, IndexError, TypeError):  # an earlier change removed the place
                continue
        load_or_refuse(yaml.safe_dump(doc, allow_unicode=True))

    @MUTATE
    @given(
        st.sampled_from([p for p in PLACES if isinstance(p[-1], str)]),
        st.text(max_size=8) | st.sampled_from(["runs", "timeout", "output", "<<", "pin"]),
        _values | _hostile,
    )
    def test_keys_added(self, place: tuple[Any, ...], key: str, value: Any) -> None:
        """A valid job with a key added beside any of its keys."""
        doc = copy.deepcopy(GOOD_JOB)
        node = doc
        for step in place[:-1]:
            node = node[step]
        node[key] = copy.deepcopy(value)
        load_or_refuse(yaml.safe_dump(doc, allow_unicode=True))

    @FUZZ
    @given(st.data())
    def test_text_spliced(self, data: st.DataObject) -> None:
        """A valid job's text with fragments spliced in anywhere."""
        text = yaml.safe_dump(GOOD_JOB, sort_keys=False)
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(text)))
            text = text[:at] + data.draw(_fragments | st.text(max_size=6)) + text[at:]
        load_or_refuse(text)


class TestOtherLoaders:
    @FUZZ
    @given(
        st.lists(
            _fragments
            | st.sampled_from(
                ["tasks:\n", "freeze: ", "verify: ", "cpuset_shield: {cpus: reserved}\n"]
            ),
            max_size=30,
        ).map("".join)
        | st.text(max_size=200)
    )
    def test_profiles(self, text: str) -> None:
        """Profiles: loaded or a perflab error."""
        try:
            parse_profile(GOOD_PROFILE + text, "p.yml")
            parse_profile(text, "p.yml")
        except PerflabError:
            pass

    @FUZZ
    @given(
        st.sampled_from(["h.yml", "h.ini"]),
        st.lists(
            _fragments
            | st.sampled_from(
                [
                    "all:\n",
                    "hosts:\n",
                    "children:\n",
                    "vars:\n",
                    "[g]\n",
                    "[g:children]\n",
                    "[g:vars]\n",
                    "h[1:3] x=1\n",
                    "h[a:]\n",
                    "ansible_port=99999\n",
                ]
            ),
            max_size=30,
        ).map("".join),
    )
    def test_inventories(self, name: str, text: str) -> None:
        """Inventories, YAML and INI: a list of problems, never an exception."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            for problem in validate_inventory(path):
                assert isinstance(problem, PerflabError)
