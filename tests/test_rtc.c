/* SPDX-License-Identifier: MIT */
/* Unit tests for the MC146818A RTC and CMOS RAM, with a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/rtc.h"

/* Ports and registers, as a guest driver names them. */
#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71
#define NMI_DISABLE    0x80 /* port 0x70 bit 7 */
#define RTC_SECONDS    0x00
#define RTC_SEC_ALARM  0x01
#define RTC_MINUTES    0x02
#define RTC_MIN_ALARM  0x03
#define RTC_HOURS      0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_WDAY       0x06
#define RTC_MDAY       0x07
#define RTC_MONTH      0x08
#define RTC_YEAR       0x09
#define RTC_A          0x0A
#define RTC_B          0x0B
#define RTC_C          0x0C
#define RTC_D          0x0D
#define RTC_CENTURY    0x32

/* Register bits */
#define UIP       0x80 /* A */
#define DIV_RESET 0x70 /* A: DV = 111, as Linux's RTC_DIV_RESET2 */
#define SET       0x80 /* B */
#define PIE       0x40
#define AIE       0x20
#define UIE       0x10
#define DM_BINARY 0x04
#define HOUR_24   0x02
#define IRQF      0x80 /* C */
#define PF        0x40
#define AF        0x20
#define UF        0x10
#define PM        0x80 /* 12-hour mode hours */

#define NS  1000000000ull
#define MS  1000000ull
#define KIB 1024ull
#define MIB (1024 * KIB)

/* 2024-02-29 23:59:58 UTC, a Thursday: a leap day, a second before a
 * month, two before midnight. */
#define WALL_START 1709251198

/* A fake interrupt wire that counts rising edges. */
struct fake_irq {
    int level; /* last level driven */
    int rises; /* 0 -> 1 transitions */
};

static struct io_bus *bus;
static struct rtc *rtc;
static struct fake_irq irq8;
static uint64_t clock_ns;

static uint64_t fake_now(void *opaque)
{
    return *(uint64_t *)opaque;
}

static int64_t fake_wall(void *opaque)
{
    return WALL_START;
}

