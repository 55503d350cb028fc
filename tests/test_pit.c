/* SPDX-License-Identifier: MIT */
/* Unit tests for the 8254 PIT and port 0x61, with a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/pit.h"

/* Ports, as a guest driver names them. */
#define PIT_CH0  0x40 /* counter 0: IRQ 0 */
#define PIT_CH1  0x41 /* counter 1: DRAM refresh */
#define PIT_CH2  0x42 /* counter 2: speaker, gated by port 0x61 */
#define PIT_MODE 0x43 /* control word register */
#define PORT61   0x61 /* system control port B */

/* The first nanosecond of input clock tick t (1.193182 MHz from time 0). */
static uint64_t tick_ns(uint64_t t)
{
    return (t * 1000000000ull + 1193181) / 1193182;
}

/* A fake interrupt wire that counts rising edges. */
struct fake_irq {
    int level;          /* last level driven */
    int rises;          /* 0 -> 1 transitions */
    int calls;          /* times it was driven */
    uint64_t rise_time; /* clock at the last rise */
};

static struct io_bus *bus;
static struct pit *pit;
static struct fake_irq irq0;
static uint64_t clock_ns;

static uint64_t fake_now(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void fake_set_irq(void *opaque, int irq, int level)
{
    struct fake_irq *f = opaque;

    if (level && !f->level) {
        f->rises++;
        f->rise_time = clock_ns;
    }
    f->level = level;
    f->calls++;
}

static void setup(void)
{
    clock_ns = 0;
    irq0 = (struct fake_irq){0};
    bus = bus_create("io");
    pit = pit_create(bus, (struct irq_line){fake_set_irq, &irq0, 0}, fake_now,
                     &clock_ns);
    ck_assert_ptr_nonnull(pit);
}

static void teardown(void)
{
    bus_destroy(bus);
    pit_destroy(pit);
}

static void out8(uint32_t port, uint8_t value)
{
    bus_write(bus, port, 1, value);
}

static uint8_t in8(uint32_t port)
{
    return bus_read(bus, port, 1);
}

/* Move the clock to tick t and bring IRQ 0 up to date. */
static void run_to_tick(uint64_t t)
{
    clock_ns = tick_ns(t);
    pit_update(pit);
}

/* A 16-bit count, LSB then MSB. */
static void out_count(uint32_t port, uint16_t count)
{
    out8(port, count & 0xFF);
    out8(port, count >> 8);
}

static uint16_t in_count(uint32_t port)
{
    uint16_t lsb = in8(port);

    return lsb | in8(port) << 8;
}

/* Linux's HZ=1000 timer: mode 2, LATCH = 1193. */
START_TEST(test_mode2_period_and_irq_edges)
{
    out8(PIT_MODE, 0x34); /* counter 0, LSB/MSB, mode 2, binary */
    out_count(PIT_CH0, 1193);
    ck_assert_int_eq(irq0.rises, 0);
    clock_ns = tick_ns(1193) - 1; /* 999847 ns: one tick short */
    pit_update(pit);
    ck_assert_int_eq(irq0.rises, 0);
    clock_ns = 999848; /* tick 1193 */
    pit_update(pit);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_int_eq(irq0.level, 0); /* a pulse: raised then lowered */
    run_to_tick(2 * 1193);
    ck_assert_int_eq(irq0.rises, 2);
    ck_assert_uint_eq(irq0.rise_time, 1999695);
    run_to_tick(10 * 1193); /* missed periods: one edge for the PIC */
    ck_assert_int_eq(irq0.rises, 3);
}
END_TEST

/* Periods the host slept through are kept and sent one by one. */
START_TEST(test_mode2_lost_ticks_reinjected)
{
    out8(PIT_MODE, 0x34);
    out_count(PIT_CH0, 1193);
    run_to_tick(1193);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_uint_eq(pit_lost_ticks(pit), 0);
    run_to_tick(6 * 1193 + 5); /* 5 rises, one edge for the PIC */
    ck_assert_int_eq(irq0.rises, 2);
    ck_assert_uint_eq(pit_lost_ticks(pit), 4);
    for (int i = 0; i < 4; i++)
        pit_reinject(pit);
    ck_assert_int_eq(irq0.rises, 6);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_uint_eq(pit_lost_ticks(pit), 0);
    pit_reinject(pit); /* nothing left: no edge */
    ck_assert_int_eq(irq0.rises, 6);
    run_to_tick(7 * 1193); /* the next period as usual */
    ck_assert_int_eq(irq0.rises, 7);
    ck_assert_uint_eq(pit_lost_ticks(pit), 0);
}
END_TEST

/* A second's worth at most; reprogramming drops what is left. */
START_TEST(test_lost_ticks_capped_and_dropped)
{
    out8(PIT_MODE, 0x34);
    out_count(PIT_CH0, 1193);
    run_to_tick(1193);
    run_to_tick(1193 * 5000);
    ck_assert_uint_eq(pit_lost_ticks(pit), 1193182 / 1193 + 1);
    out8(PIT_MODE, 0x34);
    out_count(PIT_CH0, 1193);
    run_to_tick(1193 * 5001);
    ck_assert_uint_eq(pit_lost_ticks(pit), 0);
}
END_TEST

START_TEST(test_mode3_out_toggles)
{
    out8(PIT_MODE, 0x36); /* counter 0, LSB/MSB, mode 3, binary */
    out_count(PIT_CH0, 100);
    ck_assert_int_eq(irq0.level, 1); /* OUT high for the first half */
    clock_ns = tick_ns(50) - 1;
    pit_update(pit);
    ck_assert_int_eq(irq0.level, 1);
    run_to_tick(50);
    ck_assert_int_eq(irq0.level, 0);
    run_to_tick(100);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 2);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(150));
    clock_ns = tick_ns(110);
    ck_assert_int_eq(in_count(PIT_CH0), 80); /* the CE counts by two */
    run_to_tick(325); /* skipped two whole cycles, now high: an edge */
    ck_assert_int_eq(irq0.rises, 3);
    ck_assert_int_eq(irq0.level, 1);
}
END_TEST

