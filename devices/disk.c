/* SPDX-License-Identifier: MIT */
/* Raw disk images: pread/pwrite on a locked file, fdatasync for flushes. */
#include "devices/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Host side only: a disk has no guest-visible state of its own. */
struct disk {
    int fd;           /* the image, locked for as long as it is open */
    bool readonly;    /* opened O_RDONLY with a shared lock */
    bool dirty;       /* written since the last flush */
    uint64_t sectors; /* size in 512-byte sectors */
    uint64_t flushes; /* fdatasync calls that succeeded */
};

/*
 * Lock the whole file: exclusive for a writer, shared for a reader. OFD
 * locks belong to the open file description, so they conflict even between
 * two opens in one process and are not dropped when some other descriptor
 * on the file is closed, as classic POSIX record locks would be. Kernels or
 * file systems without them get flock(), which has the same semantics.
 * Returns 0, or -1 with errno (EWOULDBLOCK when someone else holds it).
 */
static int disk_lock(int fd, bool readonly)
{
    struct flock fl = {
        .l_type = readonly ? F_RDLCK : F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = 0,
        .l_len = 0, /* to the end of the file, however it grows */
    };

    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES) {
        errno = EWOULDBLOCK;
        return -1;
    }
    if (errno != EINVAL && errno != ENOLCK)
        return -1;
    return flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB);
}

/* The image size in bytes: st_size, or the device size for a block device.
 * Returns 0 with a message in err, or -1. */
static int disk_size(int fd, const char *path, uint64_t *bytes, char *err,
                     size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        return -1;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, bytes) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file or block device", path);
        return -1;
    }
    *bytes = (uint64_t)st.st_size;
    return 0;
}

/* Open, check and lock. Returns the fd, or -1 with a message in err. */
static int disk_open_fd(const char *path, bool readonly, uint64_t *bytes,
                        char *err, size_t errlen)
{
    int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (disk_size(fd, path, bytes, err, errlen) != 0)
        goto fail;
    if (*bytes == 0) {
        snprintf(err, errlen, "%s: empty disk image", path);
        goto fail;
    }
    if (*bytes % DISK_SECTOR_SIZE) {
        snprintf(err, errlen, "%s: size %llu is not a multiple of %d bytes",
                 path, (unsigned long long)*bytes, DISK_SECTOR_SIZE);
        goto fail;
    }
    if (disk_lock(fd, readonly) != 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "%s: in use by another process (locked)",
                     path);
        else
            snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

struct disk *disk_open(const char *path, bool readonly, char *err,
                       size_t errlen)
{
    struct disk *d;
    uint64_t bytes;
    int fd = disk_open_fd(path, readonly, &bytes, err, errlen);

    if (fd < 0)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    d->fd = fd;
    d->readonly = readonly;
    d->sectors = bytes / DISK_SECTOR_SIZE;
    return d;
}

int disk_close(struct disk *d)
{
    int rc = 0;

    if (!d)
        return 0;
    if (d->dirty)
        rc = disk_flush(d);
    close(d->fd); /* drops the lock */
    free(d);
    return rc;
}

/* True when [sector, sector + count) lies inside the image. */
static bool disk_in_range(const struct disk *d, uint64_t sector, unsigned count)
{
    return count <= d->sectors && sector <= d->sectors - count;
}

/* All of len bytes at off, across EINTR and short reads. End of file
 * (the image shrank under us) is an I/O error. */
static int disk_pread_all(int fd, uint8_t *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static int disk_pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int disk_read(struct disk *d, uint64_t sector, void *buf, unsigned count)
{
    if (!disk_in_range(d, sector, count)) {
        errno = EINVAL;
        return -1;
    }
    return disk_pread_all(d->fd, buf, (size_t)count * DISK_SECTOR_SIZE,
                          (off_t)(sector * DISK_SECTOR_SIZE));
}

int disk_write(struct disk *d, uint64_t sector, const void *buf, unsigned count)
{
    if (d->readonly) {
        errno = EROFS;
        return -1;
    }
    if (!disk_in_range(d, sector, count)) {
        errno = EINVAL;
        return -1;
    }
    d->dirty = true;
    return disk_pwrite_all(d->fd, buf, (size_t)count * DISK_SECTOR_SIZE,
                           (off_t)(sector * DISK_SECTOR_SIZE));
}

/* fdatasync is enough: the size never changes, so no metadata is needed
 * to find the data again. A readonly image has nothing to flush. */
int disk_flush(struct disk *d)
{
    int rc;

    if (d->readonly)
        return 0;
    do
        rc = fdatasync(d->fd);
    while (rc != 0 && errno == EINTR);
    if (rc != 0)
        return -1;
    d->dirty = false;
    d->flushes++;
    return 0;
}

uint64_t disk_sectors(const struct disk *d)
{
    return d->sectors;
}

bool disk_readonly(const struct disk *d)
{
    return d->readonly;
}

uint64_t disk_flushes(const struct disk *d)
{
    return d->flushes;
}