static void fake_set_irq(void *opaque, int irq, int level)
{
    struct fake_irq *f = opaque;

    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static void setup(void)
{
    clock_ns = 0;
    irq8 = (struct fake_irq){0};
    bus = bus_create("io");
    rtc = rtc_create(bus, (struct irq_line){fake_set_irq, &irq8, 8}, fake_now,
                     fake_wall, &clock_ns);
    ck_assert_ptr_nonnull(rtc);
}

static void teardown(void)
{
    bus_destroy(bus);
    rtc_destroy(rtc);
}

/* CMOS_READ / CMOS_WRITE, as Linux does them: index, then data. */
static uint8_t cmos_read(uint8_t index)
{
    bus_write(bus, RTC_PORT_INDEX, 1, index);
    return bus_read(bus, RTC_PORT_DATA, 1);
}

static void cmos_write(uint8_t index, uint8_t value)
{
    bus_write(bus, RTC_PORT_INDEX, 1, index);
    bus_write(bus, RTC_PORT_DATA, 1, value);
}

/* Move the clock to t and bring IRQ 8 up to date. */
static void run_to(uint64_t t)
{
    clock_ns = t;
    rtc_update(rtc);
}

/* The calendar registers, in the order of the datasheet's address map. */
struct rtc_reading {
    uint8_t sec, min, hour, wday, mday, month, year, century;
};

static struct rtc_reading read_clock(void)
{
    return (struct rtc_reading){
        cmos_read(RTC_SECONDS), cmos_read(RTC_MINUTES), cmos_read(RTC_HOURS),
        cmos_read(RTC_WDAY),    cmos_read(RTC_MDAY),    cmos_read(RTC_MONTH),
        cmos_read(RTC_YEAR),    cmos_read(RTC_CENTURY),
    };
}

static void assert_clock(struct rtc_reading r, uint8_t sec, uint8_t min,
                         uint8_t hour, uint8_t wday, uint8_t mday,
                         uint8_t month, uint8_t year, uint8_t century)
{
    ck_assert_uint_eq(r.sec, sec);
    ck_assert_uint_eq(r.min, min);
    ck_assert_uint_eq(r.hour, hour);
    ck_assert_uint_eq(r.wday, wday);
    ck_assert_uint_eq(r.mday, mday);
    ck_assert_uint_eq(r.month, month);
    ck_assert_uint_eq(r.year, year);
    ck_assert_uint_eq(r.century, century);
}

/*
 * Linux's mc146818_get_time: read the seconds, give up the lock and
 * mdelay(1) while UIP is set, read the rest, and start again if UIP rose
 * or the seconds moved meanwhile. Returns the passes it took.
 */
static int linux_get_time(struct rtc_reading *r)
{
    for (int pass = 1; pass < 1000; pass++) {
        uint8_t sec = cmos_read(RTC_SECONDS);

        if (cmos_read(RTC_A) & UIP) {
            clock_ns += MS;
            continue;
        }
        if (sec != cmos_read(RTC_SECONDS))
            continue;
        *r = read_clock();
        if (!(cmos_read(RTC_A) & UIP) && sec == cmos_read(RTC_SECONDS))
            return pass;
    }
    return -1;
}

START_TEST(test_bcd_clock_from_wall_time)
{
    assert_clock(read_clock(), 0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    clock_ns = 2 * NS; /* midnight: leap day to March 1st, a Friday */
    assert_clock(read_clock(), 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20);
    clock_ns = 2 * NS + 3661 * NS;
    assert_clock(read_clock(), 0x01, 0x01, 0x01, 6, 0x01, 0x03, 0x24, 0x20);
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26); /* as a BIOS leaves them */
    ck_assert_uint_eq(cmos_read(RTC_B), HOUR_24);
}
END_TEST

START_TEST(test_binary_mode)
{
    cmos_write(RTC_B, HOUR_24 | DM_BINARY);
    assert_clock(read_clock(), 58, 59, 23, 5, 29, 2, 24, 20);
    clock_ns = 2 * NS;
    assert_clock(read_clock(), 0, 0, 0, 6, 1, 3, 24, 20);
}
END_TEST

START_TEST(test_12_hour_mode)
{
    cmos_write(RTC_B, 0);                               /* BCD, 12-hour */
    ck_assert_uint_eq(cmos_read(RTC_HOURS), PM | 0x11); /* 11 PM */
    clock_ns = 2 * NS;
    ck_assert_uint_eq(cmos_read(RTC_HOURS), 0x12); /* 12 AM */
    clock_ns = 2 * NS + 12 * 3600 * NS;
    ck_assert_uint_eq(cmos_read(RTC_HOURS), PM | 0x12); /* 12 PM */
    clock_ns = 2 * NS + 13 * 3600 * NS;
    ck_assert_uint_eq(cmos_read(RTC_HOURS), PM | 0x01);
    cmos_write(RTC_B, DM_BINARY); /* binary, 12-hour */
    ck_assert_uint_eq(cmos_read(RTC_HOURS), PM | 1);
    clock_ns = 2 * NS + 10 * 3600 * NS;
    ck_assert_uint_eq(cmos_read(RTC_HOURS), 10);
    cmos_write(RTC_HOURS, PM | 11); /* 23:00 written in 12-hour mode */
    cmos_write(RTC_B, DM_BINARY | HOUR_24);
    ck_assert_uint_eq(cmos_read(RTC_HOURS), 23);
}
END_TEST

START_TEST(test_uip_before_each_update)
{
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
    clock_ns = 999755859; /* 244.141 us before the second: not yet */
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
    clock_ns = 999755860;
    ck_assert_uint_eq(cmos_read(RTC_A), UIP | 0x26);
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x58); /* the old second */
    clock_ns = NS - 1;
    ck_assert_uint_eq(cmos_read(RTC_A), UIP | 0x26);
    clock_ns = NS; /* the update: UIP falls as the new second shows */
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x59);
    clock_ns = 2 * NS - 200000;
    ck_assert_uint_eq(cmos_read(RTC_A), UIP | 0x26);
}
END_TEST

