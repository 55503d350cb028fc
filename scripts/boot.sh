#!/bin/sh
# SPDX-License-Identifier: MIT
# Install dependencies, build everything, and boot the default guest.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
status=0
build/bt386 -kernel build/guest-images/firstlight.elf \
    -append "booted by scripts/boot.sh" -nographic \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" || status=$?
# The first-light guest leaves through isa-debug-exit with 0x10, which
# bt386 (like QEMU) turns into exit status (0x10 << 1) | 1 = 33: success.
if [ "$status" -eq 33 ]; then
    echo "boot.sh: the guest finished and left through isa-debug-exit (status 33: success)"
    exit 0
fi
exit "$status"
