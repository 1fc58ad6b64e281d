#!/bin/sh
# `nngraph ui`: HTTP checks with curl against the server on a free loopback
# port (status codes, content types, escaping, read-only), --export, and a
# headless Chromium that loads the runs page and a run page (the table
# lists the test's runs, the curve SVG is there, the console stays quiet)
# and watches a running training's row update in place (tests/ui_live.py).
# The browser part is skipped, with a message, only when Chromium cannot
# start.   cli_ui.sh NNGRAPH RUNLOG_BLOBS
set -u
CLI=$1
TRAIN=$2
DIR=$(mktemp -d /tmp/nnui-cli.XXXXXX)
SERVER=""
LIVE_SERVER=""
LIVE_TRAIN=""
cleanup() {
    for pid in $SERVER $LIVE_SERVER $LIVE_TRAIN; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$DIR"
}
trap cleanup EXIT
DB=$DIR/runs.db
. "$(dirname "$0")/cli_lib.sh"
# the proxy settings of a CI machine must not catch loopback requests
GET() { curl --noproxy '*' -s -m 20 "$@"; }

expect 0 "Usage: nngraph ui" "$CLI" ui --help
expect 2 "unknown option '--bogus'" "$CLI" ui "$DB" --bogus
expect 1 "no such run log" "$CLI" ui "$DIR/missing.db" --port 0
expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 3 --name '<script>alert(1)</script>'
expect 0 "final loss" "$TRAIN" --db "$DB" --epochs 4 --name second
expect 0 "tag" "$CLI" tag "$DB:2" 'owner=<img src=x onerror=alert(2)>' --notes 'check & "quote"'
expect 2 "IPv4 address" "$CLI" ui "$DB" --host not-an-address --port 0
# a run still training (fresh heartbeat, no pid): its page refreshes itself
sqlite3 "$DB" "INSERT INTO run (uuid, name, status, start_time, heartbeat, version) VALUES ('u-live', 'live',
  'running', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), '0.1.0')" ||
    fail "sqlite3: cannot add a running run"
SUM=$(cat "$DB" | cksum)

# serve DB LOG: `nngraph ui DB` on a free loopback port, in the
# background; sets STARTED (its pid) and URL, or exits failing
serve() {
    "$CLI" ui "$1" --port 0 2> "$2" &
    STARTED=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(grep -o '127\.0\.0\.1:[0-9]*' "$2" | head -1 | cut -d: -f2)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$2" >&2; fail "the server of $1 did not start"; exit 1; }
    URL=http://127.0.0.1:$port
}
serve "$DB" "$DIR/server.log"
SERVER=$STARTED
# status code and content type of a path
check() {
    want=$1; type=$2; path=$3
    got=$(GET -o "$DIR/body" -w '%{http_code} %{content_type}' "$URL$path")
    case "$got" in "$want $type"*) ;; *) fail "GET $path: '$got', want '$want $type'" ;; esac
}
check 200 text/html /
check 200 application/json /runs.json
check 200 text/html /run/1
check 200 image/svg+xml /run/1/graph.svg
check 200 application/octet-stream /run/2/weights/epoch-4.nnw
head -c 4 "$DIR/body" | grep -q NNGW || fail "the weights download is not an .nnw file"
cp "$DIR/body" "$DIR/epoch4.nnw"
# one parameter as NumPy's .npy (the name URL-encoded as the page links it)
check 200 application/octet-stream "/run/2/weights/epoch-4/L1%2FW.npy"
cp "$DIR/body" "$DIR/L1W.npy"
python3 - "$DIR/L1W.npy" "$DIR/epoch4.nnw" <<'EOF' || fail "/run/2/weights/epoch-4/L1%2FW.npy is not the .npy of L1/W"
import sys
npy, nnw = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
assert npy[:8] == b'\x93NUMPY\x01\x00', npy[:8]
hlen = npy[8] | npy[9] << 8
assert (10 + hlen) % 64 == 0, hlen
header = npy[10:10 + hlen].decode('latin-1')
want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 16), }"
assert header.startswith(want) and header[len(want):-1].strip(' ') == '' and header.endswith('\n'), header
data = npy[10 + hlen:]
assert len(data) == 2 * 16 * 4, len(data)
assert data in nnw, 'the values differ from the .nnw of the same checkpoint'
EOF
GET -D - -o /dev/null "$URL/run/2/weights/epoch-4/L1%2FW.npy" | grep -q 'filename="run2-epoch4-L1_W.npy"' ||
    fail "the .npy download is not named run2-epoch4-L1_W.npy"
GET "$URL/run/2" | grep -q 'href="/run/2/weights/epoch-4/L2%2Fb.npy" download>L2/b</a>' ||
    fail "the run page does not link each parameter's .npy"
check 404 text/html /run/2/weights/epoch-4/nope.npy
check 404 text/html /run/2/weights/epoch-99/L1%2FW.npy
check 404 text/html /run/2/weights/epoch-4/.npy
check 200 text/html "/compare?runs=1,2"
check 400 text/html /run/abc
check 400 text/html "/run/1x"
check 404 text/html /run/99
check 404 text/html /run/2/weights/epoch-99.nnw
check 404 text/html /etc/passwd
check 404 text/html /../../etc/passwd
check 400 text/html "/compare?runs=1"
check 400 text/html "/compare?runs=1,2,3,4,5,6"
check 400 text/html "/compare?runs=1,;drop"
check 404 text/html "/compare?runs=1,77"
for m in POST PUT DELETE; do
    code=$(GET -X "$m" -o /dev/null -w '%{http_code}' "$URL/run/1")
    [ "$code" = 405 ] || fail "$m /run/1 answered $code, want 405"
