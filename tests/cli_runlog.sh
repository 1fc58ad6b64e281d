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

# runs and show print the experiment, git state, tags and notes (text and
# JSON); terminal control characters in them are shown as '?'
ESC=$(printf '\033')
"$CLI" tag "$DB:1" --notes "$(printf 'line one\nline %s[31mtwo' "$ESC")" > /dev/null 2>&1 || fail "tag --notes"
sqlite3 "$DB" "UPDATE run SET experiment = 'exp-a', git_commit = '0123456789abcdef0123456789abcdef01234567',
  git_dirty = 1 WHERE id = 1; UPDATE run SET git_commit = 'fedcba9876543210fedcba9876543210fedcba98', git_dirty = 0
  WHERE id = 2" || fail "sqlite3: cannot set the experiment and git fields"
"$CLI" runs "$DB" > "$DIR/runs.txt" 2>&1 || fail "runs after tagging"
grep -q '^ *1  straight .* exp-a  *01234567+dirty  *stage=<b>one</b> | line one$' "$DIR/runs.txt" ||
    fail "runs: run 1 lacks its experiment, commit, tag or notes: $(cat "$DIR/runs.txt")"
grep -q '^ *2  cut .*  -  *fedcba98  *$' "$DIR/runs.txt" || fail "runs: run 2's row: $(cat "$DIR/runs.txt")"
grep -q 'tags | notes' "$DIR/runs.txt" || fail "runs: no tags | notes heading"
grep -q "$ESC" "$DIR/runs.txt" && fail "runs: a control character reached the terminal"
"$CLI" show "$DB:1" > "$DIR/show.txt" 2>&1 || fail "show 1 after tagging"
for want in '^  experiment exp-a$' '^  git        0123456789abcdef0123456789abcdef01234567 (uncommitted changes)$' \
    '^tags:$' '^  stage  *<b>one</b>$' '^notes:$' '^  line one$' '^  line ?\[31mtwo$'; do
    grep -q -- "$want" "$DIR/show.txt" || fail "show 1: no '$want' in: $(cat "$DIR/show.txt")"
done
grep -q "$ESC" "$DIR/show.txt" && fail "show: a control character reached the terminal"
expect 0 '^  git        fedcba9876543210fedcba9876543210fedcba98 (clean)$' "$CLI" show "$DB:2"
"$CLI" show "$DB:2" | grep -q '^tags:\|^notes:' && fail "show 2: tags or notes printed for a run without them"
if command -v python3 >/dev/null 2>&1; then
    { "$CLI" runs "$DB" --json; "$CLI" show "$DB:1" --json; "$CLI" show "$DB:2" --json; } | python3 -c '
import json, sys
runs = [json.loads(line) for line in sys.stdin]
one, two, show1, show2 = runs[0], runs[1], runs[-2], runs[-1]
for r in (one, show1):
    assert r["experiment"] == "exp-a" and r["git_commit"] == "0123456789abcdef0123456789abcdef01234567", r
    assert r["git_dirty"] is True and r["tags"] == {"stage": "<b>one</b>"}, r
    assert r["notes"] == "line one\nline \x1b[31mtwo", r["notes"]
for r in (two, show2):
    assert r["git_dirty"] is False and r["tags"] == {} and r["notes"] is None, r
' || fail "runs/show --json: experiment, git, tags or notes wrong"
fi

[ "$FAILS" -eq 0 ] && echo "cli_runlog: all checks passed"
exit $((FAILS > 0))
