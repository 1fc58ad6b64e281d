#!/usr/bin/env bash
# One command for a new user on Debian 12: install the packages, build, and
# run the main job: train the digits network (400-25-15-10, Adam 0.001,
# batch 32, 40 epochs on the 5,000 shipped digits) logging the run to an
# SQLite file, then render the network's graph to an SVG.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build

out=${NNGRAPH_OUT:-.}
db="$out/nngraph.db"
echo
echo "== training the digits network, logging to $db"
build/examples/digits --db "$db" --graph "$out/digits.nng" --weights "$out/digits.nnw"

echo
echo "== the run log (sqlite3 $db 'SELECT * FROM v_run')"
build/tools/nngraph runs "$db"

echo
echo "== rendering the network"
build/tools/nngraph dot "$out/digits.nng" --layers -o "$out/digits-layers.svg"
build/tools/nngraph dot "$out/digits.nng" -o "$out/digits.svg"
echo "wrote $out/digits.svg (ops) and $out/digits-layers.svg (layers), $out/digits.nng (graph), $out/digits.nnw (weights)"
echo
echo "== browse the run history: build/tools/nngraph ui $db   (then open http://127.0.0.1:8765/)"
