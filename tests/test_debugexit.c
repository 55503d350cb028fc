/* SPDX-License-Identifier: MIT */
/* Unit tests for the diagnostic ports: isa-debug-exit and POST port 0x80. */
#include <check.h>
#include <stdlib.h>

#include "devices/bus.h"
#include "devices/debugexit.h"
#include "devices/post.h"

/* What the fake board saw of exit requests. */
struct exits {
    int count;  /* requests made */
    int status; /* status of the last one */
};

static void record_exit(void *ctx, int status)
{
    struct exits *e = ctx;

    e->count++;
    e->status = status;
}

static struct io_bus *bus;
static struct exits exits;
static struct debugexit *dx;

static void setup(void)
{
    bus = bus_create("io");
    exits = (struct exits){0};
    /* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
    dx = debugexit_create(bus, 0xF4, 4, record_exit, &exits);
    ck_assert_ptr_nonnull(dx);
}

static void teardown(void)
{
    bus_destroy(bus);
    debugexit_destroy(dx);
}

START_TEST(test_byte_write_status)
{
    bus_write(bus, 0xF4, 1, 0x10); /* outb %al, $0xf4 with al = 0x10 */
    ck_assert_int_eq(exits.count, 1);
    ck_assert_int_eq(exits.status, 0x21);
    ck_assert_int_eq(exits.status & 0xFF, 33); /* what the shell sees */
}
END_TEST

START_TEST(test_word_write_status)
{
    bus_write(bus, 0xF4, 2, 0x1234);
    ck_assert_int_eq(exits.count, 1);
    ck_assert_int_eq(exits.status, 0x2469);
}
END_TEST

START_TEST(test_dword_write_status)
{
    bus_write(bus, 0xF4, 4, 0x12345678);
    ck_assert_int_eq(exits.count, 1);
    ck_assert_int_eq(exits.status, 0x2468ACF1);
}
END_TEST

START_TEST(test_zero_gives_status_one)
{
    bus_write(bus, 0xF4, 1, 0);
    ck_assert_int_eq(exits.status, 1);
}
END_TEST

START_TEST(test_any_offset)
{
    bus_write(bus, 0xF7, 1, 0x01);
    ck_assert_int_eq(exits.count, 1);
    ck_assert_int_eq(exits.status, 0x03);
}
END_TEST

START_TEST(test_read_returns_zero)
{
    ck_assert_uint_eq(bus_read(bus, 0xF4, 1), 0);
    ck_assert_uint_eq(bus_read(bus, 0xF4, 4), 0);
    ck_assert_int_eq(exits.count, 0);
}
END_TEST

START_TEST(test_bus_refuses_overlapping_instance)
{
    ck_assert_ptr_null(debugexit_create(bus, 0xF6, 2, record_exit, &exits));
    ck_assert_ptr_null(debugexit_create(bus, 0xF0, 8, record_exit, &exits));
    ck_assert_ptr_null(debugexit_create(bus, 0x501, 0, record_exit, &exits));
}
END_TEST

START_TEST(test_adjacent_instance_accepted)
{
    struct debugexit *d2 = debugexit_create(bus, 0x501, 2, record_exit, &exits);

    ck_assert_ptr_nonnull(d2);
    bus_write(bus, 0x502, 1, 0x02);
    ck_assert_int_eq(exits.status, 0x05);
    debugexit_destroy(d2);
}
END_TEST

START_TEST(test_post_last_value_readback)
{
    struct post *p = post_create(bus, 0x80);

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(post_last(p), 0);
    bus_write(bus, 0x80, 1, 0x55);
    ck_assert_uint_eq(post_last(p), 0x55);
    ck_assert_uint_eq(bus_read(bus, 0x80, 1), 0x55);
    bus_write(bus, 0x80, 1, 0xAA);
    ck_assert_uint_eq(bus_read(bus, 0x80, 1), 0xAA);
    ck_assert_uint_eq(bus_unclaimed(bus), 0); /* accepted silently */
    post_destroy(p);
}
END_TEST

START_TEST(test_post_wide_write_keeps_low_byte)
{
    struct post *p = post_create(bus, 0x80);

    ck_assert_ptr_nonnull(p);
    bus_write(bus, 0x80, 2, 0x1234); /* 0x81 is not ours */
    ck_assert_uint_eq(post_last(p), 0x34);
    post_destroy(p);
}
END_TEST

START_TEST(test_post_bus_refuses_second_instance)
{
    struct post *p = post_create(bus, 0x80);

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(post_create(bus, 0x80));
    post_destroy(p);
}
END_TEST

static Suite *diag_suite(void)
{
    Suite *s = suite_create("diagnostic ports");
    TCase *dexit = tcase_create("debugexit");
    TCase *post = tcase_create("post");

    tcase_add_checked_fixture(dexit, setup, teardown);
    tcase_add_test(dexit, test_byte_write_status);
    tcase_add_test(dexit, test_word_write_status);
    tcase_add_test(dexit, test_dword_write_status);
    tcase_add_test(dexit, test_zero_gives_status_one);
    tcase_add_test(dexit, test_any_offset);
    tcase_add_test(dexit, test_read_returns_zero);
    tcase_add_test(dexit, test_bus_refuses_overlapping_instance);
    tcase_add_test(dexit, test_adjacent_instance_accepted);
    suite_add_tcase(s, dexit);

    tcase_add_checked_fixture(post, setup, teardown);
    tcase_add_test(post, test_post_last_value_readback);
    tcase_add_test(post, test_post_wide_write_keeps_low_byte);
    tcase_add_test(post, test_post_bus_refuses_second_instance);
    suite_add_tcase(s, post);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(diag_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
