#!/bin/sh
# SPDX-License-Identifier: MIT
# Whole-guest test of the Linux guest (guest-images/linux): boot it in an
# emulator and drive its root shell through the serial console.
#
# usage: tests/linux/linux-guest.sh [options] IMAGEDIR -- EMULATOR [ARGS...]
#   --timeout SECONDS  watchdog per step (default 300): a step that sees
#                      nothing for that long fails instead of hanging
#   --keep             keep the temporary directory (console logs, disk)
#   --skip-missing     exit 77 (ctest's "skipped") if EMULATOR is not
#                      installed or IMAGEDIR has not been built
#
# The emulator is run as
#   EMULATOR ARGS... -kernel IMAGEDIR/vmlinuz -initrd IMAGEDIR/initrd.img
#       -drive file=COPY,format=raw,if=ide
#       -append "console=ttyS0 root=/dev/sda" -nographic -no-reboot -m 256
# with COPY a copy of IMAGEDIR/disk.img, its stdin a FIFO the commands are
# written to, and its stdout the console log that is searched. Each check
# prints PASS or FAIL with a reason; the last line counts them. Exits 0 when
# every check passed, 1 otherwise, 2 on a usage error.
set -u
export LC_ALL=C

timeout=300
keep=0
skip_missing=0
while [ $# -gt 0 ]; do
    case "$1" in
    --timeout) timeout=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --skip-missing) skip_missing=1; shift ;;
    --) break ;;
    -*) echo "linux-guest.sh: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "${images:-}" ] || break; images=$1; shift ;;
    esac
