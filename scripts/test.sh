#!/bin/sh
# SPDX-License-Identifier: MIT
# Install dependencies, build, and run every test (unit, CLI, whole-guest,
# differential). Extra arguments go to ctest. BT386_SANITIZE=1 builds and
# tests with AddressSanitizer and UBSan in build-sanitize/ instead.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --test
if [ "${BT386_SANITIZE:-0}" = 1 ]; then
    dir=build-sanitize
    scripts/build.sh "$dir" -DBT386_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
else
    dir=build
    scripts/build.sh "$dir"
fi
# The Linux guest for the whole-guest test (cached after the first run).
cmake --build "$dir" --target linux-guest
cd "$dir"
exec ctest --output-on-failure -j "$(nproc)" "$@"
