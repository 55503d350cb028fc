/* SPDX-License-Identifier: MIT */
/* Unit tests for the ACPI PM registers and PM timer, with a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "devices/acpipm.h"
#include "devices/bus.h"

/* Ports, as the FADT hands them to a guest. */
#define PM_BASE 0x600
#define PM1_STS (PM_BASE + 0)
#define PM1_EN  (PM_BASE + 2)
#define PM1_CNT (PM_BASE + 4)
#define PM_TMR  (PM_BASE + 8)
#define SCI_IRQ 9

/* Register bits */
#define TMR_STS    0x0001 /* PM1_STS */
#define TMR_EN     0x0001 /* PM1_EN */
#define GBL_EN     0x0020
#define PWRBTN_EN  0x0100
#define SCI_EN     0x0001 /* PM1_CNT */
#define SLP_TYP(t) ((t) << 10)
#define SLP_EN     0x2000

#define NS       1000000000ull
#define MS       1000000ull
#define PM_HZ    3579545ull
#define TMR_WRAP (1ull << 24)
#define TMR_BIT  (1ull << 23) /* TMR_STS sets when this bit toggles */

/* A fake interrupt wire that counts rising edges. */
struct fake_irq {
    int level; /* last level driven */
    int rises; /* 0 -> 1 transitions */
};

static struct io_bus *bus;
static struct acpipm *pm;
static struct fake_irq sci;
static uint64_t clock_ns;
static int power_offs;

/* The first nanosecond at which the timer has counted tick ticks. */
static uint64_t tick_ns(uint64_t tick)
{
    return (tick * NS + PM_HZ - 1) / PM_HZ;
}

static uint64_t fake_now(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void fake_power_off(void *opaque)
{
    power_offs++;
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
    power_offs = 0;
    sci = (struct fake_irq){0};
    bus = bus_create("io");
    pm = acpipm_create(bus, PM_BASE,
                       (struct irq_line){fake_set_irq, &sci, SCI_IRQ}, fake_now,
                       fake_power_off, &clock_ns);
    ck_assert_ptr_nonnull(pm);
}

static void teardown(void)
{
    bus_destroy(bus);
    acpipm_destroy(pm);
}

/* Move the clock to t and bring the SCI up to date. */
static void run_to(uint64_t t)
{
    clock_ns = t;
    acpipm_update(pm);
}

static uint32_t read_tmr(void)
{
    return bus_read(bus, PM_TMR, 4);
}

START_TEST(test_timer_rate)
{
    ck_assert_uint_eq(read_tmr(), 0);
    clock_ns = NS;
    ck_assert_uint_eq(read_tmr(), PM_HZ);
    clock_ns = 2 * NS;
    ck_assert_uint_eq(read_tmr(), 2 * PM_HZ);
    clock_ns = 2 * NS + MS;
    ck_assert_uint_eq(read_tmr(), 2 * PM_HZ + PM_HZ / 1000);
    clock_ns = tick_ns(1000) - 1; /* just before tick 1000 */
    ck_assert_uint_eq(read_tmr(), 999);
    clock_ns = tick_ns(1000);
    ck_assert_uint_eq(read_tmr(), 1000);
}
END_TEST

START_TEST(test_timer_monotonic)
{
    uint64_t prev = 0, extended = 0;

    /* Steps of 1 ns to ~0.3 s, across a wrap, widening the timer to 64
     * bits the way a driver does. */
    for (uint64_t step = 1; clock_ns < 6 * NS; step = step * 3 + 1) {
        uint32_t now;

        clock_ns += step % (300 * MS);
        now = read_tmr();
        ck_assert_uint_le(now, 0xFFFFFF);
        extended += (now - prev) & 0xFFFFFF;
        prev = now;
        ck_assert_uint_eq(extended,
                          (uint64_t)((unsigned __int128)clock_ns * PM_HZ / NS));
    }
}
END_TEST

START_TEST(test_timer_wraps_at_24_bits)
{
    clock_ns = tick_ns(TMR_WRAP - 1);
    ck_assert_uint_eq(read_tmr(), 0xFFFFFF);
    clock_ns = tick_ns(TMR_WRAP + 5);
    ck_assert_uint_eq(read_tmr(), 5);
}
END_TEST

START_TEST(test_timer_access_sizes)
{
    uint32_t v;

    clock_ns = tick_ns(0xABCDEF);
    v = read_tmr();
    ck_assert_uint_eq(v, 0xABCDEF);
    ck_assert_uint_eq(bus_read(bus, PM_TMR, 1), 0xEF);
    ck_assert_uint_eq(bus_read(bus, PM_TMR + 1, 1), 0xCD);
    ck_assert_uint_eq(bus_read(bus, PM_TMR + 2, 1), 0xAB);
    ck_assert_uint_eq(bus_read(bus, PM_TMR + 3, 1), 0x00);
    ck_assert_uint_eq(bus_read(bus, PM_TMR, 2), 0xCDEF);
    ck_assert_uint_eq(bus_read(bus, PM_TMR + 1, 2), 0xABCD);
    ck_assert_uint_eq(bus_read(bus, PM_TMR + 2, 2), 0x00AB);
    /* Writes to the timer are ignored. */
    bus_write(bus, PM_TMR, 4, 0);
    ck_assert_uint_eq(read_tmr(), 0xABCDEF);
}
END_TEST

START_TEST(test_tmr_sts_when_bit_23_toggles)
{
    run_to(tick_ns(TMR_BIT) - 1);
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), 0);
    run_to(tick_ns(TMR_BIT));
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), TMR_STS);
    ck_assert_int_eq(sci.level, 0); /* TMR_EN is clear */
    bus_write(bus, PM1_STS, 2, TMR_STS);
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), 0);
    /* Bit 23 toggles back to 0 at the wrap: set again. */
    run_to(tick_ns(TMR_WRAP) - 1);
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), 0);
    run_to(tick_ns(TMR_WRAP));
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), TMR_STS);
}
END_TEST

