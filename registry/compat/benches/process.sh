#!/usr/bin/env bash
# Times the whole `accord check` process on the engine's generated fixtures,
# with two baselines of the same run: `true` (what starting any process
# costs here) and the start of the same binary (`accord --version`). Prints
# the smallest and the median wall time of RUNS runs each; each ACCORD
# binary given (space-separated) is run in turn within every round, so that
# binaries compared share the machine's state.
#
#   cargo build --release -p accord-cli
#   cargo run --release -p accord-compat --example fixtures -- /tmp/accord-fixtures
#   registry/compat/benches/process.sh target/release/accord /tmp/accord-fixtures 30
#   registry/compat/benches/process.sh "/tmp/before/accord target/release/accord" /tmp/accord-fixtures 30
#
# Wall time on a machine shared with other work varies; the instruction
# counts of `valgrind --tool=callgrind` (BENCHMARKS.md) do not. Copy the
# binaries compared at the same time: a file written just before sits in
# the page cache in larger pieces, and starts with fewer page faults than
# an older copy of the same bytes.
set -eu
read -r -a binaries <<<"${1:-target/release/accord}"
dir=${2:-/tmp/accord-fixtures}
runs=${3:-30}
truebin=$(type -P true)

# The cases: a label, then the arguments after the binary.
labels=()
cases=()
add() {
    labels+=("$1")
    cases+=("$2")
}
add "accord --version (process start)" "--version"
add "check 2,000 properties (BACKWARD)" "check $dir/props-2000-new.json --against $dir/props-2000-old.json"
add "check 8,000 properties (BACKWARD)" "check $dir/props-8000-new.json --against $dir/props-8000-old.json"
add "check configuration revision (BACKWARD)" "check $dir/configuration-1.json --against $dir/configuration-0.json"
add "check configuration revision (FULL)" "check $dir/configuration-1.json --against $dir/configuration-0.json --mode full"

# Microseconds of one run of the command given, without forking a clock.
elapsed() {
    local start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    local end=$EPOCHREALTIME
    echo $(((${end/./} - ${start/./})))
}

# "min median" in milliseconds of the microsecond values on stdin.
summary() {
    sort -n | awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[1] / 1000, v[int((NR + 1) / 2)] / 1000 }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < runs; r++)); do
    elapsed "$truebin" >>"$tmp/true"
    for ((c = 0; c < ${#cases[@]}; c++)); do
        for ((b = 0; b < ${#binaries[@]}; b++)); do
            # shellcheck disable=SC2086 # the case's words are its arguments
            elapsed "${binaries[b]}" ${cases[c]} >>"$tmp/$c.$b"
        done
    done
done

printf '%-42s %-28s %8s %9s\n' "command" "binary" "min ms" "median ms"
read -r lo mid < <(summary <"$tmp/true")
printf '%-42s %-28s %8s %9s\n' "true (any process start)" "$truebin" "$lo" "$mid"
for ((c = 0; c < ${#cases[@]}; c++)); do
    for ((b = 0; b < ${#binaries[@]}; b++)); do
        read -r lo mid < <(summary <"$tmp/$c.$b")
        name=${binaries[b]}
        if ((${#name} > 28)); then name="…${name: -27}"; fi
        printf '%-42s %-28s %8s %9s\n' "${labels[c]}" "$name" "$lo" "$mid"
    done
done