START_TEST(test_linux_get_time_waits_out_uip)
{
    struct rtc_reading r;

    clock_ns = NS - 100000; /* inside the UIP window */
    ck_assert_int_eq(linux_get_time(&r), 2);
    assert_clock(r, 0x59, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    clock_ns = NS + NS / 2; /* well clear of it: one pass */
    ck_assert_int_eq(linux_get_time(&r), 1);
    ck_assert_uint_eq(cmos_read(RTC_D), 0x80); /* VRT; bit 6 must be 0 */
}
END_TEST

START_TEST(test_set_freezes_the_clock)
{
    cmos_write(RTC_B, HOUR_24 | UIE);
    clock_ns = NS / 4;
    cmos_write(RTC_B, SET | HOUR_24 | UIE);
    ck_assert_uint_eq(cmos_read(RTC_B), SET | HOUR_24); /* SET clears UIE */
    clock_ns = 5 * NS - 1000;                           /* where UIP would be */
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x58);
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
    cmos_write(RTC_SECONDS, 0x00); /* 2030-06-15 12:00:00, a Saturday */
    cmos_write(RTC_MINUTES, 0x00);
    cmos_write(RTC_HOURS, 0x12);
    cmos_write(RTC_WDAY, 7);
    cmos_write(RTC_MDAY, 0x15);
    cmos_write(RTC_MONTH, 0x06);
    cmos_write(RTC_YEAR, 0x30);
    clock_ns = 8 * NS + NS / 4;
    assert_clock(read_clock(), 0x00, 0x00, 0x12, 7, 0x15, 0x06, 0x30, 0x20);
    cmos_write(RTC_B, HOUR_24); /* runs on, on the divider's phase */
    clock_ns = 9 * NS - 1;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x00);
    clock_ns = 9 * NS;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x01);
    clock_ns = 9 * NS + 3600 * 12 * NS;
    assert_clock(read_clock(), 0x01, 0x00, 0x00, 1, 0x16, 0x06, 0x30, 0x20);
}
END_TEST

START_TEST(test_divider_reset_restarts_half_a_second_later)
{
    cmos_write(RTC_B, HOUR_24 | PIE);
    clock_ns = 300 * MS;
    cmos_write(RTC_A, DIV_RESET | 0x06);
    ck_assert_uint_eq(cmos_read(RTC_C) & PF, PF); /* taps before the stop */
    clock_ns = 5 * NS;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x58);
    ck_assert_uint_eq(cmos_read(RTC_C), 0); /* no periodic taps either */
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
    cmos_write(RTC_A, 0x26);
    clock_ns = 5 * NS + NS / 2 - 1;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x58);
    clock_ns = 5 * NS + NS / 2;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x59);
    clock_ns = 6 * NS + NS / 2;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x00);
}
END_TEST

/* Linux's mc146818_set_time: SET and divider reset around the writes. */
START_TEST(test_linux_set_time_sequence)
{
    uint8_t save_control, save_freq_select;

    clock_ns = 700 * MS;
    save_control = cmos_read(RTC_B);
    cmos_write(RTC_B, save_control | SET);
    save_freq_select = cmos_read(RTC_A);
    cmos_write(RTC_A, save_freq_select | DIV_RESET);
    cmos_write(RTC_YEAR, 0x25); /* 2025-01-02 03:04:05 */
    cmos_write(RTC_MONTH, 0x01);
    cmos_write(RTC_MDAY, 0x02);
    cmos_write(RTC_HOURS, 0x03);
    cmos_write(RTC_MINUTES, 0x04);
    cmos_write(RTC_SECONDS, 0x05);
    clock_ns = 2 * NS;
    cmos_write(RTC_B, save_control);
    cmos_write(RTC_A, save_freq_select);
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
    clock_ns = 2 * NS + NS / 2 - 1;
    assert_clock(read_clock(), 0x05, 0x04, 0x03, 5, 0x02, 0x01, 0x25, 0x20);
    clock_ns = 2 * NS + NS / 2;
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x06);
}
END_TEST

