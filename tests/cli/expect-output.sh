#!/bin/bash
# SPDX-License-Identifier: MIT
# Run bt386 where it must succeed without a guest (--help, --version): exit
# status 0, nothing on stderr, and stdout with a line matching each regex.
#
# usage: expect-output.sh BT386 WORKDIR REGEX... -- ARG...
set -u
export LC_ALL=C

die() {
    echo "expect-output: $*" >&2
    exit 2
}

[ $# -ge 4 ] || die "usage: expect-output.sh BT386 WORKDIR REGEX... -- ARG..."
bt386=$1 workdir=$2
shift 2
case $bt386 in /*) ;; *) bt386=$PWD/$bt386 ;; esac
[ -x "$bt386" ] || die "no executable at $bt386"
regexes=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    regexes+=("$1")
    shift
done
[ "${1:-}" = -- ] || die "missing '--' before the arguments"
shift

rm -rf -- "$workdir" && mkdir -p -- "$workdir" && cd -- "$workdir" ||
    die "cannot make $workdir"
ulimit -c 0
"$bt386" "$@" </dev/null >stdout.txt 2>stderr.txt
status=$?
failed=0

fail() {
    echo "FAIL: $*"
    failed=1
}

[ $status -eq 0 ] || fail "exit status $status, expected 0"
[ -s stderr.txt ] && fail "unexpected output on stderr"
for re in "${regexes[@]}"; do
    grep -Eq -- "$re" stdout.txt || fail "no line of stdout matches /$re/"
done

echo "command: $bt386 $*"
echo "status:  $status"
if [ $failed -ne 0 ]; then
    echo "--- stdout ---"
    head -c 8192 stdout.txt
    echo "--- stderr ---"
    head -c 4096 stderr.txt
    exit 1
fi
echo "PASS"