START_TEST(test_mode3_odd_count)
{
    out8(PIT_MODE, 0x36); /* counter 0, LSB/MSB, mode 3 */
    out_count(PIT_CH0, 5);
    run_to_tick(2);
    ck_assert_int_eq(irq0.level, 1); /* high for (5 + 1) / 2 = 3 */
    run_to_tick(3);
    ck_assert_int_eq(irq0.level, 0);
}
END_TEST

START_TEST(test_mode0_irq0_one_shot)
{
    out8(PIT_MODE, 0x30); /* counter 0, LSB/MSB, mode 0 */
    out_count(PIT_CH0, 500);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(500));
    run_to_tick(499);
    ck_assert_int_eq(irq0.level, 0);
    run_to_tick(500);
    ck_assert_int_eq(irq0.level, 1);
    run_to_tick(70000); /* the CE wraps, OUT stays high */
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_int_eq(pit_next_event_ns(pit), -1);
}
END_TEST

/* Linux's pit_calibrate_tsc: gate 2 on, mode 0, poll OUT2 in port 0x61. */
START_TEST(test_mode0_out2_through_port61)
{
    out8(PORT61, (in8(PORT61) & ~0x02) | 0x01); /* gate 2 on, speaker off */
    out8(PIT_MODE, 0xB0);                       /* counter 2, LSB/MSB, mode 0 */
    out_count(PIT_CH2, 1000);
    clock_ns = tick_ns(999);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0); /* OUT2 low */
    clock_ns = tick_ns(1000);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_gate2_pauses_mode0)
{
    out8(PORT61, 0x01);   /* gate 2 on */
    out8(PIT_MODE, 0xB0); /* counter 2, LSB/MSB, mode 0 */
    out_count(PIT_CH2, 1000);
    clock_ns = tick_ns(400);
    out8(PORT61, 0x00); /* gate 2 off: counting stops */
    clock_ns = tick_ns(1200);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    ck_assert_int_eq(in_count(PIT_CH2), 600);
    out8(PORT61, 0x01); /* gate 2 on again */
    clock_ns = tick_ns(1799);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(1800);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_mode1_gate_triggers)
{
    out8(PIT_MODE, 0xB2); /* counter 2, LSB/MSB, mode 1 */
    out_count(PIT_CH2, 100);
    clock_ns = tick_ns(50);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20); /* waits for a trigger */
    out8(PORT61, 0x01);                         /* gate 2 rising edge */
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(149);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(150);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_mode2_out2_low_one_clock)
{
    out8(PORT61, 0x01);   /* gate 2 on */
    out8(PIT_MODE, 0xB4); /* counter 2, LSB/MSB, mode 2 */
    out_count(PIT_CH2, 20);
    clock_ns = tick_ns(18);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
    clock_ns = tick_ns(19); /* count 1: OUT low */
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(20); /* reloaded: high again */
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
    clock_ns = tick_ns(39); /* count 1 again */
    out8(PORT61, 0x00);     /* gate off: OUT forced high */
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_mode4_strobe)
{
    out8(PIT_MODE, 0x38); /* counter 0, LSB/MSB, mode 4 */
    out_count(PIT_CH0, 300);
    run_to_tick(300);
    ck_assert_int_eq(irq0.rises, 0); /* OUT low for this one clock */
    run_to_tick(301);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_int_eq(pit_next_event_ns(pit), -1);
    out8(PORT61, 0x01);   /* gate 2 on */
    out8(PIT_MODE, 0xB8); /* counter 2, LSB/MSB, mode 4 */
    out_count(PIT_CH2, 5);
    clock_ns = tick_ns(301 + 5); /* count 0: OUT low one clock */
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(301 + 6);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_mode5_gate_strobe)
{
    out8(PIT_MODE, 0xBA); /* counter 2, LSB/MSB, mode 5 */
    out_count(PIT_CH2, 10);
    out8(PORT61, 0x01); /* gate 2 trigger */
    clock_ns = tick_ns(10);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0);
    clock_ns = tick_ns(11);
    ck_assert_int_eq(in8(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_counter_latch)
{
    out8(PIT_MODE, 0x34); /* counter 0, LSB/MSB, mode 2 */
    out_count(PIT_CH0, 1193);
    clock_ns = tick_ns(100);
    out8(PIT_MODE, 0x00); /* counter latch, counter 0 */
    clock_ns = tick_ns(300);
    out8(PIT_MODE, 0x00); /* a second latch is ignored until read */
    ck_assert_int_eq(in_count(PIT_CH0), 1093);
    ck_assert_int_eq(in_count(PIT_CH0), 893); /* live again */
}
END_TEST

START_TEST(test_read_back_status_and_count)
{
    out8(PIT_MODE, 0x34); /* counter 0, LSB/MSB, mode 2 */
    out8(PIT_MODE, 0xE2); /* read-back: status only, counter 0 */
    ck_assert_int_eq(in8(PIT_CH0), 0x80 | 0x40 | 0x34); /* NULL COUNT */
    out_count(PIT_CH0, 1000);
    clock_ns = tick_ns(10);
    out8(PIT_MODE, 0xC2); /* read-back: count and status, counter 0 */
    clock_ns = tick_ns(20);
    ck_assert_int_eq(in8(PIT_CH0), 0x80 | 0x34); /* status first */
    ck_assert_int_eq(in_count(PIT_CH0), 990);
    out8(PORT61, 0x01);   /* gate 2 on */
    out8(PIT_MODE, 0xB0); /* counter 2, mode 0: OUT low */
    out8(PIT_MODE, 0xE8); /* read-back: status, counter 2 */
    ck_assert_int_eq(in8(PIT_CH2), 0x40 | 0x30);
    out8(PIT_MODE, 0xE8); /* read-back: status, counter 2 */
    out8(PIT_MODE, 0x90); /* counter 2, LSB only: drops the latch */
    out8(PIT_CH2, 7);
    ck_assert_int_eq(in8(PIT_CH2), 7); /* the count, not the status */
}
END_TEST

START_TEST(test_lsb_only_and_msb_only)
{
    out8(PIT_MODE, 0x14); /* counter 0, LSB only, mode 2 */
    out8(PIT_CH0, 80);
    run_to_tick(80);
    ck_assert_int_eq(irq0.rises, 1);
    clock_ns = tick_ns(90);
    ck_assert_int_eq(in8(PIT_CH0), 70);
    out8(PIT_MODE, 0x24); /* counter 0, MSB only, mode 2 */
    out8(PIT_CH0, 0x02);  /* count 0x200 */
    clock_ns = tick_ns(90 + 0x100);
    ck_assert_int_eq(in8(PIT_CH0), 0x01);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(90 + 0x200));
}
END_TEST

