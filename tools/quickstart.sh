#!/usr/bin/env bash
# One command for a new user: dependencies, build, then the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deps.sh
[ -d build ] || meson setup build
ninja -C build
