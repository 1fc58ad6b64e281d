#!/bin/sh
# The run-log subcommands end to end: a logged run, Ctrl-C (exit 130), a
# resume that reaches the uninterrupted run's weights, runs/show/export in
# text and JSON, usage errors (2) and runtime errors (1).
#   cli_runlog.sh NNGRAPH RUNLOG_BLOBS
set -u
CLI=$1
TRAIN=$2
DIR=$(mktemp -d /tmp/nnrl-cli.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
DB=$DIR/runs.db
. "$(dirname "$0")/cli_lib.sh"

expect 0 "Usage: nngraph runs" "$CLI" runs --help
expect 0 "Usage: nngraph show" "$CLI" show --help
expect 0 "Usage: nngraph export" "$CLI" export --help
expect 2 "unknown option '--bogus'" "$CLI" runs --bogus
expect 2 "which run" "$CLI" show
expect 2 "no output file" "$CLI" export "$DB:1"
expect 1 "no such run log" "$CLI" runs "$DIR/missing.db"
printf 'this is not a database, not at all, really not %0500d' 0 > "$DIR/junk.db"
expect 1 "junk.db: file is not a database" "$CLI" runs "$DIR/junk.db"

# run 1: straight; run 2: Ctrl-C at step 50 (epoch 3), then resumed
expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 5 --name straight
expect 130 "run 2 interrupted in epoch 3, at step 50" "$TRAIN" --db "$DB" --epochs 5 --name cut --interrupt-at 50
expect 0 "interrupted" "$CLI" runs "$DB"
expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 5 --resume 2
expect 0 "finished" "$CLI" runs "$DB"
[ "$("$CLI" runs "$DB" --json | grep -c '"status":"finished"')" -eq 2 ] || fail "runs --json: two finished runs"

# the resumed run ends with the uninterrupted run's weights, byte for byte
expect 0 '"epoch":5' "$CLI" export "$DB:1" -o "$DIR/a.nnw" --json
expect 0 '"format":"weights",.*"tensors":4' "$CLI" export cut --db "$DB" -o "$DIR/b.nnw" --json
cmp -s "$DIR/a.nnw" "$DIR/b.nnw" || fail "resumed weights differ from the uninterrupted run's"
expect 0 '"format":"checkpoint",.*"epoch":3,.*"tensors":14' "$CLI" export "$DB:1" --epoch 3 -o "$DIR/e3.nngc" --full --json
# the run's recorded graph and the exported weights work with nngraph predict's loader
sqlite3 "$DB" "SELECT graph FROM run WHERE id = 1" > "$DIR/g.nng" 2>/dev/null || true
if [ -s "$DIR/g.nng" ]; then
    expect 0 "L1" "$CLI" summary "$DIR/g.nng"
fi
expect 1 "run 1 has no checkpoint at epoch 99" "$CLI" export "$DB:1" --epoch 99 -o "$DIR/x.nnw"
expect 2 "--epoch wants a whole number" "$CLI" export "$DB:1" --epoch x -o "$DIR/x.nnw"
[ -e "$DIR/x.nnw" ] && fail "a failed export left a file"

expect 0 "hyperparameters" "$CLI" show "$DB:2"
expect 0 "loss per epoch (train)" "$CLI" show straight --db "$DB"
expect 0 "shape:L1/W *\[2,16\]" "$CLI" show --db "$DB" --run 1
expect 0 '"params":{' "$CLI" show "$DB:1" --json
expect 1 "no run '99'" "$CLI" show "$DB:99"
# one way to name a run: DB:RUN; the old order or a swap gets a hint, not a guess
expect 2 "write '$DB:1'" "$CLI" show "$DB" 1
expect 2 "write '$DB:1' (the database first)" "$CLI" show 1 "$DB"
expect 2 "is a run log: name one of its runs as $DB:RUN" "$CLI" show "$DB"
expect 2 "did you mean '--json'" "$CLI" runs "$DB" --jsno
expect 2 "did you mean '--db'" "$CLI" runs --log "$DB"
expect 2 "did you mean 'show'" "$CLI" shwo "$DB:1"
# numbers as written: the learning rate and epochs as given
expect 0 "epochs  *5$" "$CLI" show "$DB:1"

if command -v python3 >/dev/null 2>&1; then
    for args in "runs $DB --json" "show $DB:2 --json"; do
        # shellcheck disable=SC2086
        "$CLI" $args | python3 -c 'import json,sys
for line in sys.stdin: json.loads(line)' || fail "$args: not JSON Lines"
    done
fi

# tags and notes (schema 2)
expect 0 "run 1: 2 tags and notes written" "$CLI" tag "$DB:1" owner=ana 'stage=<b>one</b>' --notes "first try"
expect 0 "stage=<b>one</b>" "$CLI" tag "$DB:1"
expect 0 "notes: first try" "$CLI" tag "$DB:straight"
expect 0 "1 tag written" "$CLI" tag "$DB:1" owner=
"$CLI" tag "$DB:1" | grep -q owner && fail "owner= did not remove the tag"
expect 2 "is not KEY=VALUE" "$CLI" tag "$DB:1" novalue
expect 2 "name one of its runs as $DB:RUN" "$CLI" tag "$DB"
expect 1 "no run" "$CLI" tag "$DB:99" a=b
"$CLI" runs "$DB" --json | grep -q '"experiment":""' || fail "runs --json: no experiment field"

[ "$FAILS" -eq 0 ] && echo "cli_runlog: all checks passed"
exit $((FAILS > 0))
