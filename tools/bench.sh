#!/usr/bin/env bash
# nngraph's benchmarks against PyTorch and OpenBLAS, and the run log's cost,
# measured in one run; prints every measurement and then the ratios
# (docs/performance.md, docs/runlog.md).
#
#   bash tools/bench.sh            the full set (ten minutes or more)
#   bash tools/bench.sh --quick    fewer epochs/samples, no repeats: a smoke test
#   BASE_BUILD=DIR bash tools/bench.sh   also an earlier build, for "before/now"
#
# Issue 17's four items: products (digits, Fashion, the sgemm probe at
# every product shape with the fraction of the shape bound), batches and
# the whole digits process, threads (the 784-W-W-10 grid on 1 and 2
# threads and the choice each plan made), large batches (against PyTorch
# at W = 2048). Each is run with OpenBLAS's kernels as the environment
# picks them and with the other choice (OPENBLAS_CORETYPE=Haswell or
# unset). PyTorch runs at its best on one thread: OPENBLAS_NUM_THREADS=1
# as well as torch.set_num_threads(1).
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
ninja -C build -j2 tools/bench_train tools/bench_matmul tools/bench_sched tools/bench_runlog examples/digits >/dev/null
bin=build/tools
py=/usr/bin/python3
have_torch=1
"$py" -c 'import torch' 2>/dev/null || { have_torch=0; echo "bench.sh: no PyTorch (python3-torch): nngraph only" >&2; }
fashion_dir=/usr/share/datasets/fashion-mnist
have_fashion=1
[ -f "$fashion_dir/train-images-idx3-ubyte.gz" ] || { have_fashion=0; echo "bench.sh: no $fashion_dir (dataset-fashion-mnist): no Fashion runs" >&2; }
# BASE_BUILD=DIR: the build directory of an earlier nngraph (its
# tools/bench_train with --net fashion, and examples/digits): adds "before"
# runs, interleaved with the others, for the speed-ups against it
base=${BASE_BUILD:-}

digits_args=() fashion_args=() mlp_args=() ms=60 runs=2000 repeat=${REPEAT:-3} runlog_args=() grid_scale=1
if [ "$quick" = 1 ]; then digits_args=(--epochs 4) fashion_args=(--samples 6000) mlp_args=(--samples 6000) ms=10 runs=200 repeat=1 runlog_args=(--epochs 4 --repeat 1) grid_scale=8; fi

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
# wall CMD...: one line "seconds=S" with the wall time of CMD (output dropped)
wall() {
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "seconds=%.4f\n", b - a }'
}
tmpd=$(mktemp -d)
trap 'rm -rf "$log" "$tmpd"' EXIT

# OpenBLAS's kernel choice as the environment has it, and the other way:
# Haswell kernels forced (what OPENBLAS_CORETYPE=Haswell, a common guard
# against mis-detection, gives on AVX-512 CPUs), or auto-detection
asis=${OPENBLAS_CORETYPE:-auto}
if [ "$asis" = Haswell ]; then other=auto; else other=Haswell; fi
coretypes=("$asis" "$other")
ct() { local c=$1; shift; if [ "$c" = auto ]; then env -u OPENBLAS_CORETYPE "$@"; else env OPENBLAS_CORETYPE="$c" "$@"; fi; }
tag() { local t=$1; shift; "$@" | sed "s/^/$t /"; }

