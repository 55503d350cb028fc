#!/bin/sh
# SPDX-License-Identifier: MIT
# Configure and build bt386 and its guest images into build/ (or $1).
set -eu
cd "$(dirname "$0")/.."
dir="${1:-build}"
# (dash exits on a failing shift, so only shift what is there)
if [ $# -gt 0 ]; then shift; fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
