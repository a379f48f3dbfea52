#!/bin/sh
# Times the whole `accord check` process on the engine's generated fixtures,
# with the start of the same binary (`accord --version`) as the baseline of
# the same run: the smallest and the median wall time of RUNS runs each.
#
#   cargo build --release -p accord-cli
#   cargo run --release -p accord-compat --example fixtures -- /tmp/accord-fixtures
#   registry/compat/benches/process.sh target/release/accord /tmp/accord-fixtures 30
#
# Wall time on a machine shared with other work varies; the instruction
# counts of `valgrind --tool=callgrind` (BENCHMARKS.md) do not.
set -eu
accord=${1:-target/release/accord}
dir=${2:-/tmp/accord-fixtures}
runs=${3:-30}

# Prints "min median" in milliseconds of `runs` runs of the command given.
measure() {
    i=0
    while [ "$i" -lt "$runs" ]; do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000))
        i=$((i + 1))
    done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[1] / 1000, v[int((NR + 1) / 2)] / 1000 }'
}

printf '%-58s %10s %10s\n' "command" "min ms" "median ms"
row() {
    label=$1
    shift
    set -- $(measure "$@")
    printf '%-58s %10s %10s\n' "$label" "$1" "$2"
}
row "accord --version (process start, baseline)" "$accord" --version
row "check 2,000 properties (BACKWARD)" \
    "$accord" check "$dir/props-2000-new.json" --against "$dir/props-2000-old.json"
row "check 8,000 properties (BACKWARD)" \
    "$accord" check "$dir/props-8000-new.json" --against "$dir/props-8000-old.json"
row "check configuration revision (BACKWARD)" \
    "$accord" check "$dir/configuration-1.json" --against "$dir/configuration-0.json"
row "check configuration revision (FULL)" \
    "$accord" check "$dir/configuration-1.json" --against "$dir/configuration-0.json" --mode full
