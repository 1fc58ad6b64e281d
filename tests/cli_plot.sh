#!/bin/sh
# `nngraph plot` end to end and the labs' --plot DIR: every kind of picture
# from a logged run (DB:RUN gives the graph and its last checkpoint), in
# SVG, PNG and PDF, usage errors (2) and runtime errors (1).
#   cli_plot.sh NNGRAPH RUNLOG_BLOBS LABS_DIR
set -u
CLI=$1
TRAIN=$2
LABS=$3
DIR=$(mktemp -d /tmp/nnplot-cli.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
DB=$DIR/runs.db
. "$(dirname "$0")/cli_lib.sh"
# magic FILE BYTES: BYTES in the first 8 bytes (the format's signature), not tiny
magic() {
    [ -s "$1" ] && [ "$(wc -c < "$1")" -gt 1000 ] || { fail "$1 missing or tiny"; return; }
    head -c 8 "$1" | grep -aq -- "$2" || fail "$1 does not start with $2"
}

expect 0 "nngraph plot KIND" "$CLI" plot --help
expect 2 "unknown kind 'bogus'" "$CLI" plot bogus
expect 2 "give a kind" "$CLI" plot
expect 2 "not DB:RUN" "$CLI" plot curves "$DB"
expect 2 "unknown picture format 'gif'" "$CLI" plot curves "$DB:1" -o "$DIR/c.gif"
expect 1 "no such run log" "$CLI" plot curves "$DIR/missing.db:1" -o "$DIR/c.svg"

expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 4 --name first
expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 6 --name second

expect 0 "wrote $DIR/c.svg" "$CLI" plot curves "$DB:1,2" -o "$DIR/c.svg"
magic "$DIR/c.svg" "<?xml"
expect 0 "wrote" "$CLI" plot curves "$DB:second" --steps --smooth 0.9 -o "$DIR/s.png"
magic "$DIR/s.png" "PNG"
expect 0 "wrote" "$CLI" plot curves "$DB:1" -T pdf -o "$DIR/c.out"
magic "$DIR/c.out" "%PDF"
expect 1 "no run" "$CLI" plot curves "$DB:77" -o "$DIR/none.svg"
[ -e "$DIR/none.svg" ] && fail "a failed plot left none.svg"

# points of the three blobs' plane, labels last
awk 'BEGIN { print "x1,x2,label"; for (i = 0; i < 90; i++) printf "%.3f,%.3f,%d\n", (i % 3) * 3 - 3 + sin(i), (i % 3 == 1 ? 3 : -1) + cos(i), i % 3 }' > "$DIR/pts.csv"
expect 0 "wrote" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" -o "$DIR/b.svg"
magic "$DIR/b.svg" "<?xml"
expect 0 "wrote" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --unit L1:3 -o "$DIR/u.png" --size 640x480
magic "$DIR/u.png" "PNG"
expect 0 "wrote" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --layer L1 -o "$DIR/l.svg"
expect 0 "wrote" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --transformed L1 -o "$DIR/t.svg"
expect 0 "wrote" "$CLI" plot weights "$DB:2" --layer L1 --image 2x1 -o "$DIR/w.svg"
expect 0 "wrote" "$CLI" plot confusion "$DB:2" --csv "$DIR/pts.csv" -o "$DIR/m.svg"
expect 1 "no layer or node named 'L9'" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --unit L9:0
expect 1 "units 0..15, not 99" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --unit L1:99 -o "$DIR/x.svg"
expect 2 "one of --unit, --layer, --transformed" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --unit L1:0 --layer L1
expect 2 "LAYER:UNIT" "$CLI" plot boundary "$DB:2" --data "$DIR/pts.csv" --unit L1
expect 1 "2 inputs per unit, not 3x3" "$CLI" plot weights "$DB:2" --layer L1 --image 3x3
expect 2 "give --data" "$CLI" plot boundary "$DB:2"

# the labs' pictures
for lab in blobs hidden_layer regression softmax_regression; do
    expect 0 "wrote" "$LABS/$lab" --plot "$DIR/labs"
done
expect 0 "wrote" "$LABS/digits" --epochs 2 --plot "$DIR/labs"
for f in blobs-regions blobs-units hidden-relu-transformed hidden-neuron-regions regression-relu \
         regression-linear softmax-regions digits-curves digits-weights digits-confusion; do
    magic "$DIR/labs/$f.svg" "<?xml"
done
expect 2 "needs a directory" "$LABS/blobs" --plot

[ "$FAILS" -eq 0 ] || { echo "$FAILS failures" >&2; exit 1; }
echo "all plot CLI checks passed"
