#!/bin/bash
# SPDX-License-Identifier: MIT
# Run a whole guest (in bt386 or QEMU) and check its exit status and output.
#
# usage: run-guest.sh [options] -- COMMAND [ARGS...]
#   --status N      the command must exit with status N (default 0)
#   --out TEXT      stdout must contain TEXT (a fixed string); repeatable
#   --err-re REGEX  stderr must match the extended regex REGEX; repeatable
#   --skip-missing  exit 77 (ctest's "skipped") if COMMAND is not installed
#
# Exits 0 when every check holds, 1 otherwise, 2 on a usage error. The
# captured output is always printed, so ctest's log shows what the guest said.
set -u

want_status=0
outs=()
err_res=()
skip_missing=0
while [ $# -gt 0 ]; do
    case "$1" in
    --status) want_status=$2; shift 2 ;;
    --out) outs+=("$2"); shift 2 ;;
    --err-re) err_res+=("$2"); shift 2 ;;
    --skip-missing) skip_missing=1; shift ;;
    --) shift; break ;;
    *) echo "run-guest.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
if [ $# -eq 0 ]; then
    echo "run-guest.sh: no command given" >&2
    exit 2
fi
. "$(dirname "$0")/../lib/run-command.sh"
run_command "$skip_missing" "$@"

echo "command: $*"
echo "exit status: $status"
echo "---- stdout ----"
cat "$tmp/out"
echo "---- stderr ----"
cat "$tmp/err"
echo "----------------"

ok=1
if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: exit status $status, expected $want_status"
    ok=0
fi
for text in "${outs[@]+"${outs[@]}"}"; do
    if ! grep -qF -- "$text" "$tmp/out"; then
        echo "FAIL: stdout lacks \"$text\""
        ok=0
    fi
done
for re in "${err_res[@]+"${err_res[@]}"}"; do
    if ! grep -qE -- "$re" "$tmp/err"; then
        echo "FAIL: stderr does not match /$re/"
        ok=0
    fi
done
[ $ok -eq 1 ] && echo "PASS"
[ $ok -eq 1 ]
