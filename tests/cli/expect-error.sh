#!/bin/bash
# SPDX-License-Identifier: MIT
# Run bt386 on bad input and check it fails cleanly: exit status 1, nothing
# on stdout, exactly one line "bt386: ..." on stderr matching a regex.
#
# usage: expect-error.sh BT386 WORKDIR REGEX [FIXTURE...] -- ARG...
#
# WORKDIR is emptied and made the current directory, so ARGs name the
# fixtures by relative path. Fixtures:
#   --empty NAME             an empty file
#   --random NAME            8 KiB of fixed pseudo-random bytes
#   --dir NAME               a directory
#   --head NAME SRC BYTES    the first BYTES of SRC ("half": half of it)
#   --elf64 NAME             an x86-64 ELF with a Multiboot header (built
#                            with $BT386_CC; exit 77, "skipped", without one)
# REGEX is an extended regex (grep -E) matched against the stderr line.
set -u
export LC_ALL=C

die() {
    echo "expect-error: $*" >&2
    exit 2
}

[ $# -ge 4 ] || die "usage: expect-error.sh BT386 WORKDIR REGEX [FIXTURE...] -- ARG..."
bt386=$1 workdir=$2 regex=$3
shift 3
case $bt386 in /*) ;; *) bt386=$PWD/$bt386 ;; esac
[ -x "$bt386" ] || die "no executable at $bt386"

rm -rf -- "$workdir" && mkdir -p -- "$workdir" && cd -- "$workdir" ||
    die "cannot make $workdir"

# 8 KiB of fixed pseudo-random bytes (Park-Miller generator, exact in awk's
# doubles), so every run sees the same file.
random_bytes() {
    printf "$(awk 'BEGIN {
        x = 386
        for (i = 0; i < 8192; i++) {
            x = (x * 16807) % 2147483647
            printf "\\x%02x", int(x / 65536) % 256
        }
    }')"
}

# The first bytes of a file; "half" keeps half of it.
head_of() {
    local name=$1 src=$2 bytes=$3
    [ -f "$src" ] || die "no file $src"
    [ "$bytes" = half ] && bytes=$(($(wc -c <"$src") / 2))
    head -c "$bytes" "$src" >"$name"
}

# A 64-bit ELF that a Multiboot loader must refuse although its header is
# valid (QEMU: "Cannot load x86-64 image, give a 32bit one.").
elf64() {
    [ -n "${BT386_CC:-}" ] || { echo "no BT386_CC: skipped"; exit 77; }
    cat >mb64.S <<'ASM'
    .section .multiboot, "a"
    .balign 4
    .long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)
    .text
    .globl _start
_start:
    hlt
    jmp _start
ASM
    "$BT386_CC" -m64 -nostdlib -static -Wl,-n -Wl,--build-id=none \
        -o "$1" mb64.S || { echo "cannot build an x86-64 ELF: skipped"; exit 77; }
}

while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
    --empty) : >"$2"; shift 2 ;;
    --random) random_bytes >"$2"; shift 2 ;;
    --dir) mkdir -p -- "$2"; shift 2 ;;
    --head) head_of "$2" "$3" "$4"; shift 4 ;;
    --elf64) elf64 "$2"; shift 2 ;;
    *) die "unknown fixture '$1'" ;;
    esac
done
[ "${1:-}" = -- ] || die "missing '--' before the arguments"
shift

ulimit -c 0
"$bt386" "$@" </dev/null >stdout.txt 2>stderr.txt
status=$?
line=$(cat stderr.txt)
failed=0

fail() {
    echo "FAIL: $*"
    failed=1
}

[ $status -eq 1 ] || fail "exit status $status, expected 1"
[ -s stdout.txt ] && fail "unexpected output on stdout"
case $line in *$'\n'*) fail "more than one line on stderr" ;; esac
[ "$(wc -c <stderr.txt)" -eq $((${#line} + 1)) ] ||
    fail "stderr is not a single line ending in a newline"
case $line in "bt386: "*) ;; *) fail "stderr does not start with 'bt386: '" ;; esac
printf '%s\n' "$line" | grep -Eq -- "$regex" ||
    fail "stderr does not match /$regex/"
grep -Eq 'Sanitizer|runtime error|core dumped|Segmentation fault|Aborted' \
    stderr.txt && fail "crash or sanitizer report on stderr"

echo "command: $bt386 $*"
echo "status:  $status"
echo "stderr:  $line"
if [ $failed -ne 0 ]; then
    echo "--- stdout ---"
    head -c 4096 stdout.txt
    echo "--- stderr ---"
    head -c 4096 stderr.txt
    exit 1
fi
echo "PASS"