START_TEST(test_sci_follows_sts_and_en)
{
    run_to(tick_ns(TMR_BIT));
    ck_assert_int_eq(sci.level, 0);
    bus_write(bus, PM1_EN, 2, TMR_EN); /* a pending status raises it */
    ck_assert_int_eq(sci.level, 1);
    ck_assert_int_eq(sci.rises, 1);
    bus_write(bus, PM1_EN, 2, 0);
    ck_assert_int_eq(sci.level, 0);
    bus_write(bus, PM1_EN, 2, TMR_EN);
    ck_assert_int_eq(sci.level, 1);
    bus_write(bus, PM1_STS, 2, TMR_STS); /* the handler acknowledges */
    ck_assert_int_eq(sci.level, 0);
    ck_assert_int_eq(sci.rises, 2);
}
END_TEST

START_TEST(test_next_event)
{
    ck_assert_int_eq(acpipm_next_event_ns(pm), -1); /* TMR_EN clear */
    bus_write(bus, PM1_EN, 2, TMR_EN);
    ck_assert_int_eq(acpipm_next_event_ns(pm), (int64_t)tick_ns(TMR_BIT));
    run_to(tick_ns(TMR_BIT) - 1);
    ck_assert_int_eq(sci.level, 0);
    run_to((uint64_t)acpipm_next_event_ns(pm));
    ck_assert_int_eq(sci.level, 1);
    ck_assert_int_eq(acpipm_next_event_ns(pm), -1); /* SCI already high */
    bus_write(bus, PM1_STS, 2, TMR_STS);
    ck_assert_int_eq(acpipm_next_event_ns(pm), (int64_t)tick_ns(2 * TMR_BIT));
    /* A long gap is caught up in one step, with one status bit. */
    run_to(tick_ns(7 * TMR_BIT) + 12345);
    ck_assert_int_eq(sci.level, 1);
    bus_write(bus, PM1_STS, 2, TMR_STS);
    ck_assert_int_eq(acpipm_next_event_ns(pm), (int64_t)tick_ns(8 * TMR_BIT));
}
END_TEST

START_TEST(test_write_1_to_clear)
{
    run_to(tick_ns(TMR_BIT));
    bus_write(bus, PM1_STS, 2, 0); /* zeros leave it */
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), TMR_STS);
    bus_write(bus, PM1_STS, 2, 0xFFFE); /* other bits leave it */
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), TMR_STS);
    bus_write(bus, PM1_STS, 1, TMR_STS); /* a byte write clears it */
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 2), 0);
    /* One 32-bit write: clear every status, set the enables. */
    run_to(tick_ns(2 * TMR_BIT));
    bus_write(bus, PM1_STS, 4, (uint32_t)TMR_EN << 16 | 0xFFFF);
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 4), (uint32_t)TMR_EN << 16);
    ck_assert_int_eq(sci.level, 0);
}
END_TEST

START_TEST(test_enables_stick)
{
    /* ACPICA reads back GBL_EN to see whether a global lock exists. */
    bus_write(bus, PM1_EN, 2, GBL_EN | PWRBTN_EN | TMR_EN);
    ck_assert_uint_eq(bus_read(bus, PM1_EN, 2), GBL_EN | PWRBTN_EN | TMR_EN);
    bus_write(bus, PM1_EN, 2, 0xFFFF); /* reserved bits read as 0 */
    ck_assert_uint_eq(bus_read(bus, PM1_EN, 2) & 0xF8DE, 0);
    bus_write(bus, PM1_EN + 1, 1, 0); /* the high byte alone */
    ck_assert_uint_eq(bus_read(bus, PM1_EN, 2), GBL_EN | TMR_EN);
}
END_TEST