START_TEST(test_periodic_interrupt_1024_hz)
{
    int count = 0;

    cmos_write(RTC_B, HOUR_24 | PIE);
    ck_assert_int_eq(rtc_next_event_ns(rtc), 976563); /* 32 cycles */
    run_to(976562);
    ck_assert_int_eq(irq8.level, 0);
    run_to(976563);
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_uint_eq(cmos_read(RTC_C), IRQF | PF);
    ck_assert_int_eq(irq8.level, 0);
    for (;;) { /* a guest that handles every tick, for a second */
        int64_t next = rtc_next_event_ns(rtc);

        ck_assert_int_gt(next, (int64_t)clock_ns);
        if (next > (int64_t)NS)
            break;
        run_to((uint64_t)next);
        ck_assert_int_eq(irq8.level, 1);
        ck_assert_uint_eq(cmos_read(RTC_C) & (IRQF | PF), IRQF | PF);
        count++;
    }
    ck_assert_int_eq(count, 1023);
    ck_assert_int_eq(irq8.rises, 1024);
}
END_TEST

START_TEST(test_periodic_rates)
{
    cmos_write(RTC_B, HOUR_24 | PIE);
    cmos_write(RTC_A, 0x2F); /* 2 Hz */
    ck_assert_int_eq(rtc_next_event_ns(rtc), NS / 2);
    cmos_write(RTC_A, 0x23); /* 8192 Hz: 4 cycles, 122.07 us */
    ck_assert_int_eq(rtc_next_event_ns(rtc), 122071);
    cmos_write(RTC_A, 0x28); /* 256 Hz */
    ck_assert_int_eq(rtc_next_event_ns(rtc), 3906250);
    cmos_write(RTC_A, 0x21); /* rate 1 repeats rate 8 */
    ck_assert_int_eq(rtc_next_event_ns(rtc), 3906250);
    cmos_write(RTC_A, 0x22); /* rate 2 repeats rate 9: 128 Hz */
    ck_assert_int_eq(rtc_next_event_ns(rtc), 7812500);
    cmos_write(RTC_A, 0x20); /* rate 0: none */
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
    run_to(NS);
    ck_assert_uint_eq(cmos_read(RTC_C) & PF, 0);
}
END_TEST

START_TEST(test_flags_set_without_enables)
{
    run_to(3 * MS);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
    ck_assert_uint_eq(cmos_read(RTC_C), PF); /* no IRQF */
    run_to(1500 * MS);
    ck_assert_uint_eq(cmos_read(RTC_C), PF | UF);
    ck_assert_uint_eq(cmos_read(RTC_C), 0);
    run_to(1510 * MS);
    cmos_write(RTC_B, HOUR_24 | PIE); /* PF pending: IRQ at once */
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_int_eq(irq8.rises, 1);
}
END_TEST

START_TEST(test_update_interrupt_and_clear_on_read)
{
    cmos_write(RTC_B, HOUR_24 | UIE);
    ck_assert_int_eq(rtc_next_event_ns(rtc), NS);
    run_to(NS - 1);
    ck_assert_int_eq(irq8.level, 0);
    run_to(NS);
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1); /* up until C is read */
    ck_assert_uint_eq(cmos_read(RTC_C), IRQF | PF | UF);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_uint_eq(cmos_read(RTC_C), 0);
    ck_assert_int_eq(rtc_next_event_ns(rtc), 2 * NS);
    run_to(2 * NS);
    ck_assert_int_eq(irq8.rises, 2);
}
END_TEST

START_TEST(test_disabling_an_interrupt_drops_irqf)
{
    cmos_write(RTC_B, HOUR_24 | UIE);
    run_to(NS);
    ck_assert_int_eq(irq8.level, 1);
    cmos_write(RTC_B, HOUR_24);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_uint_eq(cmos_read(RTC_C), PF | UF);
}
END_TEST