START_TEST(test_bcd_counting)
{
    out8(PIT_MODE, 0x35);       /* counter 0, LSB/MSB, mode 2, BCD */
    out_count(PIT_CH0, 0x1000); /* 1000 decimal */
    clock_ns = tick_ns(1);
    ck_assert_int_eq(in_count(PIT_CH0), 0x0999);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(1000));
    out8(PIT_MODE, 0x35); /* again, count 0: 10000 in BCD */
    out_count(PIT_CH0, 0);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(1 + 10000));
}
END_TEST

START_TEST(test_count_zero_is_65536)
{
    out8(PIT_MODE, 0x34); /* counter 0, LSB/MSB, mode 2 */
    out_count(PIT_CH0, 0);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(65536));
    clock_ns = tick_ns(1);
    ck_assert_int_eq(in_count(PIT_CH0), 0xFFFF);
}
END_TEST

START_TEST(test_mode2_new_count_at_period_end)
{
    out8(PIT_MODE, 0x34); /* counter 0, LSB/MSB, mode 2 */
    out_count(PIT_CH0, 1000);
    clock_ns = tick_ns(400);
    out_count(PIT_CH0, 100); /* takes effect at tick 1000 */
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(1000));
    run_to_tick(1000);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(1100));
}
END_TEST

START_TEST(test_next_event_unprogrammed)
{
    ck_assert_int_eq(pit_next_event_ns(pit), -1);
    out8(PIT_MODE, 0x34); /* control word alone: no count yet */
    ck_assert_int_eq(pit_next_event_ns(pit), -1);
    out_count(PIT_CH0, 1193);
    ck_assert_int_eq(pit_next_event_ns(pit), tick_ns(1193));
}
END_TEST

