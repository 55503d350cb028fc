/* SPDX-License-Identifier: MIT */
/* A raw disk image: a host file (or block device) of 512-byte sectors. */
#ifndef BT386_DEVICES_DISK_H
#define BT386_DEVICES_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512

struct disk;

/*
 * Open the image at path for reading and writing, or reading only, and
 * lock it against other processes: exclusively, or shared when readonly,
 * so two writers (or a writer and a reader) never share one image. Refuses
 * a missing path, a directory, an empty image and one whose size is not a
 * multiple of 512 bytes. Returns NULL with a one-line message in err (no
 * program-name prefix, no newline) on any failure.
 */
struct disk *disk_open(const char *path, bool readonly, char *err,
                       size_t errlen);

/*
 * Flush what was written (fdatasync), drop the lock and free d. Returns 0,
 * or -1 when the final flush failed (d is freed either way).
 */
int disk_close(struct disk *d);

/*
 * Read or write count sectors starting at sector. Writes go straight to the
 * file (there is no cache here), so a later disk_flush makes them durable.
 * Returns 0, or -1 on a range outside the image, an I/O error, or (write)
 * a readonly image; a failed transfer may have moved part of the data.
 */
int disk_read(struct disk *d, uint64_t sector, void *buf, unsigned count);
int disk_write(struct disk *d, uint64_t sector, const void *buf,
               unsigned count);

/* Make every completed write durable (fdatasync). Returns 0 or -1. */
int disk_flush(struct disk *d);

/* Size of the image in sectors (never 0). */
uint64_t disk_sectors(const struct disk *d);

bool disk_readonly(const struct disk *d);

/* Flushes that reached the file since disk_open (for --stats and tests). */
uint64_t disk_flushes(const struct disk *d);

#endif
