#!/bin/sh
# nngraph under mpirun beyond faults (suite dist):
#  - predict sharded over 2 ranks prints exactly what one process prints
#    (every row once, in order, only from rank 0), and the same accuracy;
#  - a rank that fails before training (rank 0 resuming a finished run)
#    ends the job with its message on the other rank too, not a timeout.
# usage: dist_cli.sh MPIEXEC NNGRAPH DATA_DIR
set -u
mpiexec=$1 nngraph=$2 data=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; cat err.txt >&2 2>/dev/null; exit 1; }
# the graph both dist scripts train (a file beside them)
cp "$here/dist_mlp.nng" mlp.nng || exit 1
images=$data/digits20-train-images.idx3-ubyte.gz labels=$data/digits20-train-labels.idx1-ubyte.gz
oversub=
"$mpiexec" --version 2>/dev/null | grep -Eq 'OpenRTE|Open MPI' && oversub=--oversubscribe
mpi() { "$mpiexec" $oversub -np 2 "$@"; }

# ---- predict ----
mpi "$nngraph" train mlp.nng --data "$images" "$labels" --epochs 2 --batch 16 --threads 1 --quiet -o w.bin \
    > out.txt 2> err.txt || fail "training under mpirun failed"
"$nngraph" predict mlp.nng --weights w.bin --data "$images" "$labels" > one.txt 2> one.err ||
    { cat one.err >&2; fail "predict in one process failed"; }
# odd batch: shards and batches do not line up
mpi "$nngraph" predict mlp.nng --weights w.bin --data "$images" "$labels" --batch 7 > two.txt 2> err.txt ||
    fail "predict under mpirun failed"
rows=$(wc -l < one.txt)
[ "$rows" -gt 100 ] || fail "predict printed only $rows rows"
[ "$(wc -l < two.txt)" -eq "$rows" ] || fail "predict under mpirun printed $(wc -l < two.txt) rows, not $rows"
cmp -s one.txt two.txt || fail "predict under mpirun predicts other classes than one process"
grep accuracy one.err > acc1.txt; grep accuracy err.txt > acc2.txt
[ "$(wc -l < acc2.txt)" -eq 1 ] || fail "predict under mpirun printed $(wc -l < acc2.txt) accuracy lines, not 1"
cmp -s acc1.txt acc2.txt || fail "accuracy differs: $(cat acc1.txt) vs $(cat acc2.txt)"
echo "predict: $rows rows under mpirun -np 2 equal one process's, $(cat acc2.txt)"
# scores: the logits of a row come from the same products whatever the
# shard; allow a float32 sum's rounding over the 400 + 25 terms
"$nngraph" predict mlp.nng --weights w.bin --data "$images" --scores > s1.txt 2> one.err || fail "predict --scores failed"
mpi "$nngraph" predict mlp.nng --weights w.bin --data "$images" --scores --batch 5 > s2.txt 2> err.txt ||
    fail "predict --scores under mpirun failed"
paste -d, s1.txt s2.txt | awk -F, '{
    n = NF / 2
    for (i = 1; i <= n; i++) { a = $i; b = $(i + n); d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a
        if (d > 1e-4 * (1 + m)) { print "row " NR " column " i ": " a " vs " b; bad = 1; exit } }
} END { exit bad }' || fail "predict --scores under mpirun differs from one process"
[ "$(wc -l < s2.txt)" -eq "$rows" ] || fail "predict --scores under mpirun printed $(wc -l < s2.txt) rows"

# ---- a rank failing before training ----
"$nngraph" train mlp.nng --data "$images" "$labels" --epochs 1 --batch 16 --quiet --db runs.db > out.txt 2> err.txt ||
    fail "the logged run failed"
start=$(date +%s)
NNGRAPH_DIST_TIMEOUT=120 mpi "$nngraph" train mlp.nng --data "$images" "$labels" --epochs 1 --batch 16 --quiet \
    --db runs.db --resume 1 > out.txt 2> err.txt && fail "resuming a finished run under mpirun succeeded"
took=$(( $(date +%s) - start ))
# rank 1 reached the fit's start and got rank 0's message there
grep -q "rank 0 of 2 could not start: .*1" err.txt || fail "rank 1 does not say why rank 0 failed"
grep -q "still waiting" err.txt && fail "a rank waited for the timeout"
echo "resume of a finished run under mpirun: failed after ${took} s, rank 1 says: $(grep -m1 'could not start' err.txt)"
echo PASS
