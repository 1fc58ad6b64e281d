#!/bin/sh
# Faults under mpirun (suite dist): a rank killed with SIGKILL, and Ctrl-C
# on mpirun. Each must end the whole job within seconds, leave the run
# marked failed or interrupted with its epochs committed, and the run must
# then resume to the end under mpirun.
# Timing: nothing waits a fixed time for something to happen. Each wait
# polls for what it waits for and gives up only after a bound far above
# what it takes on a loaded machine (the test must pass with 2 cores at load
# 25); the job's end is checked against the collective timeout, raised here
# to 600 s, so that a job ended by a timed-out wait instead of by the fault
# handling fails the test.
# usage: dist_faults.sh MPIEXEC NNGRAPH DATA_DIR
set -u
export NNGRAPH_DIST_TIMEOUT=600
# how long a job may take to end after a fault (mpirun's notice, SIGTERM,
# the 0.3 s grace and its 1 s SIGKILL, rank 0's last SQLite commit):
# seconds idle, tens of seconds on an overloaded machine, far below 600
end_bound=90
mpiexec=$1 nngraph=$2 data=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; cat err.txt runs.err >&2 2>/dev/null; "$nngraph" runs runs.db >&2; exit 1; }
# the graph both dist scripts train (a file beside them)
cp "$here/dist_mlp.nng" mlp.nng || exit 1
images=$data/digits20-train-images.idx3-ubyte.gz labels=$data/digits20-train-labels.idx1-ubyte.gz
oversub=
"$mpiexec" --version 2>/dev/null | grep -Eq 'OpenRTE|Open MPI' && oversub=--oversubscribe

# the run's status and epochs from `nngraph runs`
run_field() { "$nngraph" runs runs.db 2>>runs.err | awk -v f="$1" '$1 == 1 { print $f }'; }

# the parent of process $1 (from /proc: no procps needed)
parent() { awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null; }
# the pid of rank R among mpirun's descendants: Open MPI's mpirun starts the
# ranks itself, MPICH's mpiexec through a proxy (hydra_pmi_proxy)
rank_pid() {
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}; pid=${pid%/environ}
        { tr '\0' '\n' < "$env"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2\|PMI_RANK=$2" || continue
        up=$(parent "$pid") hops=0
        while [ -n "$up" ] && [ "$up" -gt 1 ] && [ "$up" != "$1" ] && [ $hops -lt 4 ]; do
            up=$(parent "$up") hops=$((hops + 1))
        done
        [ "$up" = "$1" ] && { echo "$pid"; return 0; }
    done
    return 1
}

for fault in kill-rank-1 ctrl-c; do
    rm -f runs.db
    "$mpiexec" $oversub -np 2 "$nngraph" train mlp.nng --data "$images" "$labels" --epochs 100000 --batch 16 \
        --threads 1 --quiet --db runs.db > out.txt 2> err.txt &
    mp=$!
    # wait for two committed epochs, as long as the job runs (its start
    # under load can take a minute); a job that ended is a failure at once
    start=$(date +%s) e=
    while kill -0 "$mp" 2>/dev/null && [ $(( $(date +%s) - start )) -lt 300 ]; do
        e=$(run_field 4); [ -n "$e" ] && [ "$e" -ge 2 ] 2>/dev/null && break
        sleep 0.2
    done
    kill -0 "$mp" 2>/dev/null || fail "$fault: the job ended before it had logged two epochs"
    [ -n "$e" ] && [ "$e" -ge 2 ] 2>/dev/null || { kill -KILL "$mp"; fail "$fault: no two epochs logged after 300 s"; }
    # rank 0 writes the run's last status; read it once rank 0 is gone
    rank0=$(rank_pid "$mp" 0) || fail "$fault: rank 0 not found among mpirun's children"
    if [ "$fault" = kill-rank-1 ]; then
        victim=$(rank_pid "$mp" 1) || fail "kill-rank-1: rank 1 not found among mpirun's children"
        kill -KILL "$victim"
    else
        kill -INT "$mp"
    fi
    start=$(date +%s)
    while kill -0 "$mp" 2>/dev/null && [ $(( $(date +%s) - start )) -le $end_bound ]; do sleep 0.1; done
    kill -0 "$mp" 2>/dev/null && { kill -KILL "$mp"; fail "$fault: the job still runs $end_bound s later"; }
    wait "$mp"
    # mpirun may exit before rank 0, SIGKILLed in a write, is gone (until
    # then the log's dead-process rule rightly shows the run 'running')
    while [ -d "/proc/$rank0" ] && [ $(( $(date +%s) - start )) -le $end_bound ]; do sleep 0.1; done
    [ -d "/proc/$rank0" ] && fail "$fault: rank 0 (pid $rank0) still exists $end_bound s after the fault"
    echo "$fault: the job ended after $(( $(date +%s) - start )) s or less (load $(cut -d' ' -f1 /proc/loadavg))"
    if [ "$fault" = kill-rank-1 ]; then
        # Open MPI's mpirun SIGTERMs the others, and rank 0 names rank 1;
        # MPICH's mpiexec SIGKILLs them at once and itself names the dead
        # rank's pid ("BAD TERMINATION ... PID <pid>", on stdout)
        grep -q "rank 1" err.txt || grep -q "PID $victim " out.txt ||
            fail "kill-rank-1: no message names rank 1 (pid $victim)"
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
