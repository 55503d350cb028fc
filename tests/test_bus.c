/* SPDX-License-Identifier: MIT */
/* Unit tests for the I/O bus: claiming ranges, dispatch, open-bus reads. */
#include <check.h>
#include <stdlib.h>

#include "devices/bus.h"

#define LOG_MAX 16

/* One access a fake device saw. */
struct access {
    int write;       /* 1 for a write */
    uint32_t offset; /* offset the bus passed */
    unsigned size;   /* access size */
    uint32_t value;  /* value written, or returned */
};

/* A fake device that logs its accesses and reads back 0xA0 + offset bytes. */
struct fake {
    struct access log[LOG_MAX];
    int n;
};

static uint32_t fake_read(void *opaque, uint32_t offset, unsigned size)
{
    struct fake *f = opaque;
    uint32_t value = 0;

    for (unsigned i = 0; i < size; i++)
        value |= (0xA0 + offset + i) << (8 * i);
    if (f->n < LOG_MAX)
        f->log[f->n++] = (struct access){0, offset, size, value};
    return value;
}

static void fake_write(void *opaque, uint32_t offset, unsigned size,
                       uint32_t value)
{
    struct fake *f = opaque;

    if (f->n < LOG_MAX)
        f->log[f->n++] = (struct access){1, offset, size, value};
}

static const struct io_ops fake_ops = {fake_read, fake_write};

/* A device whose read returns more bits than the access size asked for. */
static uint32_t wide_read(void *opaque, uint32_t offset, unsigned size)
{
    return 0x12345678;
}

static const struct io_ops wide_ops = {wide_read, fake_write};

static struct io_bus *bus;
static struct fake dev_a, dev_b;

static void setup(void)
{
    bus = bus_create("io");
    dev_a = (struct fake){0};
    dev_b = (struct fake){0};
}

static void teardown(void)
{
    bus_destroy(bus);
}

START_TEST(test_adjacent_ranges_accepted)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 8, &fake_ops, &dev_a, "a"), 0);
    ck_assert_int_eq(bus_register(bus, 0x18, 8, &fake_ops, &dev_b, "b"), 0);
    ck_assert_int_eq(bus_register(bus, 0x08, 8, &fake_ops, &dev_b, "c"), 0);
    ck_assert_int_eq(bus_register(bus, 0x0, 1, &fake_ops, &dev_b, "d"), 0);
}
END_TEST

START_TEST(test_overlapping_ranges_rejected)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 8, &fake_ops, &dev_a, "a"), 0);
    /* identical, over the start, over the end, inside, around */
    ck_assert_int_eq(bus_register(bus, 0x10, 8, &fake_ops, &dev_b, "b"), -1);
    ck_assert_int_eq(bus_register(bus, 0x0C, 5, &fake_ops, &dev_b, "b"), -1);
    ck_assert_int_eq(bus_register(bus, 0x17, 4, &fake_ops, &dev_b, "b"), -1);
    ck_assert_int_eq(bus_register(bus, 0x12, 1, &fake_ops, &dev_b, "b"), -1);
    ck_assert_int_eq(bus_register(bus, 0x00, 0x100, &fake_ops, &dev_b, "b"),
                     -1);
}
END_TEST

START_TEST(test_rejected_range_registers_nothing)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 8, &fake_ops, &dev_a, "a"), 0);
    ck_assert_int_eq(bus_register(bus, 0x0C, 8, &fake_ops, &dev_b, "b"), -1);
    /* 0x0C..0x0F are still unclaimed, 0x10 still belongs to a */
    ck_assert_uint_eq(bus_read(bus, 0x0C, 1), 0xFF);
    ck_assert_uint_eq(bus_read(bus, 0x10, 1), 0xA0);
    ck_assert_int_eq(dev_b.n, 0);
    ck_assert_int_eq(dev_a.n, 1);
}
END_TEST

START_TEST(test_empty_range_rejected)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 0, &fake_ops, &dev_a, "a"), -1);
}
END_TEST

