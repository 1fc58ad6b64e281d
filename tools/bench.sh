#!/usr/bin/env bash
# nngraph's benchmarks against PyTorch and OpenBLAS, and the run log's cost,
# measured in one run; prints every measurement and then the ratios
# (docs/performance.md, docs/runlog.md).
#
#   bash tools/bench.sh            the full set (a few minutes)
#   bash tools/bench.sh --quick    fewer epochs/samples, no repeats: a smoke test
#
# Each training run is repeated (REPEAT=3 by default, interleaving nngraph
# and PyTorch) and the fastest of the repeats is kept: other processes only
# ever add time, so the minimum is the least disturbed measurement.
# Builds ./build (release) if needed. PyTorch comes from Debian's
# python3-torch through /usr/bin/python3; without it the PyTorch columns
# are left out. Timings on a shared machine are noisy: compare the ratios
# of one run, not numbers across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

[ -d build ] || meson setup build >/dev/null
ninja -C build -j2 tools/bench_train tools/bench_matmul tools/bench_sched tools/bench_runlog >/dev/null
bin=build/tools
py=/usr/bin/python3
have_torch=1
"$py" -c 'import torch' 2>/dev/null || { have_torch=0; echo "bench.sh: no PyTorch (python3-torch): nngraph only" >&2; }

digits_args=() mlp_args=() ms=60 runs=2000 repeat=${REPEAT:-3} runlog_args=()
if [ "$quick" = 1 ]; then digits_args=(--epochs 4) mlp_args=(--samples 6000) ms=10 runs=200 repeat=1 runlog_args=(--epochs 4 --repeat 1); fi

log=$(mktemp)
run() { "$@" | tee -a "$log"; }
# best OUT CMD...: runs CMD once, appending its line to OUT unless OUT
# already holds a faster one (by seconds=)
best() {
  local out=$1; shift
  local line; line=$("$@")
  echo "  $line" >&2
  local new old
  new=$(sed -n 's/.* seconds=\([^ ]*\).*/\1/p' <<<"$line")
  old=$(sed -n 's/.* seconds=\([^ ]*\).*/\1/p' "$out" 2>/dev/null || true)
  if [ -z "$old" ] || awk -v a="$new" -v b="$old" 'BEGIN { exit !(a < b) }'; then echo "$line" >"$out"; fi
}
tmpd=$(mktemp -d)
trap 'rm -rf "$log" "$tmpd"' EXIT

# OpenBLAS would otherwise start (and spin) a thread per core at load
export OPENBLAS_NUM_THREADS=1
echo "training runs (each line one repeat; the fastest of each kind is kept):" >&2
for net in digits mlp; do
  if [ "$net" = digits ]; then args=("${digits_args[@]}"); else args=("${mlp_args[@]}"); fi
  for ((r = 0; r < repeat; r++)); do
    for t in 1 2; do
      best "$tmpd/ng-$net-$t" "$bin/bench_train" --net "$net" --threads "$t" "${args[@]}"
      [ "$net" = digits ] && best "$tmpd/fit-$net-$t" "$bin/bench_train" --net "$net" --loop fit --threads "$t" "${args[@]}"
      [ "$have_torch" = 1 ] && best "$tmpd/pt-$net-$t" "$py" tools/bench/torch_train.py --net "$net" --threads "$t" "${args[@]}"
    done
  done
done
echo "fastest of each:"
cat "$tmpd"/ng-digits-* "$tmpd"/fit-digits-* "$tmpd"/pt-digits-* "$tmpd"/ng-mlp-* "$tmpd"/pt-mlp-* 2>/dev/null | tee -a "$log"
run "$bin/bench_matmul" --threads 1 --ms "$ms"
run "$bin/bench_sched" --threads 1 --runs "$runs"
run "$bin/bench_sched" --threads 2 --runs "$runs"
# the run log's cost (docs/runlog.md): digits through nn_fit, plain and logged, interleaved
run "$bin/bench_runlog" "${runlog_args[@]}"

# value KEY PATTERN...: KEY's value on the first log line matching all patterns
value() {
  local key=$1; shift
  local line; line=$(cat "$log")
  for p in "$@"; do line=$(grep -F -- "$p" <<<"$line" || true); done
  sed -n "1s/.* $key=\([^ ]*\).*/\1/p" <<<"$line"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo
echo "== ratios (this run) =="
for t in 1 2; do
  ng=$(value seconds "impl=nngraph" "net=digits" "loop=core" "threads=$t ")
  us=$(value us_per_step "impl=nngraph" "net=digits" "loop=core" "threads=$t ")
  ngr=$(value peak_rss_kib "impl=nngraph" "net=digits" "loop=core" "threads=$t ")
  fit=$(value seconds "impl=nngraph" "net=digits" "loop=fit" "threads=$t ")
  pt=$(value seconds "impl=pytorch" "net=digits" "threads=$t ")
  ptr=$(value peak_rss_kib "impl=pytorch" "net=digits" "threads=$t ")
  echo "(a) digits, $t thread(s): nngraph ${ng}s (${us} us/step), PyTorch ${pt:-n/a}s:" \
       "speed-up $(ratio "$pt" "$ng")x (target >= 10); peak RSS ${ngr} KiB vs ${ptr:-n/a} KiB:" \
       "PyTorch/nngraph $(ratio "$ptr" "$ngr")x (target >= 10)"
  echo "    through nn_fit: ${fit}s, speed-up $(ratio "$pt" "$fit")x"
done
echo "(a) digits, nngraph 2 threads vs 1: time ratio t2/t1 = $(ratio "$(value seconds impl=nngraph net=digits loop=core 'threads=2 ')" \
     "$(value seconds impl=nngraph net=digits loop=core 'threads=1 ')") (target <= 1)"
for t in 1 2; do
  ng=$(value samples_per_s "impl=nngraph" "net=mlp" "threads=$t ")
  pt=$(value samples_per_s "impl=pytorch" "net=mlp" "threads=$t ")
  echo "(b) mlp 784-512-512-10, $t thread(s): nngraph ${ng} samples/s, PyTorch ${pt:-n/a}:" \
       "ratio $(ratio "$ng" "$pt")x (target >= 1.2)"
done
echo "(b) mlp, nngraph 2 threads vs 1: speed-up $(ratio "$(value samples_per_s impl=nngraph net=mlp 'threads=2 ')" \
     "$(value samples_per_s impl=nngraph net=mlp 'threads=1 ')")x (target > 1)"
echo "(c) matmul vs direct cblas_sgemm: mean $(value mean_ratio 'matmul threads=1 summary')," \
     "worst $(value worst_ratio 'matmul threads=1 summary') (target >= 0.85)"
for t in 1 2; do
  echo "(d) scheduler, $t thread(s): $(value overhead_ns_per_node "sched threads=$t ") ns per node (target < 1000)"
done
for m in final every10 every1; do
  r=$(value ratio "runlog mode=$m ")
  share=$(value per_epoch_share "runlog mode=$m ")
  echo "(e) run log, digits through nn_fit, every step's loss + epoch metrics, checkpoint $m:" \
       "$(awk -v r="$r" -v p="$share" 'BEGIN { if (r == "") print "n/a"; else printf "%+.1f%% of the unlogged run'"'"'s time, %.1f%% per step and epoch", 100 * (r - 1), 100 * p }')" \
       "(target < 5%), + $(value fixed_ms "runlog mode=$m ") ms once a run"
done
