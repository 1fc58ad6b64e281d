#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) in build-fuzz/ and runs them.
#
#   tools/fuzz.sh [-t SECONDS | -n RUNS] [-s SEED] [TARGET...]
#
# Each target runs SECONDS (default 30) or RUNS inputs, one after the
# other, on its seed corpus (tests/fuzz/corpus/TARGET, read only; inputs it
# finds go to build-fuzz/corpus/TARGET) with the graph-format dictionary
# for the graph target. A finding (crash, leak, sanitizer report, failed
# check) is copied to tests/fuzz/crashes/TARGET/, which every `meson test`
# replays: commit it with the fix. Exit status 1 if any target found
# something. Targets: graph weights idx csv ffi_sig runlog ui npy (default: all).
# The figures of each run (runs, seconds, runs/s) go to
# build-fuzz/fuzz-TARGET.log; docs/fuzzing.md has the measured ones.
# -s fixes libFuzzer's seed, so a run repeats the same inputs in the same
# order (CI uses it: what it explores in 30 s was explored longer before).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
runs=
seed=
while getopts "t:n:s:" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    n) runs=$OPTARG ;;
    s) seed=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(graph weights idx csv ffi_sig runlog ui npy)

if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") >/dev/null

# halt on undefined behaviour too; leaks are findings
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
found=0
for t in "${targets[@]}"; do
    work=build-fuzz/corpus/$t crashes=tests/fuzz/crashes/$t
    mkdir -p "$work" build-fuzz/artifacts/$t
    args=(-rss_limit_mb=2048 -timeout=20 -artifact_prefix=build-fuzz/artifacts/$t/ -print_final_stats=1)
    [ "$t" = graph ] && args+=(-dict=tests/fuzz/graph.dict)
    [ -n "$seed" ] && args+=(-seed="$seed")
    if [ -n "$runs" ]; then args+=(-runs="$runs"); else args+=(-max_total_time="$seconds"); fi
    # the seed corpus and earlier findings are read; new inputs go to $work
    dirs=("$work" tests/fuzz/corpus/$t)
    [ -d "$crashes" ] && dirs+=("$crashes")
    if [ -n "$runs" ]; then echo "fuzz_$t: $runs runs"; else echo "fuzz_$t: $seconds s"; fi
    if ! build-fuzz/tests/fuzz/fuzz_$t "${args[@]}" "${dirs[@]}" >build-fuzz/fuzz-$t.log 2>&1; then
        found=1
        mkdir -p "$crashes"
        cp build-fuzz/artifacts/$t/* "$crashes/" 2>/dev/null || true
        echo "fuzz_$t: FOUND something (input copied to $crashes/); the end of its log:" >&2
        tail -40 build-fuzz/fuzz-$t.log >&2
    fi
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|Done [0-9]+ runs" build-fuzz/fuzz-$t.log | \
        tr '\n' ' ' | sed "s/^/fuzz_$t: /"
    echo
done
exit $found