echo "training runs (each line one repeat; the fastest of each kind is kept):" >&2
for ((r = 0; r < repeat; r++)); do
  for c in "${coretypes[@]}"; do
    # PyTorch at its best: one OpenBLAS thread as well as torch.set_num_threads(1)
    for t in 1 2; do
      best "$tmpd/ng-digits-$c-$t" tag "ct=$c" ct "$c" "$bin/bench_train" --net digits --threads "$t" "${digits_args[@]}"
    done
    # nn_fit on 2 threads gathers the next batch on the second one
    for t in 1 2; do
      best "$tmpd/fit-digits-$c-$t" tag "ct=$c" ct "$c" "$bin/bench_train" --net digits --loop fit --threads "$t" "${digits_args[@]}"
    done
    [ -n "$base" ] && best "$tmpd/base-digits-$c" tag "ct=$c base=1" ct "$c" "$base/tools/bench_train" --net digits --threads 1 "${digits_args[@]}"
    [ "$have_torch" = 1 ] && best "$tmpd/pt-digits-$c" tag "ct=$c" ct "$c" env OPENBLAS_NUM_THREADS=1 "$py" tools/bench/torch_train.py --net digits --threads 1 "${digits_args[@]}"
    best "$tmpd/proc-digits-$c" tag "ct=$c process=digits" wall ct "$c" build/examples/digits --threads 1
    best "$tmpd/proc2-digits-$c" tag "ct=$c process2=digits" wall ct "$c" build/examples/digits --threads 2
    [ -n "$base" ] && best "$tmpd/baseproc-digits-$c" tag "ct=$c base=1 process=digits" wall ct "$c" "$base/examples/digits" --threads 1
    if [ "$have_fashion" = 1 ]; then
      for t in 1 2; do
        best "$tmpd/ng-fashion-$c-$t" tag "ct=$c" ct "$c" "$bin/bench_train" --net fashion --threads "$t" "${fashion_args[@]}"
      done
      [ -n "$base" ] && best "$tmpd/base-fashion-$c" tag "ct=$c base=1" ct "$c" "$base/tools/bench_train" --net fashion --threads 1 "${fashion_args[@]}"
      [ "$have_torch" = 1 ] && best "$tmpd/pt-fashion-$c" tag "ct=$c" ct "$c" env OPENBLAS_NUM_THREADS=1 "$py" tools/bench/torch_train.py --net fashion --threads 1 "${fashion_args[@]}"
    fi
  done
  # the 784-W-W-10 grid, environment as it is: 1 and 2 threads, PyTorch on 1
  for w in 128 512 2048; do
    for b in 32 256; do
      case $w in 128) s=16384 ;; 512) s=8192 ;; *) s=4096 ;; esac
      s=$((s / grid_scale))
      for t in 1 2; do
        best "$tmpd/grid-$w-$b-$t" tag "ct=$asis grid=1" ct "$asis" "$bin/bench_train" --net mlp --width "$w" --batch "$b" --samples "$s" --threads "$t"
      done
      [ "$have_torch" = 1 ] && [ "$b" = 256 ] && best "$tmpd/ptgrid-$w-$b" tag "ct=$asis grid=1" ct "$asis" env OPENBLAS_NUM_THREADS=1 "$py" tools/bench/torch_train.py --net mlp --width "$w" --batch "$b" --samples "$s" --threads 1
    done
  done
