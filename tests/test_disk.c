/* SPDX-License-Identifier: MIT */
/* Unit tests for raw disk images: checks on open, locking, I/O, flush. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "devices/disk.h"

#define SECTOR 512

static char path[4096]; /* this test's image */
static char err[256];   /* the last message from disk_open */

/* A temporary file of size bytes, sector n filled with the byte n + 1. */
static void make_image(off_t size)
{
    const char *tmp = getenv("TMPDIR");
    uint8_t sector[SECTOR];
    int fd;

    snprintf(path, sizeof(path), "%s/bt386-disk-XXXXXX", tmp ? tmp : P_tmpdir);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (off_t off = 0; off + SECTOR <= size; off += SECTOR) {
        memset(sector, (int)(off / SECTOR + 1), SECTOR);
        ck_assert_int_eq(pwrite(fd, sector, SECTOR, off), SECTOR);
    }
    ck_assert_int_eq(ftruncate(fd, size), 0);
    close(fd);
}

static void teardown(void)
{
    if (path[0])
        unlink(path);
    path[0] = 0;
}

/* The byte at offset off of the image, read behind the disk's back. */
static int file_byte(off_t off)
{
    uint8_t b;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &b, 1, off), 1);
    close(fd);
    return b;
}

START_TEST(test_open_read_write)
{
    uint8_t buf[2 * SECTOR];
    struct disk *d;

    make_image(8 * SECTOR);
    d = disk_open(path, false, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(disk_sectors(d), 8);
    ck_assert(!disk_readonly(d));
    ck_assert_int_eq(disk_read(d, 3, buf, 2), 0);
    ck_assert_int_eq(buf[0], 4);
    ck_assert_int_eq(buf[SECTOR], 5);
    memset(buf, 0xAB, sizeof(buf));
    ck_assert_int_eq(disk_write(d, 6, buf, 2), 0);
    ck_assert_int_eq(file_byte(6 * SECTOR), 0xAB); /* no cache in between */
    ck_assert_int_eq(file_byte(8 * SECTOR - 1), 0xAB);
    ck_assert_int_eq(file_byte(6 * SECTOR - 1), 6);
    ck_assert_int_eq(disk_close(d), 0);
}
END_TEST

START_TEST(test_range_checked)
{
    uint8_t buf[2 * SECTOR];
    struct disk *d;

    make_image(8 * SECTOR);
    d = disk_open(path, false, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(disk_read(d, 7, buf, 2), -1); /* runs past the end */
    ck_assert_int_eq(disk_read(d, 8, buf, 1), -1);
    ck_assert_int_eq(disk_write(d, UINT64_MAX, buf, 2), -1); /* wraps */
    ck_assert_int_eq(disk_read(d, 7, buf, 1), 0);
    disk_close(d);
}
END_TEST

START_TEST(test_readonly_honoured)
{
    uint8_t buf[SECTOR] = {0};
    struct disk *d;

    make_image(4 * SECTOR);
    d = disk_open(path, true, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert(disk_readonly(d));
    ck_assert_int_eq(disk_write(d, 1, buf, 1), -1);
    ck_assert_int_eq(file_byte(SECTOR), 2); /* untouched */
    ck_assert_int_eq(disk_read(d, 1, buf, 1), 0);
    ck_assert_int_eq(buf[0], 2);
    ck_assert_int_eq(disk_flush(d), 0);
    disk_close(d);
}
END_TEST

START_TEST(test_flush_counts)
{
    uint8_t buf[SECTOR] = {0x5A};
    struct disk *d;

    make_image(4 * SECTOR);
    d = disk_open(path, false, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(disk_flushes(d), 0);
    ck_assert_int_eq(disk_write(d, 0, buf, 1), 0);
    ck_assert_int_eq(disk_flush(d), 0);
    ck_assert_uint_eq(disk_flushes(d), 1);
    ck_assert_int_eq(file_byte(0), 0x5A);
    disk_close(d);
}
END_TEST

/* A message from disk_open: one line, naming the file, no prefix. */
static void assert_refused(bool readonly, const char *what)
{
    err[0] = 0;
    ck_assert_ptr_null(disk_open(path, readonly, err, sizeof(err)));
    ck_assert_msg(strstr(err, what), "message \"%s\"", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
}

START_TEST(test_refuses_missing_and_directory)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(path, sizeof(path), "%s/bt386-no-such-image.img",
             tmp ? tmp : P_tmpdir);
    assert_refused(false, "No such file");
    snprintf(path, sizeof(path), "%s", tmp ? tmp : P_tmpdir);
    assert_refused(true, "is a directory");
    assert_refused(false, "directory");
    path[0] = 0;
}
END_TEST

START_TEST(test_refuses_empty_and_odd_size)
{
    make_image(0);
    assert_refused(false, "empty");
    teardown();
    make_image(2 * SECTOR + 100);
    assert_refused(false, "not a multiple of 512");
    assert_refused(true, "not a multiple of 512");
}
END_TEST

/* A second open file description conflicts even in the same process. */
START_TEST(test_lock_refuses_second_writer)
{
    struct disk *d, *ro;

    make_image(4 * SECTOR);
    d = disk_open(path, false, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    assert_refused(false, "in use by another process (locked)");
    assert_refused(true, "in use by another process (locked)");
    disk_close(d);
    ro = disk_open(path, true, err, sizeof(err));
    ck_assert_ptr_nonnull(ro); /* the lock went with the close */
    disk_close(ro);
}
END_TEST

START_TEST(test_lock_shared_between_readers)
{
    struct disk *a, *b;

    make_image(4 * SECTOR);
    a = disk_open(path, true, err, sizeof(err));
    b = disk_open(path, true, err, sizeof(err));
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    assert_refused(false, "locked"); /* no writer while they read */
    disk_close(a);
    disk_close(b);
}
END_TEST

/* Another process: the child's open must fail while the parent holds it. */
START_TEST(test_lock_across_processes)
{
    struct disk *d;
    pid_t pid;
    int status;

    make_image(4 * SECTOR);
    d = disk_open(path, false, err, sizeof(err));
    ck_assert_ptr_nonnull(d);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char msg[256];
        struct disk *c = disk_open(path, false, msg, sizeof(msg));

        _exit(!c && strstr(msg, "locked") ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    disk_close(d);
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("disk");
    TCase *io = tcase_create("io");
    TCase *open = tcase_create("open");

    tcase_add_checked_fixture(io, NULL, teardown);
    tcase_add_checked_fixture(open, NULL, teardown);
    tcase_add_test(io, test_open_read_write);
    tcase_add_test(io, test_range_checked);
    tcase_add_test(io, test_readonly_honoured);
    tcase_add_test(io, test_flush_counts);
    tcase_add_test(open, test_refuses_missing_and_directory);
    tcase_add_test(open, test_refuses_empty_and_odd_size);
    tcase_add_test(open, test_lock_refuses_second_writer);
    tcase_add_test(open, test_lock_shared_between_readers);
    tcase_add_test(open, test_lock_across_processes);
    suite_add_tcase(s, io);
    suite_add_tcase(s, open);
    return s;
}

int main(void)
{
    return check_run(disk_suite());
}
