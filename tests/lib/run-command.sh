# SPDX-License-Identifier: MIT
# Shared by the whole-guest test runners (sourced, not run).
#
# run_command SKIP_MISSING CMD...: run an emulator with stdin from
# /dev/null (with -nographic QEMU would otherwise read the terminal and
# put it in raw mode), leaving its stdout with carriage returns removed in
# $tmp/out, its stderr in $tmp/err and its exit status in $status; $tmp
# is removed on exit. A command that is not installed is a skip (exit 77)
# when SKIP_MISSING is 1, a failure otherwise.
run_command() {
    local skip=$1
    shift
    if ! command -v "$1" >/dev/null 2>&1; then
        if [ "$skip" -eq 1 ]; then
            echo "SKIP: $1 is not installed"
            exit 77
        fi
        echo "FAIL: $1 not found (is it built?)"
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$@" </dev/null >"$tmp/raw" 2>"$tmp/err"
    status=$?
    tr -d '\r' <"$tmp/raw" >"$tmp/out"
}