START_TEST(test_sci_en_reads_1)
{
    ck_assert_uint_eq(bus_read(bus, PM1_CNT, 2) & SCI_EN, SCI_EN);
    bus_write(bus, PM1_CNT, 2, 0);
    ck_assert_uint_eq(bus_read(bus, PM1_CNT, 2), SCI_EN);
    ck_assert_uint_eq(bus_read(bus, PM1_CNT, 1), SCI_EN);
}
END_TEST

/* ACPICA's acpi_hw_legacy_sleep: SLP_TYP first, then SLP_EN with it. */
static void enter_sleep(unsigned slp_typ)
{
    uint16_t cnt = bus_read(bus, PM1_CNT, 2) & ~(SLP_TYP(7) | SLP_EN);

    bus_write(bus, PM1_STS, 2, 0xFFFF);
    bus_write(bus, PM1_CNT, 2, cnt | SLP_TYP(slp_typ));
    ck_assert_int_eq(power_offs, 0);
    bus_write(bus, PM1_CNT, 2, cnt | SLP_TYP(slp_typ) | SLP_EN);
}

START_TEST(test_s5_powers_off)
{
    enter_sleep(ACPIPM_SLP_TYP_S5);
    ck_assert_int_eq(power_offs, 1);
}
END_TEST

START_TEST(test_s5_by_byte_write)
{
    bus_write(bus, PM1_CNT + 1, 1, (SLP_TYP(ACPIPM_SLP_TYP_S5) | SLP_EN) >> 8);
    ck_assert_int_eq(power_offs, 1);
}
END_TEST

START_TEST(test_other_sleep_types_ignored)
{
    for (unsigned t = 0; t < 8; t++) {
        if (t == ACPIPM_SLP_TYP_S5)
            continue;
        enter_sleep(t);
        ck_assert_int_eq(power_offs, 0);
        /* SLP_EN is write only; SLP_TYP reads back. */
        ck_assert_uint_eq(bus_read(bus, PM1_CNT, 2), SLP_TYP(t) | SCI_EN);
    }
}
END_TEST

START_TEST(test_reset)
{
    bus_write(bus, PM1_EN, 2, TMR_EN);
    bus_write(bus, PM1_CNT, 2, SLP_TYP(3));
    run_to(tick_ns(TMR_BIT) + 7);
    ck_assert_int_eq(sci.level, 1);
    acpipm_reset(pm);
    ck_assert_int_eq(sci.level, 0);
    ck_assert_uint_eq(bus_read(bus, PM1_STS, 4), 0);
    ck_assert_uint_eq(bus_read(bus, PM1_CNT, 2), SCI_EN);
    ck_assert_uint_eq(read_tmr(), TMR_BIT); /* the timer runs on */
}
END_TEST

START_TEST(test_gap_reads_zero)
{
    ck_assert_uint_eq(bus_read(bus, PM_BASE + 6, 2), 0);
    bus_write(bus, PM_BASE + 6, 2, 0xFFFF);
    ck_assert_uint_eq(bus_read(bus, PM_BASE + 6, 2), 0);
    ck_assert_int_eq(power_offs, 0);
}
END_TEST

START_TEST(test_bus_refusal)
{
    ck_assert_ptr_null(acpipm_create(bus, PM_BASE, (struct irq_line){0},
                                     fake_now, fake_power_off, &clock_ns));
}
END_TEST

static TCase *acpipm_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *acpipm_suite(void)
{
    Suite *s = suite_create("acpipm");
    TCase *timer = acpipm_tcase("timer");
    TCase *events = acpipm_tcase("events");
    TCase *control = acpipm_tcase("control");

    tcase_add_test(timer, test_timer_rate);
    tcase_add_test(timer, test_timer_monotonic);
    tcase_add_test(timer, test_timer_wraps_at_24_bits);
    tcase_add_test(timer, test_timer_access_sizes);
    suite_add_tcase(s, timer);

    tcase_add_test(events, test_tmr_sts_when_bit_23_toggles);
    tcase_add_test(events, test_sci_follows_sts_and_en);
    tcase_add_test(events, test_next_event);
    tcase_add_test(events, test_write_1_to_clear);
    tcase_add_test(events, test_enables_stick);
    suite_add_tcase(s, events);

    tcase_add_test(control, test_sci_en_reads_1);
    tcase_add_test(control, test_s5_powers_off);
    tcase_add_test(control, test_s5_by_byte_write);
    tcase_add_test(control, test_other_sleep_types_ignored);
    tcase_add_test(control, test_reset);
    tcase_add_test(control, test_gap_reads_zero);
    tcase_add_test(control, test_bus_refusal);
    suite_add_tcase(s, control);
    return s;
}

int main(void)
{
    return check_run(acpipm_suite());
}
