#!/usr/bin/env bash
# Installs nngraph's build and test dependencies from Debian's packages.
# Skips apt entirely when everything is already installed.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc libc6-dev
      libcriterion-dev libsqlite3-dev sqlite3 libgraphviz-dev graphviz libffi-dev
      libopenblas-dev zlib1g-dev
      # convolutions (ops/conv2d.c): oneDNN, which brings its runtime libdnnl2
      libdnnl-dev
      # MPI scale-out (docs/scale-out.md)
      libopenmpi-dev openmpi-bin
      # ... and MPICH beside it (CI's second dist pass, -Dmpi_impl=mpich)
      libmpich-dev mpich
      # pictures (nngraph plot) and the run page (nngraph ui, its browser test)
      libplplot-dev plplot-driver-cairo libmicrohttpd-dev libxml2-dev libpng-dev curl chromium
      # real image data for the Fashion-MNIST examples
      dataset-fashion-mnist
      # fuzz targets (libFuzzer): clang, and its runtimes (libFuzzer, ASan,
      # UBSan), which clang only recommends
      clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