done
echo "fastest of each:"
cat "$tmpd"/* | sort | tee -a "$log"
for c in "${coretypes[@]}"; do
  run tag "ct=$c" ct "$c" env OPENBLAS_NUM_THREADS=1 "$bin/bench_matmul" --threads 1 --ms "$ms"
done
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
echo "== ratios (this run; OpenBLAS kernels: $asis as the environment has them, $other forced) =="
for c in "${coretypes[@]}"; do
  ng=$(value seconds "ct=$c impl=nngraph" "net=digits" "loop=core" "threads=1 ")
  pt=$(value seconds "ct=$c impl=pytorch" "net=digits")
  bs=$(value seconds "ct=$c base=1" "net=digits")
  fit=$(value seconds "ct=$c impl=nngraph" "net=digits" "loop=fit" "threads=1 ")
  fit2=$(value seconds "ct=$c impl=nngraph" "net=digits" "loop=fit" "threads=2 ")
  proc2=$(value seconds "ct=$c process2=digits")
  proc=$(value seconds "ct=$c process=digits")
  bproc=$(value seconds "ct=$c base=1 process=digits")
  ngr=$(value peak_rss_kib "ct=$c impl=nngraph" "net=digits" "loop=core" "threads=1 ")
  ptr=$(value peak_rss_kib "ct=$c impl=pytorch" "net=digits")
  echo "[$c] (1) digits training, 1 thread: ${ng}s (target <= 0.15), nn_fit ${fit}s; PyTorch/nngraph $(ratio "$pt" "$ng")x;" \
       "before/now $(ratio "$bs" "$ng")x; peak RSS PyTorch/nngraph $(ratio "$ptr" "$ngr")x"
  echo "[$c] (2) digits whole process (build/examples/digits --threads 1): ${proc}s (target <= 0.2); before/now $(ratio "$bproc" "$proc")x"
  echo "[$c] (3) digits 2 threads / 1 thread, time: $(ratio "$(value seconds "ct=$c impl=nngraph" net=digits loop=core 'threads=2 ')" "$ng") (target <= 1);" \
       "nn_fit (next batch on the second thread) $(ratio "$fit2" "$fit"); whole process $(ratio "$proc2" "$proc")"
  if [ "$have_fashion" = 1 ]; then
    fn=$(value seconds "ct=$c impl=nngraph" "net=fashion" "threads=1 ")
    fb=$(value seconds "ct=$c base=1" "net=fashion")
    fp=$(value seconds "ct=$c impl=pytorch" "net=fashion")
    fr=$(value peak_rss_kib "ct=$c impl=nngraph" "net=fashion" "threads=1 ")
    echo "[$c] (1) Fashion MLP epoch, 1 thread: ${fn}s; before/now $(ratio "$fb" "$fn")x (target >= 1.3);" \
         "PyTorch/nngraph $(ratio "$fp" "$fn")x; peak RSS ${fr} KiB (target < 80 MB)"
    echo "[$c] (3) Fashion 2 threads / 1 thread, time: $(ratio "$(value seconds "ct=$c impl=nngraph" net=fashion 'threads=2 ')" "$fn") (target <= 1)"
  fi
  echo "[$c] (1) product at 32x25x400, 1 thread: $(value nngraph_1thread_gflops "ct=$c " 'shape=digits fwd L1') GFLOP/s (target >= 100)," \
       "cblas_sgemm $(value sgemm_gflops "ct=$c " 'shape=digits fwd L1')"
  echo "[$c] products vs cblas_sgemm, every shape: mean $(value mean_ratio "ct=$c " 'summary'), worst $(value worst_ratio "ct=$c " 'summary');" \
       "fraction of the shape bound: mean $(value mean_bound_fraction "ct=$c " summary), worst $(value worst_bound_fraction "ct=$c " summary) (target 0.8)"
done
echo "(3) grid 784-W-W-10, one epoch's share, $asis kernels: seconds on 1 and 2 threads, the plan's choice (runs on one : on all)"
printf "    %-6s %-6s %-9s %-9s %-8s %-12s %-10s\n" W batch 1thread 2threads t1/t2 choice PyTorch/ng
for w in 128 512 2048; do
  for b in 32 256; do
    t1=$(value seconds grid=1 "impl=nngraph" "width=$w " "batch=$b " "threads=1 ")
    t2=$(value seconds grid=1 "impl=nngraph" "width=$w " "batch=$b " "threads=2 ")
    ro=$(value runs_one grid=1 "impl=nngraph" "width=$w " "batch=$b " "threads=2 ")
    ra=$(value runs_all grid=1 "impl=nngraph" "width=$w " "batch=$b " "threads=2 ")
    pg=$(value seconds grid=1 "impl=pytorch" "width=$w " "batch=$b ")
    printf "    %-6s %-6s %-9s %-9s %-8s %-12s %-10s\n" "$w" "$b" "$t1" "$t2" "$(ratio "$t1" "$t2")" "$ro:$ra" "$(ratio "$pg" "$t1")"
  done
done
echo "    targets: t1/t2 >= 1 everywhere, >= 1.7 at W=2048 batch 256 where threads pay; PyTorch/nngraph >= 2 at W=2048 batch 256"
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
