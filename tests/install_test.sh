#!/usr/bin/env bash
# nngraph consumed as a library the usual ways, by a tiny outside program
# (tests/outside/hello.c):
#  1. `meson install` into a temporary DESTDIR, then built with
#     `pkg-config --cflags --libs nngraph` and run against the shared library;
#  2. as a meson subproject of a parent project, with dependency('nngraph'),
#     which builds the library alone (no tests, examples or benchmarks).
# Usage: install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/nngraph_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "== meson install into $tmp/root"
meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >/dev/null
pc=$(find "$tmp/root" -name nngraph.pc | head -n1)
[ -n "$pc" ] || { echo "no nngraph.pc installed"; exit 1; }
lib=$(find "$tmp/root" -name 'libnngraph.so.*' -type f | head -n1)
[ -n "$lib" ] || { echo "no libnngraph.so installed"; exit 1; }
readelf -d "$lib" | grep -q 'SONAME.*libnngraph\.so\.[0-9]' || { echo "libnngraph.so has no soversion"; exit 1; }
# the sysroot prefixes -I and -L with the DESTDIR, as if installed for real
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$tmp/root"
flags=$(pkg-config --cflags --libs nngraph)
echo "pkg-config --cflags --libs nngraph: $flags"
cc -std=c11 -o "$tmp/hello" "$src/tests/outside/hello.c" $flags
LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/hello"

echo "== as a meson subproject"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
mkdir -p "$tmp/parent/subprojects"
cp "$src/tests/outside/meson.build" "$src/tests/outside/hello.c" "$tmp/parent/"
ln -s "$src" "$tmp/parent/subprojects/nngraph"
# -O0 for nngraph: this checks how it builds in, not how fast it runs
meson setup "$tmp/parent/build" "$tmp/parent" --force-fallback-for=nngraph -Dnngraph:optimization=0 \
    -Dnngraph:buildtype=debug >/dev/null
# nngraph's own programs would be subprojects/nngraph/{tests,examples,tools}/...
ours=$(ninja -C "$tmp/parent/build" -t targets all | grep -E '^subprojects/nngraph/(tests|examples|tools)/' || true)
if [ -n "$ours" ]; then
    echo "the parent builds nngraph's tests, examples, tools or benchmarks:"
    head <<<"$ours"
    exit 1
fi
# nor runs nngraph's suites
if meson test -C "$tmp/parent/build" --list 2>/dev/null | grep -q .; then
    echo "the parent's meson test runs nngraph's suites:"
    meson test -C "$tmp/parent/build" --list | head
    exit 1
fi
ninja -C "$tmp/parent/build" >/dev/null
"$tmp/parent/build/hello"
echo "install test: ok"
