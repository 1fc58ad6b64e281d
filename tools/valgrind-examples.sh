#!/usr/bin/env bash
# Runs every example (and the nngraph command's main paths) under valgrind's
# memcheck and fails on any leak or memory error. Graphviz's own font and
# layout caches are suppressed (tools/valgrind.supp); nothing of nngraph's is.
#   bash tools/valgrind-examples.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/build.ninja" ] || { echo "valgrind-examples: no build in '$build' (meson setup $build)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind-examples: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
ninja -C "$build" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg=(valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
    --suppressions=tools/valgrind.supp --error-exitcode=9 -q)
fail=0
check() {
  local name=$1; shift
  if "${vg[@]}" "$@" >"$tmp/out" 2>"$tmp/err"; then echo "ok    $name"
  else echo "FAIL  $name"; grep -E '^==[0-9]+==' "$tmp/err" | head -30; fail=1; fi
}
for e in blobs perceptron sigmoid_neuron softmax_regression hidden_layer regression ffi_train; do
  check "$e" "$build/examples/$e"
done
# digits: 2 epochs are enough to walk every code path (40 take minutes under valgrind)
check "digits --db --graph --weights" "$build/examples/digits" --epochs 2 --db "$tmp/runs.db" \
  --graph "$tmp/digits.nng" --weights "$tmp/digits.nnw"
n=$build/tools/nngraph
check "nngraph dot -o svg" "$n" dot "$tmp/digits.nng" --layers -o "$tmp/d.svg"
check "nngraph summary" "$n" summary "$tmp/digits.nng"
check "nngraph runs/show" "$n" show "$tmp/runs.db:1"
check "nngraph predict" "$n" predict "$tmp/digits.nng" --weights "$tmp/digits.nnw" \
  --data examples/data/digits20-train-images.idx3-ubyte.gz examples/data/digits20-train-labels.idx1-ubyte.gz
exit $fail
