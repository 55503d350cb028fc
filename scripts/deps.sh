#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what bt386 needs from Debian's archive. Idempotent, and silent
# when everything is already present. Usage: scripts/deps.sh [--test]
# (--test adds what the test suite uses for cross-checks: qemu-system-i386
# runs the test guests as a second opinion, and qemu-i386 is the reference
# CPU for instructions the host cannot run natively when 32-bit code cannot
# execute on it).
set -eu

PKGS="cmake make gcc pkg-config libcapstone-dev libelf-dev check
gcc-multilib nasm binutils"
TEST_PKGS="qemu-system-x86 qemu-user"

[ "${1:-}" = "--test" ] && PKGS="$PKGS $TEST_PKGS"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "bt386: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "bt386: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A mirror mid-sync can fail one index (with i386 enabled, say): go on
# with the lists that did arrive; the install says what is really missing.
apt-get update -qq >/dev/null 2>&1 ||
    echo "bt386: apt-get update reported errors; continuing" >&2
apt-get install -y -qq --no-install-recommends $missing >/dev/null
