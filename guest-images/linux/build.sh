#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the default Linux guest from Debian 12 i386 packages:
#   OUTDIR/vmlinuz     the kernel of linux-image-686 (6.1, non-PAE)
#   OUTDIR/initrd.img  an initramfs: busybox-static, the modules that reach
#                      the root disk, and /init (initrd/init beside this file)
#   OUTDIR/disk.img    a 64 MiB ext4 root file system: busybox-static and
#                      the files under rootfs/ beside this file
# usage: guest-images/linux/build.sh OUTDIR
#
# The packages come from Debian's archive through apt-get only, into
# OUTDIR/debs, which is kept as a cache. The outputs are byte-for-byte
# reproducible from the package versions, the host's e2fsprogs/cpio/gzip/
# kmod and the files beside this script; when none of these changed since
# the last build (OUTDIR/.stamp), a rerun does nothing and prints nothing.
# The first run needs root: it installs missing tools and enables the i386
# architecture in dpkg. No i386 package is installed on the host: the .debs
# are only unpacked with dpkg-deb -x.
set -eu
export LC_ALL=C
umask 022
PATH=/usr/sbin:/sbin:$PATH

TOOLS="e2fsprogs cpio gzip xz-utils kmod"

# The drivers between the kernel and the root disk. With their dependencies
# and softdeps from modules.dep they become the initramfs' module list.
#   ata_piix        the PIIX IDE controller of the i440FX PC
#   sd_mod          disks: libata shows IDE disks as SCSI disks, /dev/sdX
#   ext4            the root file system
#   crc32c_generic  the checksum of ext4's metadata_csum
# Each is skipped when the kernel has it built in (modules.builtin, which
# depmod derives from the CONFIG_*=y lines of boot/config-*).
INITRD_MODULES="ata_piix sd_mod ext4 crc32c_generic"

DISK_MIB=64
# Fixed identities of the root file system, so two builds are identical.
FS_UUID=6c696e75-7800-4000-8000-627433383600
HASH_SEED=6c696e75-7800-4000-8000-686173680000

say() { echo "linux-guest: $*" >&2; }
die() {
    say "$*"
    exit 1
}
need_root() {
    [ "$(id -u)" -eq 0 ] || die "$1 (run as root, or do it by hand)"
}

