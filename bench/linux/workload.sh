# SPDX-License-Identifier: MIT
# The workloads of bench/linux/run, for busybox sh: the same file runs in
# the guest (as /root/workload.sh, with the guest's /bin) and natively on
# the host (with the same busybox binary and a folder of applet links).
#
# usage: sh workload.sh BIN WORKDIR NAME [ARG...]
#   BIN      the folder whose busybox applets the workloads run ($BIN/true
#            for fork+exec); it must also be first on the PATH
#   WORKDIR  where the gzip output goes (the guest's /tmp is a tmpfs)
#   NAME     gen OUT MIB      make the input: MIB MiB of text (untimed)
#            gzip IN          gzip -c <IN >WORKDIR/out.gz
#            sha256 IN        sha256sum IN
#            awk N            an awk loop of N iterations of s += i*i%7
#            shloop N         a shell loop counting to N with $((i+1))
#            fork N           N runs of BIN/true, each a fork and an exec
#            diskwrite IN OUT write IN twice to OUT with dd conv=fsync, sync
#            diskread OUT     drop the page cache, then dd OUT to /dev/null
#
# Each timed workload prints one line
#   result NAME usec=MICROSECONDS check=VALUE [note=WORD]
# with the time taken as the system sees it (its own clock: in a guest,
# the guest's) and a value that must be the same wherever it runs. The
# clock is read with adjtimex (microseconds; this busybox's date has no %N).
# A failure prints "result NAME failed=REASON" and exits 1.

[ $# -ge 3 ] || {
    echo "usage: sh workload.sh BIN WORKDIR NAME [ARG...]" >&2
    exit 2
}
BIN=$1
WORK=$2
NAME=$3
shift 3

# Microseconds since the epoch. The clock is read in adjtimex, so the part
# of this function timed on each side is about one fork and exec.
now() {
    adjtimex | awk '$1 == "time.tv_sec:" { s = $2 }
        $1 == "time.tv_usec:" { u = $2 }
        END { printf "%d%06d\n", s, u }'
}

fail() {
    echo "result $NAME failed=$1"
    exit 1
}

# Print the result line; $t0 and $t1 are set by the workload.
report() {
    echo "result $NAME usec=$((t1 - t0)) check=$1${2:+ note=$2}"
}

# The first 64 hex digits sha256sum prints for file $1.
digest() {
    set -- $(sha256sum "$1")
    echo "$1"
}

case $NAME in
gen)
    # Deterministic text: 1 MiB of pseudo-random lines, words picked by a
    # Park-Miller generator (x * 16807 fits a double exactly, so any awk
    # gives the same bytes) from common English words and made-up ones,
    # then MIB copies of it, copy k with its letters rotated by k so that
    # no two MiB are the same. gzip sees 32 KiB at a time, so the
    # repetition does not help it; the result compresses to about a third.
    out=$1
    mib=$2
    awk -v size=1048576 'function rnd(n) {
            x = (x * 16807) % 2147483647
            return x % n
        }
        BEGIN {
            x = 20240601
            nw = split("the of and to in is was that for on as with by at " \
                "from this be or an are it not which have had but were " \
                "all one their there can more been has its also other " \
                "after first into two new would time only when may over " \
                "most some than made such between used so out no these " \
                "about up them years many then where during state who " \
                "known later three under while before being city since " \
                "each part area both through", w, " ")
            for (i = 1; i <= 64; i++) {
                s = ""
                l = 3 + rnd(8)
                for (j = 0; j < l; j++) s = s sprintf("%c", 97 + rnd(26))
                w[nw + i] = s
            }
            nw += 64
            n = 0
            while (n < size) {
                line = ""
                k = 4 + rnd(12)
                for (j = 0; j < k; j++)
                    line = line w[1 + rnd(nw)] (rnd(9) == 0 ? ", " : " ")
                line = line rnd(100000) ".\n"
                printf "%s", line
                n += length(line)
            }
        }' >"$out.chunk" || fail generator
    letters=abcdefghijklmnopqrstuvwxyz
    k=0
    while [ $k -lt "$mib" ]; do
        r=$((k % 26))
        from=$(echo $letters | cut -c$((r + 1))-26)
        to=
        [ $r -eq 0 ] || to=$(echo $letters | cut -c1-$r)
        head -c 1048576 "$out.chunk" | tr a-z "$from$to"
        k=$((k + 1))
    done >"$out" || fail generator
    rm -f "$out.chunk"
    echo "result gen check=$(digest "$out")"
    ;;
gzip)
    # From stdin, so the gzip header has no file name or time in it.
    t0=$(now)
    gzip -c <"$1" >"$WORK/out.gz" || fail gzip
    t1=$(now)
    sum=$(digest "$WORK/out.gz")
    size=$(wc -c <"$WORK/out.gz")
    rm -f "$WORK/out.gz"
    report "$size:$sum"
    ;;
sha256)
    t0=$(now)
    set -- $(sha256sum "$1") || fail sha256sum
    t1=$(now)
    report "$1"
    ;;
awk)
    t0=$(now)
    s=$(awk -v n="$1" 'BEGIN { s = 0; for (i = 0; i < n; i++) s += i * i % 7
        print s }') || fail awk
    t1=$(now)
    report "$s"
    ;;
shloop)
    t0=$(now)
    i=0
    while [ $i -lt "$1" ]; do i=$((i + 1)); done
    t1=$(now)
    report "$i"
    ;;
fork)
    # A path with a slash, so that the shell really forks and execs the
    # binary instead of running a built-in or a busybox applet in-process.
    t0=$(now)
    i=0
    while [ $i -lt "$1" ]; do
        "$BIN/true" || fail "$BIN/true"
        i=$((i + 1))
    done
    t1=$(now)
    report "$i"
    ;;
diskwrite)
    rm -f "$2"
    sync
    t0=$(now)
    cat "$1" "$1" | dd of="$2" bs=64k conv=fsync 2>/dev/null || fail dd
    sync
    t1=$(now)
    report "$(wc -c <"$2")"
    ;;
diskread)
    # Without root (natively) the page cache stays, and the note says so.
    sync
    if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
        note=dropped
    else
        note=cached
    fi
    t0=$(now)
    dd if="$1" of=/dev/null bs=64k 2>/dev/null || fail dd
    t1=$(now)
    sum=$(digest "$1")
    rm -f "$1"
    report "$sum" "$note"
    ;;
*)
    fail "unknown-workload"
    ;;
esac