START_TEST(test_range_past_address_space_rejected)
{
    ck_assert_int_eq(bus_register(bus, 0xFFFFFFFF, 2, &fake_ops, &dev_a, "a"),
                     -1);
    ck_assert_int_eq(bus_register(bus, 0xFFFFFFFF, 1, &fake_ops, &dev_a, "a"),
                     0);
}
END_TEST

START_TEST(test_unclaimed_read_all_ones)
{
    ck_assert_uint_eq(bus_read(bus, 0x300, 1), 0xFF);
    ck_assert_uint_eq(bus_read(bus, 0x300, 2), 0xFFFF);
    ck_assert_uint_eq(bus_read(bus, 0x300, 4), 0xFFFFFFFF);
    ck_assert_uint_eq(bus_unclaimed(bus), 3);
}
END_TEST

START_TEST(test_unclaimed_write_dropped_and_counted)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 4, &fake_ops, &dev_a, "a"), 0);
    bus_write(bus, 0x20, 1, 0x11);
    bus_write(bus, 0x20, 2, 0x1122);
    bus_write(bus, 0x20, 4, 0x11223344);
    ck_assert_uint_eq(bus_unclaimed(bus), 3);
    ck_assert_int_eq(dev_a.n, 0);
}
END_TEST

START_TEST(test_offsets_relative_to_base)
{
    ck_assert_int_eq(bus_register(bus, 0x3F8, 8, &fake_ops, &dev_a, "a"), 0);
    bus_write(bus, 0x3FB, 1, 0x83);
    ck_assert_uint_eq(bus_read(bus, 0x3FD, 2), 0xA6A5);
    ck_assert_int_eq(dev_a.n, 2);
    ck_assert_int_eq(dev_a.log[0].write, 1);
    ck_assert_uint_eq(dev_a.log[0].offset, 3);
    ck_assert_uint_eq(dev_a.log[0].size, 1);
    ck_assert_uint_eq(dev_a.log[0].value, 0x83);
    ck_assert_uint_eq(dev_a.log[1].offset, 5);
    ck_assert_uint_eq(dev_a.log[1].size, 2);
    ck_assert_uint_eq(bus_unclaimed(bus), 0);
}
END_TEST

START_TEST(test_whole_access_not_split)
{
    ck_assert_int_eq(bus_register(bus, 0x100, 4, &fake_ops, &dev_a, "a"), 0);
    ck_assert_uint_eq(bus_read(bus, 0x100, 4), 0xA3A2A1A0);
    bus_write(bus, 0x100, 4, 0xDEADBEEF);
    ck_assert_int_eq(dev_a.n, 2);
    ck_assert_uint_eq(dev_a.log[0].size, 4);
    ck_assert_uint_eq(dev_a.log[1].size, 4);
    ck_assert_uint_eq(dev_a.log[1].value, 0xDEADBEEF);
}
END_TEST

START_TEST(test_straddling_read_split_into_bytes)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 4, &fake_ops, &dev_a, "a"), 0);
    /* bytes 0x12 0x13 from the device, 0x14 0x15 float high */
    ck_assert_uint_eq(bus_read(bus, 0x12, 4), 0xFFFFA3A2);
    ck_assert_int_eq(dev_a.n, 2);
    ck_assert_uint_eq(dev_a.log[0].offset, 2);
    ck_assert_uint_eq(dev_a.log[0].size, 1);
    ck_assert_uint_eq(dev_a.log[1].offset, 3);
    ck_assert_uint_eq(dev_a.log[1].size, 1);
    ck_assert_uint_eq(bus_unclaimed(bus), 2);
}
END_TEST

START_TEST(test_straddling_write_split_into_bytes)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 4, &fake_ops, &dev_a, "a"), 0);
    bus_write(bus, 0x13, 2, 0xBBAA);
    ck_assert_int_eq(dev_a.n, 1);
    ck_assert_uint_eq(dev_a.log[0].offset, 3);
    ck_assert_uint_eq(dev_a.log[0].size, 1);
    ck_assert_uint_eq(dev_a.log[0].value, 0xAA);
    ck_assert_uint_eq(bus_unclaimed(bus), 1);
}
END_TEST