# Install the host tools this script runs. Silent when they are there.
install_tools() {
    missing=""
    for p in $TOOLS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    need_root "missing packages:$missing"
    apt_update
    say "installing$missing"
    DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# A partly failed update (a mirror in sync, say) still leaves the lists
# that worked; whether the packages can be found is checked afterwards.
apt_update() {
    need_root "apt's package lists need updating"
    say "updating apt's package lists"
    apt-get update -qq >/dev/null ||
        say "apt-get update reported errors; going on with the lists it has"
}

# Read apt's records of the versions it would download of
# linux-image-686:i386 and busybox-static:i386 into $recs (one apt-cache
# run: each takes about a second).
read_records() {
    recs=$(apt-cache show --no-all-versions linux-image-686:i386 \
        busybox-static:i386 2>/dev/null) || recs=""
}

# Print field NAME of package PKG's record in $recs, or nothing.
field() {
    printf '%s\n' "$recs" | awk -v pkg="$1" -v name="$2:" '
        $1 == "Package:" { cur = $2 }
        cur == pkg && $1 == name { sub(/^[^:]*: /, ""); print; exit }'
}

# Enable i386 in dpkg and fetch its package lists, each only when missing.
apt_ready() {
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        need_root "dpkg does not know the i386 architecture yet"
        say "enabling the i386 architecture in dpkg"
        dpkg --add-architecture i386
        apt_update
    fi
    read_records
    if [ -z "$(field linux-image-686 Version)" ] ||
        [ -z "$(field busybox-static Version)" ]; then
        apt_update
        read_records
    fi
}

# Set kpkg/kpver (the kernel package linux-image-686 depends on, e.g.
# linux-image-6.1.0-50-686 6.1.176-1), krel (its uname -r) and bver.
resolve_packages() {
    meta=$(field linux-image-686 Version)
    [ -n "$meta" ] || die "apt knows no linux-image-686:i386"
    set -- $(field linux-image-686 Depends | tr ',' '\n' |
        sed -n 's/^ *\(linux-image-6\.1\.[^ ]*-686\) (= \(.*\))$/\1 \2/p')
    [ $# -eq 2 ] ||
        die "linux-image-686:i386 $meta depends on no linux-image-6.1.*-686"
    kpkg=$1
    kpver=$2
    krel=${kpkg#linux-image-}
    bver=$(field busybox-static Version)
    [ -n "$bver" ] || die "apt knows no busybox-static:i386"
}

# Print the path of PKG:i386 at VERSION in the cache, downloading it when
# no cached file has the checksum apt's lists give (others are removed).
fetch() {
    fpkg=$1
    fver=$2
    sum=$(apt-cache show "$fpkg:i386=$fver" |
        sed -n 's/^SHA256: //p' | head -n 1)
    [ -n "$sum" ] || die "apt's lists have no checksum for $fpkg:i386 $fver"
    for tries in 1 2; do
        for f in "$debs/${fpkg}"_*_i386.deb; do
            [ -f "$f" ] || continue
            if [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sum" ]; then
                echo "$f"
                return 0
            fi
            rm -f "$f"
        done
        [ $tries -eq 2 ] && break
        # (as root apt would otherwise try, and fail with a warning, to
        # write into $debs as its unprivileged download user)
        (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root \
            "$fpkg:i386=$fver" >/dev/null) && continue
        # Old lists may name a file the archive has replaced.
        apt_update
        (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root \
            "$fpkg:i386=$fver" >/dev/null) ||
            die "cannot download $fpkg:i386 $fver"
    done
    die "the download of $fpkg:i386 $fver does not match apt's checksum"
}

# What the outputs are made from; a change to any line rebuilds them.
stamp_text() {
    echo "$kpkg $kpver"
    echo "busybox-static $bver"
    dpkg-query -W -f='${Package} ${Version}\n' $TOOLS
    (cd "$here" && find . -type f ! -name README.md ! -name CMakeLists.txt \
        -exec sha256sum {} + | sort -k 2)
}

# Print busybox's applets, one a line. The binary is i386 code that the
# host may not be able to run, so the list comes from the package's man
# page, which is generated from the same build configuration (it matches
# `busybox --list`).
applets() {
    gzip -dc "$1/usr/share/man/man1/busybox.1.gz" |
        sed -n '/^Currently available applets include:/,/^\.Ve/p' |
        sed -n 's/^\\&//p' | sed 's/\\-/-/g' | tr ',' '\n' | tr -d ' \t' |
        grep -v -e '^$' -e '^busybox$' -e '^linuxrc$' | sort -u
}

# Put busybox and a relative link per applet in DIR/bin, with sbin, usr/bin
# and usr/sbin all pointing at it.
stage_busybox() {
    mkdir -p "$1/bin" "$1/usr"
    cp "$bbroot/bin/busybox" "$1/bin/busybox"
    for a in $applet_list; do
        ln -s busybox "$1/bin/$a"
    done
    ln -s bin "$1/sbin"
    ln -s ../bin "$1/usr/bin"
    ln -s ../bin "$1/usr/sbin"
}

# Give every file under DIR the same modes whatever the umask and checkout:
# directories 755, files 644, busybox 755 (the callers then set the few
# others).
set_modes() {
    find "$1" -type d -exec chmod 755 {} +
    find "$1" -type f -exec chmod 644 {} +
    chmod 755 "$1/bin/busybox"
}

# Give everything under DIR the build's timestamp.
set_times() {
    find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# Print the modules to load, as paths under lib/modules/KREL, in load
# order: each after what it needs (modprobe --show-depends follows
# modules.dep and the modules' softdeps).
pick_modules() {
    depmod -b "$kroot" "$krel" >&2
    mkdir -p "$work/modprobe.d"
    for m in $INITRD_MODULES; do
        modprobe -d "$kroot" -S "$krel" -C "$work/modprobe.d" \
            --show-depends "$m" || die "modprobe cannot resolve $m"
    done >"$work/modprobe.out"
    awk -v dir="$kroot/lib/modules/$krel/" '
        $1 == "builtin" { next }
        $1 != "insmod" || index($2, dir) != 1 { print "?" $0; next }
        {
            p = substr($2, length(dir) + 1)
            # SIMD variants (crc32c-intel) fail to load on CPUs without
            # the instructions; the generic C ones are always there.
            if (p ~ /^kernel\/arch\/x86\/crypto\//) next
            if (!seen[p]++) print p
        }' "$work/modprobe.out"
}

# Stage and pack the initramfs into $work/initrd.img.
make_initrd() {
    ird=$work/initrd
    stage_busybox "$ird"
    mkdir -p "$ird/dev" "$ird/proc" "$ird/sys" "$ird/newroot" "$ird/etc"
    : >"$ird/etc/initrd-modules"
    for p in $module_list; do
        case "$p" in
        \?*) die "unexpected modprobe output: ${p#?}" ;;
        esac
        src=$kroot/lib/modules/$krel/$p
        dst=${p%.xz}
        dst=${dst%.gz}
        mkdir -p "$(dirname "$ird/lib/modules/$krel/$dst")"
        # Stored uncompressed, so any insmod loads them.
        case "$p" in
        *.ko.xz) xz -dc "$src" >"$ird/lib/modules/$krel/$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$ird/lib/modules/$krel/$dst" ;;
        *.ko) cp "$src" "$ird/lib/modules/$krel/$dst" ;;
        *) die "cannot unpack module $p" ;;
        esac
        echo "$dst" >>"$ird/etc/initrd-modules"
    done
    cp "$here/initrd/init" "$ird/init"
    set_modes "$ird"
    chmod 755 "$ird/init"
    set_times "$ird"
    (cd "$ird" && find . | sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible) |
        gzip -9 -n >"$work/initrd.img"
}

# Stage the root file system and write it into $work/disk.img with
# mke2fs -d, which needs neither root nor a loop mount.
make_disk() {
    rfs=$work/rootfs
    stage_busybox "$rfs"
    cp -R "$here/rootfs/." "$rfs/"
    mkdir -p "$rfs/dev" "$rfs/proc" "$rfs/sys" "$rfs/tmp" "$rfs/root" \
        "$rfs/mnt"
    set_modes "$rfs"
    chmod 755 "$rfs/etc/init.d/rcS" "$rfs/etc/init.d/rcK"
    chmod 1777 "$rfs/tmp"
    chmod 700 "$rfs/root"
    set_times "$rfs"
    img=$work/disk.img
    truncate -s "${DISK_MIB}M" "$img"
    MKE2FS_CONFIG=$here/mke2fs.conf E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH \
        mke2fs -q -F -t ext4 -L root -U "$FS_UUID" \
        -E "root_owner=0:0,hash_seed=$HASH_SEED" -d "$rfs" "$img"
    # mke2fs -d copies each file's owner and its ctime and atime (which
    # are the time of this build) from the staging tree: set them all.
    (cd "$rfs" && find . -mindepth 1 | sort) | sed 's/^\.//' |
        while read -r p; do
            for t in atime ctime mtime crtime; do
                echo "sif $p $t @$SOURCE_DATE_EPOCH"
            done
            echo "sif $p uid 0"
            echo "sif $p gid 0"
        done >"$work/debugfs.cmds"
    E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH \
        debugfs -w -f "$work/debugfs.cmds" "$img" \
        >/dev/null 2>"$work/debugfs.err"
    if grep -v '^debugfs [0-9]' "$work/debugfs.err" >&2; then
        die "debugfs could not fix up the disk image"
    fi
    e2fsck -fn "$img" >"$work/e2fsck.log" 2>&1 ||
        die "the disk image does not check clean: $(cat "$work/e2fsck.log")"
}

[ $# -eq 1 ] || {
    echo "usage: $0 OUTDIR" >&2
    exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
debs=$out/debs
work=$out/.work

install_tools
apt_ready
resolve_packages
stamp=$(stamp_text)
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
    [ -f "$out/disk.img" ] && [ -f "$out/.stamp" ] &&
    [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    exit 0
fi

say "building from $kpkg $kpver and busybox-static $bver"
mkdir -p "$debs"
kdeb=$(fetch "$kpkg" "$kpver")
bdeb=$(fetch busybox-static "$bver")
# The cache keeps only what this build uses.
for f in "$debs"/*.deb; do
    [ "$f" = "$kdeb" ] || [ "$f" = "$bdeb" ] || rm -f "$f"
done

trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
rm -rf "$work"
kroot=$work/kernel
bbroot=$work/busybox
mkdir -p "$kroot" "$bbroot"
dpkg-deb -x "$kdeb" "$kroot"
dpkg-deb -x "$bdeb" "$bbroot"
[ -f "$kroot/boot/vmlinuz-$krel" ] || die "$kpkg has no boot/vmlinuz-$krel"
# Every timestamp in the outputs is the kernel's, as the package has it.
SOURCE_DATE_EPOCH=$(stat -c %Y "$kroot/boot/vmlinuz-$krel")
export SOURCE_DATE_EPOCH

applet_list=$(applets "$bbroot")
for a in sh init mount insmod switch_root cttyhack setsid poweroff; do
    echo "$applet_list" | grep -qx "$a" || die "busybox has no $a applet"
done
module_list=$(pick_modules)
make_initrd
make_disk
cp "$kroot/boot/vmlinuz-$krel" "$work/vmlinuz"

rm -f "$out/.stamp"
for f in vmlinuz initrd.img disk.img; do
    mv "$work/$f" "$out/$f"
done
echo "$stamp" >"$out/.stamp"
say "initramfs modules:$(for p in $module_list; do
    printf ' %s' "$(basename "${p%%.ko*}")"
done)"
say "built $out/vmlinuz ($krel), initrd.img and disk.img"