START_TEST(test_alarm_interrupt)
{
    cmos_write(RTC_SEC_ALARM, 0x05); /* 00:00:05, seven seconds away */
    cmos_write(RTC_MIN_ALARM, 0x00);
    cmos_write(RTC_HOUR_ALARM, 0x00);
    cmos_write(RTC_B, HOUR_24 | AIE);
    ck_assert_int_eq(rtc_next_event_ns(rtc), 7 * NS);
    run_to(7 * NS - 1);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_uint_eq(cmos_read(RTC_C) & AF, 0);
    run_to(7 * NS);
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_uint_eq(cmos_read(RTC_C), IRQF | PF | AF | UF);
    ck_assert_int_eq(rtc_next_event_ns(rtc), (7 + 86400) * NS);
}
END_TEST

START_TEST(test_alarm_dont_care_bytes)
{
    cmos_write(RTC_SEC_ALARM, 0xC0); /* every second */
    cmos_write(RTC_MIN_ALARM, 0xFF);
    cmos_write(RTC_HOUR_ALARM, 0xC0);
    cmos_write(RTC_B, HOUR_24 | AIE);
    ck_assert_int_eq(rtc_next_event_ns(rtc), NS);
    cmos_write(RTC_SEC_ALARM, 0x00); /* every hour on the hour */
    cmos_write(RTC_MIN_ALARM, 0x00);
    ck_assert_int_eq(rtc_next_event_ns(rtc), 2 * NS);
    run_to(2 * NS);
    ck_assert_uint_eq(cmos_read(RTC_C) & AF, AF);
    ck_assert_int_eq(rtc_next_event_ns(rtc), (2 + 3600) * NS);
    cmos_write(RTC_SEC_ALARM, 0x5A); /* not BCD: never shows */
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
    cmos_write(RTC_SEC_ALARM, 0x60); /* second 60: never */
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
}
END_TEST

START_TEST(test_alarm_caught_up_after_a_gap)
{
    cmos_write(RTC_SEC_ALARM, 0x00); /* noon */
    cmos_write(RTC_MIN_ALARM, 0x00);
    cmos_write(RTC_HOUR_ALARM, 0x12);
    run_to(11 * 3600 * NS); /* 10:59:58: not yet */
    ck_assert_uint_eq(cmos_read(RTC_C) & AF, 0);
    run_to(13 * 3600 * NS); /* 12:59:58: it went by */
    ck_assert_uint_eq(cmos_read(RTC_C), PF | AF | UF);
}
END_TEST

START_TEST(test_alarm_in_12_hour_mode)
{
    cmos_write(RTC_SEC_ALARM, 0x00);
    cmos_write(RTC_MIN_ALARM, 0x00);
    cmos_write(RTC_HOUR_ALARM, 0x12); /* 12 AM: midnight */
    cmos_write(RTC_B, AIE);           /* BCD, 12-hour */
    ck_assert_int_eq(rtc_next_event_ns(rtc), 2 * NS);
    cmos_write(RTC_HOUR_ALARM, PM | 0x12); /* noon */
    ck_assert_int_eq(rtc_next_event_ns(rtc), (2 + 12 * 3600) * NS);
    cmos_write(RTC_HOUR_ALARM, PM | 0x01); /* 1 PM */
    ck_assert_int_eq(rtc_next_event_ns(rtc), (2 + 13 * 3600) * NS);
    cmos_write(RTC_HOUR_ALARM, 0x13); /* no 13 in 12-hour mode */
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
}
END_TEST

START_TEST(test_read_only_bits)
{
    cmos_write(RTC_D, 0x00);
    ck_assert_uint_eq(cmos_read(RTC_D), 0x80);
    run_to(2 * MS);
    cmos_write(RTC_C, 0xFF);
    ck_assert_uint_eq(cmos_read(RTC_C), PF); /* the real flags */
    cmos_write(RTC_A, UIP | 0x26);
    ck_assert_uint_eq(cmos_read(RTC_A), 0x26);
}
END_TEST

