#!/bin/sh
# SPDX-License-Identifier: MIT
# Install dependencies, build everything (the Linux guest included), and
# boot the default guest: Debian's i386 kernel with a busybox root shell on
# a disk image, its console on this terminal (Ctrl-A x quits, Ctrl-A h
# helps; `poweroff` in the guest ends bt386). Extra arguments go to bt386.
# The disk (build/guest-images/linux/disk.img) keeps what the guest writes.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
cmake --build build --target linux-guest
img=build/guest-images/linux
exec build/bt386 -m 256 -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -drive "file=$img/disk.img,format=raw,if=ide" \
    -append "console=ttyS0 root=/dev/sda" -nographic "$@"
