#!/bin/sh
# Faults under mpirun (suite dist): a rank killed with SIGKILL, and Ctrl-C
# on mpirun. Each must end the whole job within seconds, leave the run
# marked failed or interrupted with its epochs committed, and the run must
# then resume to the end under mpirun.
# usage: dist_faults.sh MPIEXEC NNGRAPH DATA_DIR
set -u
mpiexec=$1 nngraph=$2 data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; cat err.txt runs.err >&2 2>/dev/null; "$nngraph" runs runs.db >&2; exit 1; }
cat > mlp.nng <<'G'
nngraph-graph 1
x input f32 [B,400]
y input i32 [B]
L1/W param f32 [400,25] init=glorot_uniform
L1/b param f32 [25] init=zeros
L1/matmul matmul f32 [B,25] x L1/W
L1/add add f32 [B,25] L1/matmul L1/b
L1/relu relu f32 [B,25] L1/add
L2/W param f32 [25,10] init=glorot_uniform
L2/b param f32 [10] init=zeros
L2/matmul matmul f32 [B,10] L1/relu L2/W
L2/add add f32 [B,10] L2/matmul L2/b
loss softmax_cross_entropy f32 [] L2/add y
end 12
G
images=$data/digits20-train-images.idx3-ubyte.gz labels=$data/digits20-train-labels.idx1-ubyte.gz
oversub=
"$mpiexec" --version 2>/dev/null | grep -Eq 'OpenRTE|Open MPI' && oversub=--oversubscribe

# the run's status and epochs from `nngraph runs`
run_field() { "$nngraph" runs runs.db 2>>runs.err | awk -v f="$1" '$1 == 1 { print $f }'; }

# the pid of rank R among mpirun's children (from /proc: no procps needed)
rank_pid() {
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/}; pid=${pid%/stat}
        ppid=$(awk '{ print $4 }' "$stat" 2>/dev/null) || continue
        [ "$ppid" = "$1" ] || continue
        if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2\|PMI_RANK=$2"; then
            echo "$pid"; return 0
        fi
    done
    return 1
}

for fault in kill-rank-1 ctrl-c; do
    rm -f runs.db
    "$mpiexec" $oversub -np 2 "$nngraph" train mlp.nng --data "$images" "$labels" --epochs 100000 --batch 16 \
        --threads 1 --quiet --db runs.db > out.txt 2> err.txt &
    mp=$!
    # wait for two committed epochs
    for _ in $(seq 300); do
        e=$(run_field 4); [ -n "$e" ] && [ "$e" -ge 2 ] 2>/dev/null && break
        sleep 0.1
    done
    [ -n "$e" ] && [ "$e" -ge 2 ] || fail "$fault: no epochs logged after 30 s"
    if [ "$fault" = kill-rank-1 ]; then
        victim=$(rank_pid "$mp" 1) || fail "kill-rank-1: rank 1 not found among mpirun's children"
        kill -KILL "$victim"
    else
        kill -INT "$mp"
    fi
    start=$(date +%s)
    for _ in $(seq 150); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$mp" 2>/dev/null && { kill -KILL "$mp"; fail "$fault: the job still runs 15 s later"; }
    wait "$mp"
    echo "$fault: the job ended after $(( $(date +%s) - start )) s or less"
    if [ "$fault" = kill-rank-1 ]; then
        grep -q "rank 1" err.txt || fail "kill-rank-1: no message names rank 1"
    fi
    status=$(run_field 3) epochs=$(run_field 4)
    case $status in failed|interrupted) ;; *) fail "$fault: the run is '$status', not failed or interrupted" ;; esac
    [ "$epochs" -ge 2 ] || fail "$fault: only $epochs epochs kept"
    echo "$fault: run 1 is $status after $epochs epochs"
    # resume to two epochs past the last one logged
    "$mpiexec" $oversub -np 2 "$nngraph" train mlp.nng --data "$images" "$labels" --epochs $((epochs + 2)) --batch 16 \
        --threads 1 --quiet --db runs.db --resume 1 > out.txt 2> err.txt || fail "$fault: the resumed run failed"
    [ "$(run_field 3)" = finished ] || fail "$fault: the resumed run is '$(run_field 3)'"
    [ "$(run_field 4)" -eq $((epochs + 2)) ] || fail "$fault: the resumed run ended at epoch $(run_field 4)"
    echo "$fault: resumed under mpirun to epoch $((epochs + 2)), finished"
done
echo "PASS"