START_TEST(test_century_rollover)
{
    cmos_write(RTC_B, SET | HOUR_24);
    cmos_write(RTC_CENTURY, 0x19); /* 1999-12-31 23:59:59, a Friday */
    cmos_write(RTC_YEAR, 0x99);
    cmos_write(RTC_MONTH, 0x12);
    cmos_write(RTC_MDAY, 0x31);
    cmos_write(RTC_WDAY, 6);
    cmos_write(RTC_HOURS, 0x23);
    cmos_write(RTC_MINUTES, 0x59);
    cmos_write(RTC_SECONDS, 0x59);
    clock_ns = NS / 2;
    cmos_write(RTC_B, HOUR_24);
    assert_clock(read_clock(), 0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x19);
    clock_ns = NS;
    assert_clock(read_clock(), 0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20);
    clock_ns = NS + 60 * 86400 * NS; /* 2000 was a leap year */
    assert_clock(read_clock(), 0x00, 0x00, 0x00, 4, 0x01, 0x03, 0x00, 0x20);
}
END_TEST

START_TEST(test_day_of_week_runs_on_from_what_was_written)
{
    clock_ns = NS / 2;
    cmos_write(RTC_WDAY, 2); /* wrong for a Thursday, but kept */
    ck_assert_uint_eq(cmos_read(RTC_WDAY), 2);
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 0x58);
    clock_ns = 2 * NS;
    ck_assert_uint_eq(cmos_read(RTC_WDAY), 3);
    clock_ns = 2 * NS + 5 * 86400 * NS;
    ck_assert_uint_eq(cmos_read(RTC_WDAY), 1); /* 7 wraps to 1 */
}
END_TEST

