#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/scale-out.md): the
# 784-2048-2048-10 Fashion-MNIST MLP, batch 256 per rank, trained by
#   1 rank, 1 thread | 2 ranks (mpirun), 1 thread each, the progress thread
#   chosen automatically (none where no core is free for it) | 1 rank,
#   2 threads | 2 ranks with the progress thread forced
#   (NNGRAPH_DIST_PROGRESS=1)
#   | 2 independent 1-rank processes at once, no communication at all (the
#     ceiling that two copies of the weights on these cores allow)
# in turn, REPEAT rounds, each config EPOCHS epochs over the first ROWS
# training images of Debian's dataset-fashion-mnist. Prints samples/s of
# each and the ratios within each round (the machine may be shared: only
# ratios from one round mean much), and from the 2-rank run log each rank's
# communication wait and the fraction of the allreduce hidden behind the
# backward pass.
# Usage: tools/bench_dist.sh [BUILD_DIR] (env: ROWS=5120 EPOCHS=3 REPEAT=3 BUCKET_MB)
set -euo pipefail
build=${1:-build}
nngraph=$(realpath "$build/tools/nngraph")
rows=${ROWS:-5120} epochs=${EPOCHS:-3} repeat=${REPEAT:-3}
src=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
python3 - "$src" "$work" "$rows" <<'PY'
import gzip, struct, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
im = gzip.open(src + '/train-images-idx3-ubyte.gz').read()
lb = gzip.open(src + '/train-labels-idx1-ubyte.gz').read()
open(out + '/img.idx', 'wb').write(struct.pack('>IIII', 0x803, n, 28, 28) + im[16:16 + n * 784])
open(out + '/lab.idx', 'wb').write(struct.pack('>II', 0x801, n) + lb[8:8 + n])
lines = ['nngraph-graph 1', 'x input f32 [B,784]', 'y input i32 [B]']
prev, width = 'x', 784
for i, units in enumerate([2048, 2048, 10], 1):
    L = f'L{i}'
    lines += [f'{L}/W param f32 [{width},{units}] init=glorot_uniform', f'{L}/b param f32 [{units}] init=zeros',
              f'{L}/matmul matmul f32 [B,{units}] {prev} {L}/W', f'{L}/add add f32 [B,{units}] {L}/matmul {L}/b']
    prev, width = f'{L}/add', units
    if units != 10:
        lines.append(f'{L}/relu relu f32 [B,{units}] {L}/add')
        prev = f'{L}/relu'
lines.append(f'loss softmax_cross_entropy f32 [] {prev} y')
lines.append(f'end {len(lines) - 1}')
open(out + '/fashion.nng', 'w').write('\n'.join(lines) + '\n')
PY
cd "$work"
train() { # THREADS [LAUNCHER...]: samples/s of one run, rows*epochs / the fit's seconds
    local secs threads=$1
    shift
    secs=$("$@" "$nngraph" train fashion.nng --threads "$threads" --data img.idx lab.idx --epochs "$epochs" --batch 256 --quiet --optimizer sgd --lr 0.01 \
        ${LOGARGS:-} | sed -n 's/.*seconds \([0-9.]*\).*/\1/p')
    python3 -c "print(f'{$rows * $epochs / $secs:.0f}')"
}
echo "rows $rows, epochs $epochs, batch 256 per rank; samples/s"
for r in $(seq "$repeat"); do
    one=$(train 1)
    rm -f runs.db
    two=$(LOGARGS="--db runs.db" train 1 mpirun --oversubscribe -np 2)
    thr=$(train 2)
    pth=$(NNGRAPH_DIST_PROGRESS=1 train 1 mpirun --oversubscribe -x NNGRAPH_DIST_PROGRESS -np 2)
    train 1 >indep.a & train 1 >indep.b
    wait
    ind=$(python3 -c "print($(cat indep.a) + $(cat indep.b))")
    python3 -c "print(f'round $r: 1 rank {$one}  2 ranks {$two} ({$two/$one:.2f}x)  1 rank 2 threads {$thr} ({$thr/$one:.2f}x)  2 ranks thread forced {$pth} ({$pth/$one:.2f}x)  2 independent {$ind} ({$ind/$one:.2f}x)')"
    sqlite3 runs.db "select k.name, round(e.value, 3) from epoch_metric e join metric_key k on k.id = e.key
                     where k.name like 'rank%' and e.epoch = $epochs order by k.name" | tr '\n' ' '
    echo
done
