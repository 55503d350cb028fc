#!/bin/sh
# SPDX-License-Identifier: MIT
# Install dependencies, build everything, and boot the default guest.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/bt386 -kernel build/guest-images/firstlight.elf \
    -append "booted by scripts/boot.sh" -nographic \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