START_TEST(test_access_across_two_devices)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 2, &fake_ops, &dev_a, "a"), 0);
    ck_assert_int_eq(bus_register(bus, 0x12, 2, &fake_ops, &dev_b, "b"), 0);
    bus_write(bus, 0x11, 2, 0x2211);
    ck_assert_int_eq(dev_a.n, 1);
    ck_assert_uint_eq(dev_a.log[0].offset, 1);
    ck_assert_uint_eq(dev_a.log[0].value, 0x11);
    ck_assert_int_eq(dev_b.n, 1);
    ck_assert_uint_eq(dev_b.log[0].offset, 0);
    ck_assert_uint_eq(dev_b.log[0].value, 0x22);
    ck_assert_uint_eq(bus_read(bus, 0x11, 2), 0xA0A1);
    ck_assert_uint_eq(bus_unclaimed(bus), 0);
}
END_TEST

START_TEST(test_access_into_device_start_split)
{
    ck_assert_int_eq(bus_register(bus, 0x10, 4, &fake_ops, &dev_a, "a"), 0);
    ck_assert_uint_eq(bus_read(bus, 0x0F, 2), 0xA0FF);
    ck_assert_int_eq(dev_a.n, 1);
    ck_assert_uint_eq(dev_a.log[0].offset, 0);
    ck_assert_uint_eq(dev_a.log[0].size, 1);
}
END_TEST

START_TEST(test_read_masked_to_size)
{
    ck_assert_int_eq(bus_register(bus, 0x60, 4, &wide_ops, &dev_a, "w"), 0);
    ck_assert_uint_eq(bus_read(bus, 0x60, 1), 0x78);
    ck_assert_uint_eq(bus_read(bus, 0x60, 2), 0x5678);
}
END_TEST

START_TEST(test_many_ranges_lookup)
{
    static struct fake devs[40];

    /* registered out of order, every other 4-port block */
    for (int i = 39; i >= 0; i--)
        ck_assert_int_eq(bus_register(bus, 8 * i, 4, &fake_ops, &devs[i], "d"),
                         0);
    for (int i = 0; i < 40; i++) {
        ck_assert_uint_eq(bus_read(bus, 8 * i + 1, 1), 0xA1);
        ck_assert_uint_eq(bus_read(bus, 8 * i + 5, 1), 0xFF);
        ck_assert_int_eq(devs[i].n, 1);
    }
}
END_TEST

static Suite *bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *reg = tcase_create("register");
    TCase *io = tcase_create("access");

    tcase_add_checked_fixture(reg, setup, teardown);
    tcase_add_test(reg, test_adjacent_ranges_accepted);
    tcase_add_test(reg, test_overlapping_ranges_rejected);
    tcase_add_test(reg, test_rejected_range_registers_nothing);
    tcase_add_test(reg, test_empty_range_rejected);
    tcase_add_test(reg, test_range_past_address_space_rejected);
    suite_add_tcase(s, reg);

    tcase_add_checked_fixture(io, setup, teardown);
    tcase_add_test(io, test_unclaimed_read_all_ones);
    tcase_add_test(io, test_unclaimed_write_dropped_and_counted);
    tcase_add_test(io, test_offsets_relative_to_base);
    tcase_add_test(io, test_whole_access_not_split);
    tcase_add_test(io, test_straddling_read_split_into_bytes);
    tcase_add_test(io, test_straddling_write_split_into_bytes);
    tcase_add_test(io, test_access_across_two_devices);
    tcase_add_test(io, test_access_into_device_start_split);
    tcase_add_test(io, test_read_masked_to_size);
    tcase_add_test(io, test_many_ranges_lookup);
    suite_add_tcase(s, io);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bus_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