done
code=$(GET -o /dev/null -w '%{http_code}' --data 'x=1' "$URL/")
[ "$code" = 405 ] || fail "a POST body answered $code, want 405"
# user text is escaped everywhere
GET "$URL/" > "$DIR/index.html"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$DIR/index.html" || fail "run name not escaped on /"
grep -q '<script>alert' "$DIR/index.html" && fail "raw <script> from a run name on /"
grep -q '<img src=x' "$DIR/index.html" && fail "raw tag from a tag value on /"
grep -q '<body data-live="1">' "$DIR/index.html" || fail "the runs page does not refresh itself"
GET "$URL/run/3" | grep -q '<body data-live="1">' || fail "a running run's page does not refresh itself"
GET "$URL/run/2" > "$DIR/run2.html"
grep -q 'check &amp; &quot;quote&quot;' "$DIR/run2.html" || fail "notes not escaped on /run/2"
grep -q '&lt;img src=x onerror=alert(2)&gt;' "$DIR/run2.html" || fail "tag not escaped on /run/2"
grep -q '<svg' "$DIR/run2.html" || fail "no curve SVG on /run/2"
grep -q '<body data-live="0">' "$DIR/run2.html" || fail "a finished run's page should not poll"
GET "$URL/runs.json" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert [x["id"] for x in r]==[1,2,3], r; assert r[0]["name"]=="<script>alert(1)</script>"' ||
    fail "runs.json: not the three runs"
[ "$(cat "$DB" | cksum)" = "$SUM" ] || fail "serving changed the database file"

# the browser
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
    echo "SKIP browser test: no chromium installed"
else
    B() { timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-proxy-server --no-first-run \
          --user-data-dir="$DIR/profile" --enable-logging=stderr --v=0 "$@"; }
    if ! B --dump-dom about:blank > "$DIR/blank.html" 2> "$DIR/blank.log"; then
        echo "SKIP browser test: chromium cannot start:"; tail -3 "$DIR/blank.log"
    else
        B --dump-dom "$URL/" > "$DIR/dom-runs.html" 2> "$DIR/console-runs.log"
        grep -q '&lt;script&gt;alert(1)&lt;/script&gt;</a>' "$DIR/dom-runs.html" || fail "browser: run 1 not in the table"
        grep -q '>second</a>' "$DIR/dom-runs.html" || fail "browser: run 2 not in the table"
        B --dump-dom "$URL/run/2" > "$DIR/dom-run.html" 2> "$DIR/console-run.log"
        tr -d '\n' < "$DIR/dom-run.html" | grep -q '<div class="picture" id="curves"><svg' ||
            fail "browser: no curve SVG on the run page"
        for page in runs run; do
            if grep -q 'CONSOLE' "$DIR/console-$page.log"; then
                fail "browser console on the $page page:"; grep CONSOLE "$DIR/console-$page.log" >&2
            fi
        done
        B --screenshot="$DIR/run.png" --window-size=1200,1600 "$URL/run/2" 2>/dev/null
        head -c 8 "$DIR/run.png" | grep -aq PNG || fail "browser: no screenshot"
        # a training that logs an epoch every ~0.3 s for 60 s: its row on the
        # runs page must change without a reload (stopped once seen)
        "$TRAIN" --db "$DIR/live.db" --epochs 200 --pace 300 --name live > "$DIR/live-train.log" 2>&1 &
        LIVE_TRAIN=$!
        for _ in $(seq 1 100); do
            "$CLI" runs "$DIR/live.db" 2>/dev/null | grep -q ' live  *running ' && break
            sleep 0.1
        done
        MAIN_URL=$URL
        serve "$DIR/live.db" "$DIR/live-server.log"
        LIVE_SERVER=$STARTED
        timeout 90 python3 "$(dirname "$0")/ui_live.py" "$BROWSER" "$URL/" 1 "$DIR/live-profile"
        case $? in
            0) ;;
            77) ;; # the message says why
            *) fail "browser: the running training's row did not update in place" ;;
        esac
        URL=$MAIN_URL
        kill "$LIVE_TRAIN" "$LIVE_SERVER"
        wait "$LIVE_TRAIN" "$LIVE_SERVER" 2>/dev/null
        LIVE_TRAIN="" LIVE_SERVER=""
    fi
fi

kill "$SERVER" && wait "$SERVER"
SERVER=""
grep -q "stopped" "$DIR/server.log" || fail "the server did not stop cleanly on SIGTERM"

expect 0 "index.html" "$CLI" ui "$DB" --export "$DIR/site"
for f in index.html run-1.html run-2.html run-2-graph.svg run-2-epoch-4.nnw run-2-epoch-4-L1_W.npy run-2-epoch-4-L2_b.npy; do
    [ -s "$DIR/site/$f" ] || fail "export: no $f"
done
cmp -s "$DIR/site/run-2-epoch-4-L1_W.npy" "$DIR/L1W.npy" || fail "export: the .npy differs from the served one"
grep -q 'href="run-2-epoch-4-L1_W.npy" download>L1/W</a>' "$DIR/site/run-2.html" || fail "export: no link to the .npy"
grep -q 'href="run-2.html"' "$DIR/site/index.html" || fail "export: links are not to files"
grep -q 'data-live="0"' "$DIR/site/index.html" || fail "export: pages must not poll a server"
[ "$(cat "$DB" | cksum)" = "$SUM" ] || fail "export changed the database file"

[ "$FAILS" -eq 0 ] || { echo "$FAILS failures" >&2; exit 1; }
echo "all ui checks passed"