START_TEST(test_port61_bits)
{
    out8(PORT61, 0x0E); /* speaker data and the check enables */
    clock_ns = 0;
    ck_assert_int_eq(in8(PORT61), 0x0E | 0x20); /* OUT2 high at reset */
    clock_ns = 15085; /* the refresh toggle flips every 15.085 us */
    ck_assert_int_eq(in8(PORT61) & 0x10, 0x10);
    clock_ns = 2 * 15085;
    ck_assert_int_eq(in8(PORT61) & 0x10, 0);
}
END_TEST

START_TEST(test_reset_and_bus_refusal)
{
    out8(PIT_MODE, 0x34); /* counter 0, mode 2 */
    out_count(PIT_CH0, 100);
    pit_reset(pit);
    ck_assert_int_eq(pit_next_event_ns(pit), -1);
    ck_assert_ptr_null(
        pit_create(bus, (struct irq_line){0}, fake_now, &clock_ns));
}
END_TEST

static TCase *pit_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *pit_suite(void)
{
    Suite *s = suite_create("pit");
    TCase *modes = pit_tcase("modes");
    TCase *access = pit_tcase("access");

    tcase_add_test(modes, test_mode2_period_and_irq_edges);
    tcase_add_test(modes, test_mode2_lost_ticks_reinjected);
    tcase_add_test(modes, test_lost_ticks_capped_and_dropped);
    tcase_add_test(modes, test_mode3_out_toggles);
    tcase_add_test(modes, test_mode3_odd_count);
    tcase_add_test(modes, test_mode0_irq0_one_shot);
    tcase_add_test(modes, test_mode0_out2_through_port61);
    tcase_add_test(modes, test_gate2_pauses_mode0);
    tcase_add_test(modes, test_mode1_gate_triggers);
    tcase_add_test(modes, test_mode2_out2_low_one_clock);
    tcase_add_test(modes, test_mode4_strobe);
    tcase_add_test(modes, test_mode5_gate_strobe);
    tcase_add_test(modes, test_mode2_new_count_at_period_end);
    suite_add_tcase(s, modes);

    tcase_add_test(access, test_counter_latch);
    tcase_add_test(access, test_read_back_status_and_count);
    tcase_add_test(access, test_lsb_only_and_msb_only);
    tcase_add_test(access, test_bcd_counting);
    tcase_add_test(access, test_count_zero_is_65536);
    tcase_add_test(access, test_next_event_unprogrammed);
    tcase_add_test(access, test_port61_bits);
    tcase_add_test(access, test_reset_and_bus_refusal);
    suite_add_tcase(s, access);
    return s;
}

int main(void)
{
    return check_run(pit_suite());
}