START_TEST(test_write_clock_while_running)
{
    clock_ns = NS / 2;
    cmos_write(RTC_MINUTES, 0x30);
    assert_clock(read_clock(), 0x58, 0x30, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    clock_ns = 2 * NS;
    assert_clock(read_clock(), 0x00, 0x31, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
}
END_TEST

static uint16_t cmos_read16(uint8_t index)
{
    return cmos_read(index) | cmos_read(index + 1) << 8;
}

/* The sum of 0x10-0x2D, big-endian at 0x2E, as a BIOS checks it. */
static void assert_checksum(void)
{
    uint16_t sum = 0;

    for (uint8_t i = 0x10; i <= 0x2D; i++)
        sum += cmos_read(i);
    ck_assert_uint_eq(cmos_read(0x2E) << 8 | cmos_read(0x2F), sum);
}

START_TEST(test_memory_size_and_checksum)
{
    cmos_write(0x10, 0x40); /* a BIOS's floppy and disk bytes: the ends */
    cmos_write(0x2D, 0x20); /* of the checksummed range */
    rtc_set_memory_size(rtc, 64 * MIB);
    ck_assert_uint_eq(cmos_read16(0x15), 640);
    ck_assert_uint_eq(cmos_read16(0x17), 63 * 1024);
    ck_assert_uint_eq(cmos_read16(0x30), 63 * 1024);
    ck_assert_uint_eq(cmos_read16(0x34), 48 * 16);
    ck_assert_uint_eq(cmos_read(0x2E), 0x01); /* 0x40+0x80+0x02+0xFC+0x20 */
    ck_assert_uint_eq(cmos_read(0x2F), 0xDE);
    assert_checksum();
    rtc_set_memory_size(rtc, 1024 * MIB);
    ck_assert_uint_eq(cmos_read16(0x17), 0xFFFF); /* capped */
    ck_assert_uint_eq(cmos_read16(0x30), 0xFFFF);
    ck_assert_uint_eq(cmos_read16(0x34), 1008 * 16);
    assert_checksum();
    rtc_set_memory_size(rtc, 512 * KIB);
    ck_assert_uint_eq(cmos_read16(0x15), 512);
    ck_assert_uint_eq(cmos_read16(0x17), 0);
    ck_assert_uint_eq(cmos_read16(0x34), 0);
    assert_checksum();
}
END_TEST

START_TEST(test_index_port_and_ram)
{
    bus_write(bus, RTC_PORT_INDEX, 1, NMI_DISABLE | 0x0F);
    bus_write(bus, RTC_PORT_DATA, 1, 0x0A); /* shutdown status byte */
    ck_assert_uint_eq(cmos_read(0x0F), 0x0A);
    ck_assert_uint_eq(bus_read(bus, RTC_PORT_INDEX, 1), 0xFF);
    bus_write(bus, RTC_PORT_INDEX, 2, 0x55 << 8 | 0x40); /* index, data */
    ck_assert_uint_eq(cmos_read(0x40), 0x55);
    ck_assert_uint_eq(bus_read(bus, RTC_PORT_INDEX, 2), 0x55FF);
    cmos_write(0x7F, 0xA5);
    ck_assert_uint_eq(cmos_read(0x7F), 0xA5);
    ck_assert_uint_eq(cmos_read(0x80 | 0x7F), 0xA5); /* bit 7 is NMI */
}
END_TEST

START_TEST(test_reset_keeps_time_clears_interrupts)
{
    cmos_write(0x50, 0x99);
    cmos_write(RTC_B, HOUR_24 | DM_BINARY | PIE | AIE | UIE);
    run_to(NS);
    ck_assert_int_eq(irq8.level, 1);
    rtc_reset(rtc);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_uint_eq(cmos_read(RTC_B), HOUR_24 | DM_BINARY);
    ck_assert_uint_eq(cmos_read(RTC_C), 0);
    ck_assert_uint_eq(cmos_read(RTC_SECONDS), 59);
    ck_assert_uint_eq(cmos_read(0x50), 0x99);
    ck_assert_int_eq(rtc_next_event_ns(rtc), -1);
}
END_TEST

START_TEST(test_bus_refusal)
{
    ck_assert_ptr_null(
        rtc_create(bus, (struct irq_line){0}, fake_now, fake_wall, &clock_ns));
}
END_TEST

static TCase *rtc_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("rtc");
    TCase *clock = rtc_tcase("clock");
    TCase *irq = rtc_tcase("interrupts");
    TCase *cmos = rtc_tcase("cmos");

    tcase_add_test(clock, test_bcd_clock_from_wall_time);
    tcase_add_test(clock, test_binary_mode);
    tcase_add_test(clock, test_12_hour_mode);
    tcase_add_test(clock, test_uip_before_each_update);
    tcase_add_test(clock, test_linux_get_time_waits_out_uip);
    tcase_add_test(clock, test_set_freezes_the_clock);
    tcase_add_test(clock, test_divider_reset_restarts_half_a_second_later);
    tcase_add_test(clock, test_linux_set_time_sequence);
    tcase_add_test(clock, test_century_rollover);
    tcase_add_test(clock, test_day_of_week_runs_on_from_what_was_written);
    tcase_add_test(clock, test_write_clock_while_running);
    suite_add_tcase(s, clock);

    tcase_add_test(irq, test_periodic_interrupt_1024_hz);
    tcase_add_test(irq, test_periodic_rates);
    tcase_add_test(irq, test_flags_set_without_enables);
    tcase_add_test(irq, test_update_interrupt_and_clear_on_read);
    tcase_add_test(irq, test_disabling_an_interrupt_drops_irqf);
    tcase_add_test(irq, test_alarm_interrupt);
    tcase_add_test(irq, test_alarm_dont_care_bytes);
    tcase_add_test(irq, test_alarm_caught_up_after_a_gap);
    tcase_add_test(irq, test_alarm_in_12_hour_mode);
    tcase_add_test(irq, test_reset_keeps_time_clears_interrupts);
    suite_add_tcase(s, irq);

    tcase_add_test(cmos, test_read_only_bits);
    tcase_add_test(cmos, test_memory_size_and_checksum);
    tcase_add_test(cmos, test_index_port_and_ram);
    tcase_add_test(cmos, test_bus_refusal);
    suite_add_tcase(s, cmos);
    return s;
}

int main(void)
{
    return check_run(rtc_suite());
}
