#!/bin/sh
# Regenerate the real benchmark outputs under tests/data/formats/ with the real tools.
#
#   sh tests/data/formats/regenerate.sh            # from the repository root
#
# Tools (Debian 12 packages unless noted), see VERSIONS.txt for what produced the files:
#   golang-go (go test -bench), libbenchmark-dev + g++ (Google Benchmark), hyperfine,
#   pytest-benchmark (PyPI), cargo + librust-criterion-dev (Criterion.rs 0.3, offline via
#   src/criterion/.cargo/config.toml). JMH is not available offline: jmh/*.json are written
#   by hand from JMH's documented JSON format (see jmh/README.md) and are not regenerated.
#
# Numbers change on every run; the tests assert structure (names, units, sample counts) and
# compare values against the files themselves, so regenerated data keeps the tests valid.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SCRATCH=$(mktemp -d /tmp/perflab-regen-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT INT TERM

versions() {
    echo "# Tool versions that produced these files ($(date -u +%Y-%m-%d))"
    go version
    echo "google-benchmark $(dpkg-query -W -f '${Version}' libbenchmark-dev)"
    hyperfine --version
    python3 -c 'import pytest_benchmark; print("pytest-benchmark", pytest_benchmark.__version__)'
    echo "criterion $(dpkg-query -W -f '${Version}' librust-criterion-dev)"
    cargo --version
}

gen_go() {
    out="$HERE/go"; mkdir -p "$out"
    cd "$HERE/src/go"
    export GOFLAGS=-mod=mod GOCACHE="$SCRATCH/gocache"
    go test -run '^$' -bench . -benchmem -count 3 -benchtime 2000x . > "$out/bench.txt"
    go test -run '^$' -bench 'Join|Sort' -benchmem -count 2 -cpu 1,2 -benchtime 1000x . \
        > "$out/cpu.txt"
    go test -run '^$' -bench 'Join|Sort' -benchmem -count 2 -benchtime 1000x -json . \
        > "$out/test2json.json"
    # A run cut off in the middle of a benchmark line (as when a job times out).
    line=$(grep -n '^BenchmarkSort/n=256' "$out/bench.txt" | head -1 | cut -d: -f1)
    head -n $((line - 1)) "$out/bench.txt" > "$out/truncated.txt"
    sed -n "${line}p" "$out/bench.txt" | sed 's#ns/op.*#ns/o#' | tr -d '\n' >> "$out/truncated.txt"
    cd "$HERE"
}

gen_gbench() {
    out="$HERE/gbench"; mkdir -p "$out"
    g++ -O2 -std=c++17 "$HERE/src/gbench/bench.cc" -o "$SCRATCH/perflab-gbench" \
        -lbenchmark -lpthread
    "$SCRATCH/perflab-gbench" --benchmark_repetitions=3 --benchmark_min_time=0.01 \
        --benchmark_format=json > "$out/repetitions.json"
    "$SCRATCH/perflab-gbench" --benchmark_min_time=0.01 --benchmark_format=json \
        --benchmark_filter='BM_Sort' > "$out/single.json"
    "$SCRATCH/perflab-gbench" --benchmark_repetitions=3 --benchmark_min_time=0.01 \
        --benchmark_report_aggregates_only=true --benchmark_filter='BM_Sort' \
        --benchmark_format=json > "$out/aggregates_only.json"
    sed "s#$SCRATCH#/tmp#" -i "$out"/*.json
    # A JSON document cut off halfway (as when the process is killed).
    head -c 1500 "$out/repetitions.json" > "$out/truncated.json"
}

gen_hyperfine() {
    out="$HERE/hyperfine"; mkdir -p "$out"
    cd "$SCRATCH"
    hyperfine --runs 5 --warmup 1 -N --style none --export-json "$out/commands.json" \
        'true' 'sleep 0.01' > /dev/null 2>&1
    hyperfine --runs 3 --style none -L ms 1,5 --export-json "$out/list.json" \
        'sleep 0.00{ms}' > /dev/null 2>&1
    hyperfine --runs 3 --style none --parameter-scan n 1 3 -n 'sleep {n} ms' \
        --export-json "$out/scan.json" 'sleep 0.00{n}' > /dev/null 2>&1
    cd "$HERE"
}

gen_pytest() {
    out="$HERE/pytest-benchmark"; mkdir -p "$out"
    cd "$SCRATCH"
    cp "$HERE/src/pytest/perflab_demo_bench.py" test_perflab_demo.py
    common="-q -p no:cacheprovider -o addopts= --benchmark-min-rounds=5 --benchmark-max-time=0.000001"
    # --benchmark-json always includes the per-round timings ("data").
    # shellcheck disable=SC2086
    python3 -m pytest $common test_perflab_demo.py --benchmark-json="$out/data.json" > /dev/null 2>&1
    # --benchmark-save without --benchmark-save-data keeps only the stats.
    # shellcheck disable=SC2086
    python3 -m pytest $common test_perflab_demo.py --benchmark-storage="file://$SCRATCH/storage" \
        --benchmark-save=perflab > /dev/null 2>&1
    cp "$SCRATCH"/storage/*/0001_perflab.json "$out/saved-stats.json"
    # shellcheck disable=SC2086
    python3 -m pytest $common test_perflab_demo.py --benchmark-storage="file://$SCRATCH/storage" \
        --benchmark-save=perflab-data --benchmark-save-data > /dev/null 2>&1
    cp "$SCRATCH"/storage/*/0002_perflab-data.json "$out/saved-data.json"
    cd "$HERE"
}

gen_criterion() {
    out="$HERE/criterion/target/criterion"
    rm -rf "$HERE/criterion"; mkdir -p "$out"
    cd "$HERE/src/criterion"
    CARGO_TARGET_DIR="$SCRATCH/target" cargo bench --quiet > /dev/null 2>&1
    cd "$SCRATCH/target/criterion"
    # Keep only what perflab reads: */new/{benchmark,estimates,sample}.json.
    find . -path '*/new/*.json' ! -name tukey.json | while read -r f; do
        mkdir -p "$out/$(dirname "$f")"; cp "$f" "$out/$f"
    done
    cd "$HERE"
}

gen_go
gen_gbench
gen_hyperfine
gen_pytest
gen_criterion
versions > "$HERE/VERSIONS.txt"
echo "regenerated $(find "$HERE" -path "$HERE/src" -prune -o -type f -print | wc -l) files"
