#!/usr/bin/env bash
# System libraries for headless MuJoCo rendering (EGL through Mesa); installed only when missing and possible.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' && ldconfig -p | grep -q 'libGL.so.1'; then
  exit 0
fi
pkgs="libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libosmesa6"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs
else
  echo "headless rendering needs EGL or OSMesa: install $pkgs (or your system's equivalents)" >&2
  exit 2
fi