done
if [ -z "${images:-}" ] || [ "${1:-}" != "--" ] || [ $# -lt 2 ]; then
    echo "usage: $0 [options] IMAGEDIR -- EMULATOR [ARGS...]" >&2
    exit 2
fi
shift

skip_or_fail() {
    if [ "$skip_missing" -eq 1 ]; then
        echo "SKIP: $1"
        exit 77
    fi
    echo "FAIL: $1"
    exit 1
}
command -v "$1" >/dev/null 2>&1 || skip_or_fail "$1 is not installed"
for f in vmlinuz initrd.img disk.img; do
    [ -f "$images/$f" ] || skip_or_fail \
        "$images/$f is missing (guest-images/linux/build.sh builds it)"
done

esc=$(printf '\033')
passed=0
failed=0
seq=0
boot=0
log=/dev/null
running=0

tmp=$(mktemp -d)
cleanup() {
    stop_guest
    if [ "$keep" -eq 1 ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
cp "$images/disk.img" "$tmp/disk.img"

pass() {
    echo "PASS $1: $2"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1: $2"
    failed=$((failed + 1))
}

# The kernel release from the bzImage's setup header: the 16-bit field at
# 0x20e points (from offset 0x200) at a string starting with it.
kernel_release() {
    off=$(od -An -tu2 -j 526 -N 2 "$images/vmlinuz" | tr -d ' ')
    dd if="$images/vmlinuz" bs=1 skip=$((off + 512)) count=128 2>/dev/null |
        tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}

# The console log so far, without carriage returns and terminal escapes.
console() {
    tr -d '\r' <"$log" | sed "s/$esc\[[0-9;?]*[A-Za-z]//g"
}

# Start the emulator (the rest of the arguments) on the disk copy, with a
# fresh FIFO as its stdin on fd 3 and $log as its console, in a session of
# its own so that stop_guest can end it with all its children. A subshell
# waits for it and leaves its exit status in $tmp/status.N; it ignores
# SIGINT and SIGHUP, so that it still writes it if the test is interrupted.
start_guest() {
    boot=$((boot + 1))
    log=$tmp/console.$boot.log
    rm -f "$tmp/pid"
    mkfifo "$tmp/in.$boot"
    exec 3<>"$tmp/in.$boot"
    (
        setsid "$@" -kernel "$images/vmlinuz" -initrd "$images/initrd.img" \
            -drive "file=$tmp/disk.img,format=raw,if=ide" \
            -append "console=ttyS0 root=/dev/sda" \
            -nographic -no-reboot -m 256 <&3 >"$log" 2>&1 &
        emulator=$!
        echo $emulator >"$tmp/pid"
        trap '' HUP INT
        wait $emulator
        echo $? >"$tmp/status.$boot"
    ) 2>/dev/null &
    waiter=$!
    while [ ! -s "$tmp/pid" ]; do sleep 0.1; done
    running=1
    alive=1
    started=$(date +%s)
}

exited() { [ -s "$tmp/status.$boot" ]; }

# Stop the emulator if it still runs (SIGTERM, then SIGKILL after 10 s).
stop_guest() {
    [ "$running" -eq 1 ] || return 0
    running=0
    if ! exited; then
        kill -- -"$(cat "$tmp/pid")" 2>/dev/null
        n=0
        while ! exited && [ $n -lt 50 ]; do
            sleep 0.2
            n=$((n + 1))
        done
        exited || kill -9 -- -"$(cat "$tmp/pid")" 2>/dev/null
    fi
    wait "$waiter" 2>/dev/null
    exec 3>&-
}

# Wait until a console line matches the extended regex $1. On failure
# return 1 with the reason in $why: the emulator exited, or the watchdog
# saw no match within $timeout seconds.
wait_for() {
    deadline=$(($(date +%s) + timeout))
    while :; do
        console | grep -Eq -- "$1" && return 0
        if exited; then
            why="the emulator exited (status $(cat "$tmp/status.$boot"))"
            return 1
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            why="nothing after $timeout s (watchdog)"
            return 1
        fi
        sleep 0.2
    done
}

# Send a line to the guest's console.
send() { printf '%s\n' "$1" >&3; }

# Run shell command $1 in the guest; set $out to what it printed and $rc
# to its exit status. Its output is framed by marker lines that the
# echo of the typed line cannot match (the echo shows "%s", not the text).
# Once a command got no answer, the rest fail at once.
run() {
    if [ "$alive" -eq 0 ]; then
        why="skipped: the guest stopped answering"
        return 1
    fi
    seq=$((seq + 1))
    begin="printf '@@%s:%s@@\\n' begin $seq"
    end="printf '@@%s:%s:%s@@\\n' end $seq \$?"
    send "$begin; $1; $end"
    if ! wait_for "^@@end:$seq:[0-9]+@@\$"; then
        alive=0
        show_console
        return 1
    fi
    out=$(console | awk -v b="@@begin:$seq@@" -v e="^@@end:$seq:" '
        $0 == b { on = 1; next }
        on && $0 ~ e { exit }
        on { print }')
    rc=$(console | sed -n "s/^@@end:$seq:\([0-9]*\)@@\$/\1/p")
}

# Show the end of the console log after a failure.
show_console() {
    echo "---- last lines of console $boot ----"
    console | tail -n 25
    echo "-------------------------------------"
}

# Boot and wait for the root shell's prompt ("host:dir# ").
boot_to_shell() {
    start_guest "$@"
    if ! wait_for '^[^ ]+:[^ ]*# '; then
        fail "boot$boot" "no shell prompt: $why"
        show_console
        return 1
    fi
    if ! run true; then
        fail "boot$boot" "the shell does not answer: $why"
        return 1
    fi
    pass "boot$boot" "root shell prompt after $(($(date +%s) - started)) s"
}

# Power the guest off and wait for the emulator to leave by itself. The
# watchdog allows $timeout seconds, or 10 s after the kernel's last word.
power_off() {
    name=poweroff$boot
    if [ "$alive" -eq 0 ]; then
        fail "$name" "skipped: the guest stopped answering"
        stop_guest
        return
    fi
    send poweroff
    deadline=$(($(date +%s) + timeout))
    down=""
    while ! exited && [ "$(date +%s)" -lt "$deadline" ]; do
        if [ -z "$down" ] && console | grep -q 'reboot: Power down'; then
            down=$(date +%s)
            deadline=$((down + 10))
        fi
        sleep 0.2
    done
    if exited; then
        status=$(cat "$tmp/status.$boot")
        if [ "$status" -eq 0 ]; then
            pass "$name" "the guest powered off and the emulator exited"
        else
            fail "$name" "the emulator exited with status $status"
        fi
    elif [ -n "$down" ]; then
        fail "$name" "the guest powered down but the emulator did not exit"
    else
        fail "$name" "the guest did not power down within $timeout s (watchdog)"
        show_console
    fi
    stop_guest
}

# Kernel log lines that show trouble with timers or a kernel warning.
BAD_DMESG='clocksource.*unstable|TSC.*unstable|tsc.*unstable'
BAD_DMESG="$BAD_DMESG|timer.*broken|MP-BIOS bug|WARNING:|BUG:"
# The platform's own complaints: MSRs the CPU model lacks, broken PMU,
# ACPI tables the interpreter rejects.
BAD_DMESG="$BAD_DMESG|unchecked MSR access|Failed to access perfctr"
BAD_DMESG="$BAD_DMESG|ACPI (BIOS )?Error|ACPI Warning"

check_dmesg() {
    if ! run dmesg; then
        fail "dmesg$boot" "$why"
        return
    fi
    bad=$(printf '%s\n' "$out" | grep -E -- "$BAD_DMESG")
    if [ -n "$bad" ]; then
        fail "dmesg$boot" "platform complaints in the kernel log:"
        printf '%s\n' "$bad" | sed 's/^/    /'
    else
        lines=$(printf '%s\n' "$out" | wc -l)
        pass "dmesg$boot" "no timer, MSR, PMU or ACPI complaints ($lines lines)"
    fi
}

# What the last command printed, on one line.
got() {
    printf "got '%s' (status %s)" "$(printf '%s' "$out" | tr '\n' '|')" "$rc"
}

# Run check NAME: command CMD must print exactly WANT (with status 0).
check_output() {
    if ! run "$2"; then
        fail "$1" "$why"
    elif [ "$rc" -ne 0 ] || [ "$out" != "$3" ]; then
        fail "$1" "expected '$3', $(got)"
    else
        pass "$1" "$4"
    fi
}

# Run check NAME: one line of what command CMD prints must be WANT (the
# shell may add job notices such as "Terminated" around it).
check_line() {
    if ! run "$2"; then
        fail "$1" "$why"
    elif ! printf '%s\n' "$out" | grep -qx -- "$3"; then
        fail "$1" "expected a line '$3', $(got)"
    else
        pass "$1" "$4"
    fi
}

krel=$(kernel_release)

# Kernel messages printed on the console (a slow host makes the kernel
# note e.g. "hrtimer: interrupt took ...") would land in the middle of a
# command's output: keep them in the log only, which check_dmesg reads.
quiet_console() {
    run 'dmesg -n 1' || true
}

# The guest commands (each sent as one line). /bin/true is a real fork and
# exec of the busybox binary; the last PID in /proc/loadavg shows that 50
# processes were created.
FORK='read a b c d p0 </proc/loadavg; i=0;'
FORK="$FORK"' while [ $i -lt 50 ]; do /bin/true || break; i=$((i+1)); done;'
FORK="$FORK"' read a b c d p1 </proc/loadavg; echo ran-$i;'
FORK="$FORK"' [ $((p1 - p0)) -ge 50 ] && echo forked-50'
# Kill sleep once it has exec'd: before that the child still ignores
# SIGTERM as the interactive shell does, and the signal would be lost.
SIGNAL='sleep 30 &'
SIGNAL="$SIGNAL"' until read c </proc/$!/comm && [ "$c" = sleep ]; do :; done;'
SIGNAL="$SIGNAL"' kill %1; wait %1; echo status-$?'
WRITE='echo persist-$((40+2)) >/root/persist.txt && sync &&'
WRITE="$WRITE cat /root/persist.txt"

first=1
if boot_to_shell "$@"; then
    quiet_console
    check_output echo 'echo hello-$((6*7))' hello-42 "echo printed hello-42"
    check_output uname 'uname -r' "$krel" "uname -r is $krel"
    check_output fork-exec "$FORK" "ran-50
forked-50" "50 runs of /bin/true, 50 new processes"
    check_line signal "$SIGNAL" status-143 \
        "SIGTERM ended a background sleep: wait gave 143"
    check_output write "$WRITE" persist-42 "wrote /root/persist.txt and synced"
    check_dmesg
    power_off
else
    first=0
    stop_guest
fi

# Boot again on the same disk: the file must be there, and the journal
# clean (rcK remounted the root file system read-only at poweroff).
if [ "$first" -eq 1 ] && boot_to_shell "$@"; then
    quiet_console
    check_output persist 'cat /root/persist.txt' persist-42 \
        "/root/persist.txt read back after a reboot"
    check_output clean-unmount \
        'dmesg | grep -c "recovery complete" || true' 0 \
        "the root file system mounted without journal recovery"
    check_dmesg
    power_off
fi

echo "linux-guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
