#!/usr/bin/env bash
# The Fashion-MNIST examples against PyTorch (Debian's python3-torch) with
# the same threads, in one run: training time (one epoch, no validation)
# and peak memory, printed as ratios (docs/performance.md).
#
#   bash tools/bench/fashion.sh [--limit N] [--epochs E]
#
# Each configuration runs REPEAT times (default 2), nngraph and PyTorch
# interleaved, and the fastest repeat is kept (other processes only add
# time); at 1 thread the CPU time of training is compared too, the figure
# other processes on a shared machine disturb least. OPENBLAS_NUM_THREADS=1
# for both sides: nngraph splits products over its own threads, and
# PyTorch gets torch.set_num_threads(N). The examples run
# --no-standardize, so both sides compute the same graph on raw 0..1
# pixels (the schedule does not change the work).
set -euo pipefail
cd "$(dirname "$0")/../.."
limit=0 epochs=1 repeat=${REPEAT:-2}
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) limit=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "fashion.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -d build ] || meson setup build >/dev/null
ninja -C build examples/fashion_cnn examples/fashion_mlp >/dev/null
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

keep() { # keep FILE LINE: the faster of LINE and FILE's line, by wall time
  # (FILE) and by CPU time (FILE.cpu), each the fastest of the repeats
  local new old key file
  for key in seconds cpu_seconds; do
    file=$1; [ $key = cpu_seconds ] && file=$1.cpu
    new=$(sed -n "s/.* $key=\([^ ]*\).*/\1/p" <<<"$2")
    old=$(sed -n "s/.* $key=\([^ ]*\).*/\1/p" "$file" 2>/dev/null || true)
    if [ -z "$old" ] || awk -v a="$new" -v b="$old" 'BEGIN { exit !(a < b) }'; then echo "$2" >"$file"; fi
  done
}
for ((r = 0; r < repeat; r++)); do
  for net in cnn mlp; do
    for t in 1 2; do
      line=$(/usr/bin/time -f 'peak_rss_kib=%M' "build/examples/fashion_$net" --epochs "$epochs" --threads "$t" \
             --no-val --no-standardize --bench $( [ "$limit" != 0 ] && echo --limit "$limit") 2>"$tmp/err" |
             grep '^impl=')
      line="$line $(tail -1 "$tmp/err")"
      echo "  $line" >&2
      keep "$tmp/ng-$net-$t" "$line"
      line=$(/usr/bin/python3 tools/bench/torch_fashion.py --net "$net" --threads "$t" --epochs "$epochs" \
             $( [ "$limit" != 0 ] && echo --limit "$limit"))
      echo "  $line" >&2
      keep "$tmp/pt-$net-$t" "$line"
    done
  done
done
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "fastest of each:"
cat "$tmp"/ng-*[0-9] "$tmp"/pt-*[0-9]
echo
echo "== ratios (this run) =="
for net in cnn mlp; do
  target=$([ "$net" = cnn ] && echo 1.0 || echo 1.5)
  for t in 1 2; do
    a="$tmp/ng-$net-$t" b="$tmp/pt-$net-$t"
    echo "fashion $net, $t thread(s): nngraph $(val seconds "$a")s, PyTorch $(val seconds "$b")s:" \
         "speed-up $(ratio "$(val seconds "$b")" "$(val seconds "$a")")x (target >= $target);" \
         "peak RSS nngraph/PyTorch $(ratio "$(val peak_rss_kib "$a")" "$(val peak_rss_kib "$b")") (target < 0.5)"
    # at 1 thread the CPU time is the speed that other processes disturb least
    [ "$t" = 1 ] && echo "fashion $net, 1 thread, CPU time: nngraph $(val cpu_seconds "$a.cpu")s," \
         "PyTorch $(val cpu_seconds "$b.cpu")s: speed-up $(ratio "$(val cpu_seconds "$b.cpu")" "$(val cpu_seconds "$a.cpu")")x"
  done
done
