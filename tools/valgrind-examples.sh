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
# convolutions (oneDNN, ops/conv2d.c): a small CNN on the digits through the
# nngraph command, 8 channels, so both of conv2d's paths run (oneDNN on
# nngraph's plain layouts for the 1-channel input, its blocked layouts with
# reorders for the second layer), forward and both gradients, 2 threads
cat >"$tmp/cnn.nng" <<'EOF'
nngraph-graph 1
x input f32 [B,400]
y input i32 [B]
img reshape f32 [B,1,20,20] x rank=4 d0=0 d1=1 d2=20 d3=20
c1/W param f32 [8,1,3,3] init=glorot_uniform
c1/b param f32 [8] init=zeros
c1/conv conv2d f32 [B,8,18,18] img c1/W c1/b stride_h=1 stride_w=1 pad_h=0 pad_w=0 dilation_h=1 dilation_w=1 groups=1 padding=valid
c1/relu relu f32 [B,8,18,18] c1/conv
c2/W param f32 [8,8,3,3] init=glorot_uniform
c2/b param f32 [8] init=zeros
c2/conv conv2d f32 [B,8,8,8] c1/relu c2/W c2/b stride_h=2 stride_w=2 pad_h=0 pad_w=0 dilation_h=1 dilation_w=1 groups=1 padding=valid
c2/relu relu f32 [B,8,8,8] c2/conv
flat flatten f32 [B,512] c2/relu
d/W param f32 [512,10] init=glorot_uniform
d/b param f32 [10] init=zeros
d/matmul matmul f32 [B,10] flat d/W
d/add add f32 [B,10] d/matmul d/b
loss softmax_cross_entropy f32 [] d/add y
end 17
EOF
check "nngraph train (conv2d)" "$n" train "$tmp/cnn.nng" --epochs 1 --batch 500 --threads 2 \
  --data examples/data/digits20-train-images.idx3-ubyte.gz examples/data/digits20-train-labels.idx1-ubyte.gz
exit $fail
