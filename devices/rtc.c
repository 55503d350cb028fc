/* SPDX-License-Identifier: MIT */
/* Motorola MC146818A real-time clock and CMOS RAM, at PC ports 0x70-0x71. */
#include "devices/rtc.h"
#include "devices/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC   1000000000ll
#define RTC_HZ       32768 /* time base: the PC's 32.768 kHz crystal */
#define SECS_PER_DAY 86400
#define EPOCH_WDAY   4         /* 1970-01-01 was a Thursday (Sunday = 0) */
#define RTC_NEVER    INT64_MAX /* a second that never comes */

/* Registers: ports */
#define RTC_BASE       0x70 /* index (write only), then data at 0x71 */
#define RTC_INDEX      0
#define RTC_DATA       1
#define RTC_NPORTS     2
#define INDEX_NMI_MASK 0x80 /* port 0x70 bit 7 gates NMI on a PC */
#define INDEX_MASK     0x7F
#define CMOS_SIZE      128

/* Registers: clock, calendar and alarm bytes */
#define REG_SECONDS       0x00
#define REG_SECONDS_ALARM 0x01
#define REG_MINUTES       0x02
#define REG_MINUTES_ALARM 0x03
#define REG_HOURS         0x04
#define REG_HOURS_ALARM   0x05
#define REG_DAY_OF_WEEK   0x06 /* 1-7, Sunday = 1 */
#define REG_DAY_OF_MONTH  0x07
#define REG_MONTH         0x08
#define REG_YEAR          0x09 /* the last two digits */
#define REG_A             0x0A
#define REG_B             0x0B
#define REG_C             0x0C /* read only */
#define REG_D             0x0D /* read only */

/* Registers: what a PC BIOS keeps in the CMOS RAM */
#define REG_BASE_MEM     0x15 /* base memory in KiB (low, high byte) */
#define REG_EXT_MEM      0x17 /* KiB above 1 MiB (low, high byte) */
#define REG_CHECKSUM     0x2E /* sum of 0x10-0x2D (high, low byte) */
#define REG_EXT_MEM_POST 0x30 /* KiB above 1 MiB as POST found them */
#define REG_CENTURY      0x32 /* the byte the ACPI FADT's CENTURY names */
#define REG_HIGH_MEM     0x34 /* 64 KiB units above 16 MiB (low, high) */
#define CHECKSUM_FIRST   0x10
#define CHECKSUM_LAST    0x2D

#define KIB            1024ull
#define MIB            (1024 * KIB)
#define BASE_MEM_KIB   640
#define HIGH_MEM_START (16 * MIB)
#define HIGH_MEM_UNIT  (64 * KIB)

/* Commands: register A */
#define A_UIP      0x80 /* update in progress (read only) */
#define A_DV_RESET 0x60 /* DV2 DV1 = 11: the divider chain held in reset */
#define A_RS       0x0F /* rate select of the periodic interrupt */
#define A_POWER_ON 0x26 /* 32.768 kHz time base, 1024 Hz rate: a BIOS's */

/* Commands: register B. Each interrupt enable sits at its flag's bit in C. */
#define B_SET  0x80 /* stop updates so the time can be written */
#define B_PIE  0x40 /* periodic interrupt enable */
#define B_AIE  0x20 /* alarm interrupt enable */
#define B_UIE  0x10 /* update-ended interrupt enable */
#define B_SQWE 0x08 /* square wave enable (no SQW pin on a PC) */
#define B_DM   0x04 /* data mode: 1 binary, 0 BCD */
#define B_24H  0x02 /* 1: 24-hour mode, 0: 12-hour with a PM bit */
#define B_DSE  0x01 /* daylight saving enable (kept, not applied) */

/* Status: register C, cleared by reading it */
#define C_IRQF  0x80 /* an enabled flag is set: IRQ asserted */
#define C_PF    0x40 /* periodic interrupt flag */
#define C_AF    0x20 /* alarm flag */
#define C_UF    0x10 /* update-ended flag */
#define C_FLAGS (C_PF | C_AF | C_UF)

/* Status: register D */
#define D_VRT 0x80 /* valid RAM and time: the battery is good */

/* Alarm bytes; hours in 12-hour mode carry the PM bit */
#define ALARM_DONT_CARE 0xC0 /* 11xxxxxx matches every value */
#define HOUR_PM         0x80
#define ALARM_ANY       (-1)
#define ALARM_NONE      (-2) /* a byte the clock never shows */

/*
 * UIP rises 244 us (8 cycles of the time base, the datasheet's tBUC)
 * before each update. The update itself is instant here: UIP falls as
 * the new second appears.
 */
#define UIP_CYCLES 8
/* Leaving divider reset, the first update comes 500 ms later. */
#define RESTART_NS (NS_PER_SEC / 2)

/* Guest-visible state. */
struct rtc_regs {
    uint8_t cmos[CMOS_SIZE]; /* registers and RAM; the clock bytes are
                                current only while the clock is stopped */
    uint8_t index;           /* last write to port 0x70, NMI mask included */
    uint8_t flags;           /* register C's PF, AF and UF */
    int8_t wday_adjust;      /* days the day of week runs ahead of the date */
    int64_t div_ns;          /* time the divider chain started counting */
    int64_t offset_s;        /* clock seconds (since 1970) at div_ns */
    int64_t flags_ns;        /* time the flags are brought up to */
};

/* Host side: wiring and what the IRQ line was last driven to. */
struct rtc_host {
    struct io_bus *bus;                   /* where our ports are claimed */
    struct irq_line irq8;                 /* the IRQ output */
    uint64_t (*now_ns)(void *opaque);     /* the time base */
    int64_t (*wall_time_s)(void *opaque); /* the time at power-on */
    void *opaque;                         /* passed to both */
    int irq_level;                        /* level last driven on IRQ 8 */
};

struct rtc {
    struct rtc_regs regs; /* what a snapshot saves */
    struct rtc_host host; /* what the board wires up */
};

static int64_t rtc_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t rtc_floor_mod(int64_t a, int64_t b)
{
    return a - rtc_floor_div(a, b) * b;
}

/* Days from 1970-01-01 to y-m-d (m 1-12, d any), proleptic Gregorian. */
static int64_t rtc_days_from_civil(int64_t y, unsigned m, int64_t d)
{
    int64_t era, yoe, doy;

    y -= m <= 2; /* count the year from March: leap days come last */
    era = rtc_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The date z days after 1970-01-01. */
static void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468; /* days from 0000-03-01 */
    era = rtc_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t rtc_now(const struct rtc *r)
{
    return (int64_t)r->host.now_ns(r->host.opaque);
}

/* Cycles of the time base the divider chain has counted by time t. */
static uint64_t rtc_cycles(const struct rtc_regs *g, int64_t t)
{
    return clock_ticks(RTC_HZ, g->div_ns, t);
}

/* The first time at which rtc_cycles reaches cycle. */
static int64_t rtc_cycle_ns(const struct rtc_regs *g, uint64_t cycle)
{
    return clock_tick_ns(RTC_HZ, g->div_ns, cycle);
}

/*
 * DV2 DV1 = 11 holds the divider in reset. Every other DV value counts
 * as the 32.768 kHz time base: that is the crystal a PC has, and Linux
 * itself writes DV = 000 around a time change on some AMD parts.
 */
static bool rtc_divider_on(const struct rtc_regs *g)
{
    return (g->cmos[REG_A] & A_DV_RESET) != A_DV_RESET;
}

/* Update cycles happen: the divider runs and SET is clear. */
static bool rtc_running(const struct rtc_regs *g)
{
    return rtc_divider_on(g) && !(g->cmos[REG_B] & B_SET);
}

/*
 * Cycles per periodic interrupt, or 0 for none. Rate n taps the divider
 * every 2^(n-1) cycles (3: 122 us ... 15: 500 ms); with a 32.768 kHz time
 * base rates 1 and 2 repeat rates 8 and 9 (256 and 128 Hz).
 */
static uint32_t rtc_period(const struct rtc_regs *g)
{
    unsigned rs = g->cmos[REG_A] & A_RS;

    if (rs == 0)
        return 0;
    if (rs < 3)
        rs += 7;
    return 1u << (rs - 1);
}

/* The clock's second at time t, while it runs. */
static int64_t rtc_seconds(const struct rtc_regs *g, int64_t t)
{
    return g->offset_s + (int64_t)(rtc_cycles(g, t) / RTC_HZ);
}

/* UIP: set for the last 244 us before each update cycle. */
static bool rtc_uip(const struct rtc_regs *g, int64_t t)
{
    return rtc_running(g) && rtc_cycles(g, t) % RTC_HZ >= RTC_HZ - UIP_CYCLES;
}

/* A value 0-99 as the data mode stores it: BCD or binary. */
static uint8_t rtc_to_reg(const struct rtc_regs *g, unsigned v)
{
    if (g->cmos[REG_B] & B_DM)
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | v % 10);
}

/* Bad BCD digits are taken at face value, as QEMU and most BIOSes do. */
static unsigned rtc_from_reg(const struct rtc_regs *g, uint8_t raw)
{
    if (g->cmos[REG_B] & B_DM)
        return raw;
    return (raw >> 4) * 10 + (raw & 0xF);
}

/* Hour 0-23 as the hours byte shows it: 12-hour mode is 12, 1-11 + PM. */
static uint8_t rtc_hour_to_reg(const struct rtc_regs *g, unsigned hour)
{
    if (g->cmos[REG_B] & B_24H)
        return rtc_to_reg(g, hour);
    return rtc_to_reg(g, hour % 12 ? hour % 12 : 12) |
           (hour >= 12 ? HOUR_PM : 0);
}

static unsigned rtc_hour_from_reg(const struct rtc_regs *g, uint8_t raw)
{
    if (g->cmos[REG_B] & B_24H)
        return rtc_from_reg(g, raw);
    return rtc_from_reg(g, raw & ~HOUR_PM) % 12 + (raw & HOUR_PM ? 12 : 0);
}

/* Write the clock at second s into the clock bytes, in the current mode. */
static void rtc_render(struct rtc_regs *g, int64_t s)
{
    int64_t days = rtc_floor_div(s, SECS_PER_DAY), year;
    unsigned tod = (unsigned)(s - days * SECS_PER_DAY), month, day;

    rtc_civil_from_days(days, &year, &month, &day);
    g->cmos[REG_SECONDS] = rtc_to_reg(g, tod % 60);
    g->cmos[REG_MINUTES] = rtc_to_reg(g, tod / 60 % 60);
    g->cmos[REG_HOURS] = rtc_hour_to_reg(g, tod / 3600);
    g->cmos[REG_DAY_OF_WEEK] = rtc_to_reg(
        g, (unsigned)rtc_floor_mod(days + EPOCH_WDAY + g->wday_adjust, 7) + 1);
    g->cmos[REG_DAY_OF_MONTH] = rtc_to_reg(g, day);
    g->cmos[REG_MONTH] = rtc_to_reg(g, month);
    g->cmos[REG_YEAR] = rtc_to_reg(g, (unsigned)rtc_floor_mod(year, 100));
    g->cmos[REG_CENTURY] =
        rtc_to_reg(g, (unsigned)rtc_floor_mod(rtc_floor_div(year, 100), 100));
}

/*
 * The second the clock bytes spell. Fields out of range carry into the
 * next, as mktime does. The chip only ever increments the day of week, so
 * whatever the guest wrote there is kept as an offset from the date's.
 */
static int64_t rtc_parse(struct rtc_regs *g)
{
    const uint8_t *c = g->cmos;
    int64_t year =
        rtc_from_reg(g, c[REG_CENTURY]) * 100 + rtc_from_reg(g, c[REG_YEAR]);
    int64_t month0 = (int64_t)rtc_from_reg(g, c[REG_MONTH]) - 1;
    int64_t s, days, wday = rtc_from_reg(g, c[REG_DAY_OF_WEEK]);

    year += rtc_floor_div(month0, 12);
    days = rtc_days_from_civil(year, (unsigned)rtc_floor_mod(month0, 12) + 1,
                               rtc_from_reg(g, c[REG_DAY_OF_MONTH]));
    s = days * SECS_PER_DAY + rtc_hour_from_reg(g, c[REG_HOURS]) * 3600ll +
        rtc_from_reg(g, c[REG_MINUTES]) * 60ll +
        rtc_from_reg(g, c[REG_SECONDS]);
    days = rtc_floor_div(s, SECS_PER_DAY);
    g->wday_adjust = (int8_t)rtc_floor_mod(wday - 1 - (days + EPOCH_WDAY), 7);
    return s;
}

/* Stop the clock: from now on the clock bytes hold the time. */
static void rtc_freeze(struct rtc_regs *g, int64_t t)
{
    rtc_render(g, rtc_seconds(g, t));
}

/*
 * Run from the time the clock bytes spell. The divider keeps its phase,
 * so the next update comes when it reaches its next second.
 */
static void rtc_thaw(struct rtc_regs *g, int64_t t)
{
    g->offset_s = rtc_parse(g) - (int64_t)(rtc_cycles(g, t) / RTC_HZ);
}

/*
 * An alarm byte as the value it matches (binary; hours 0-23), ALARM_ANY
 * for a don't-care byte, or ALARM_NONE for one the clock never shows.
 */
static int rtc_alarm_field(const struct rtc_regs *g, uint8_t raw,
                           unsigned limit)
{
    bool hour12 = limit == 24 && !(g->cmos[REG_B] & B_24H);
    uint8_t digits = hour12 ? raw & ~HOUR_PM : raw;
    unsigned v = rtc_from_reg(g, digits);

    if ((raw & ALARM_DONT_CARE) == ALARM_DONT_CARE)
        return ALARM_ANY;
    if (!(g->cmos[REG_B] & B_DM) && ((digits & 0xF) > 9 || digits >> 4 > 9))
        return ALARM_NONE;
    if (hour12 && (v < 1 || v > 12))
        return ALARM_NONE;
    if (hour12)
        return (int)rtc_hour_from_reg(g, raw);
    return v < limit ? (int)v : ALARM_NONE;
}

/* The first clock second after s that the alarm matches, or RTC_NEVER. */
static int64_t rtc_alarm_next(const struct rtc_regs *g, int64_t s)
{
    int sec = rtc_alarm_field(g, g->cmos[REG_SECONDS_ALARM], 60);
    int min = rtc_alarm_field(g, g->cmos[REG_MINUTES_ALARM], 60);
    int hour = rtc_alarm_field(g, g->cmos[REG_HOURS_ALARM], 24);
    int64_t day = s - rtc_floor_mod(s, SECS_PER_DAY);

    if (sec == ALARM_NONE || min == ALARM_NONE || hour == ALARM_NONE)
        return RTC_NEVER;
    for (int h = 0; h < 48; h++) { /* today, then tomorrow */
        if (hour != ALARM_ANY && hour != h % 24)
            continue;
        for (int m = 0; m < 60; m++) {
            int64_t minute = day + h * 3600 + m * 60;

            if ((min != ALARM_ANY && min != m) || minute + 59 <= s)
                continue;
            for (int x = 0; x < 60; x++)
                if ((sec == ALARM_ANY || sec == x) && minute + x > s)
                    return minute + x;
        }
    }
    return RTC_NEVER;
}

/*
 * Set the flags for what happened in (flags_ns, t]: PF at each tap of the
 * periodic rate while the divider runs; UF, and AF on an alarm match, at
 * each update cycle (none while SET or a divider reset holds them off).
 * The flags are set whether or not their interrupts are enabled.
 */
static void rtc_catch_up(struct rtc_regs *g, int64_t t)
{
    uint32_t period = rtc_period(g);
    uint64_t c0, c1;
    int64_t s0, s1;

    if (t <= g->flags_ns)
        return;
    c0 = rtc_cycles(g, g->flags_ns);
    c1 = rtc_cycles(g, t);
    g->flags_ns = t;
    if (!rtc_divider_on(g))
        return;
    if (period && c1 / period > c0 / period)
        g->flags |= C_PF;
    s0 = g->offset_s + (int64_t)(c0 / RTC_HZ);
    s1 = g->offset_s + (int64_t)(c1 / RTC_HZ);
    if (!rtc_running(g) || s1 == s0)
        return;
    g->flags |= C_UF;
    if (rtc_alarm_next(g, s0) <= s1)
        g->flags |= C_AF;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE: disabling an interrupt drops it too. */
static bool rtc_irqf(const struct rtc_regs *g)
{
    return g->flags & g->cmos[REG_B] & C_FLAGS;
}

static void rtc_irq_sync(struct rtc *r)
{
    int level = rtc_irqf(&r->regs);

    if (level != r->host.irq_level) {
        r->host.irq_level = level;
        irq_set(&r->host.irq8, level);
    }
}

void rtc_update(struct rtc *r)
{
    rtc_catch_up(&r->regs, rtc_now(r));
    rtc_irq_sync(r);
}

int64_t rtc_next_event_ns(struct rtc *r)
{
    const struct rtc_regs *g = &r->regs;
    uint8_t b = g->cmos[REG_B];
    uint64_t c = rtc_cycles(g, g->flags_ns), next = UINT64_MAX;
    uint32_t period = rtc_period(g);

    if (rtc_irqf(g) || !rtc_divider_on(g))
        return -1;
    if ((b & B_PIE) && period)
        next = (c / period + 1) * period;
    if (rtc_running(g) && (b & B_UIE) && (c / RTC_HZ + 1) * RTC_HZ < next)
        next = (c / RTC_HZ + 1) * RTC_HZ;
    if (rtc_running(g) && (b & B_AIE)) {
        int64_t s = rtc_alarm_next(g, g->offset_s + (int64_t)(c / RTC_HZ));

        if (s != RTC_NEVER && (uint64_t)(s - g->offset_s) * RTC_HZ < next)
            next = (uint64_t)(s - g->offset_s) * RTC_HZ;
    }
    return next == UINT64_MAX ? -1 : rtc_cycle_ns(g, next);
}

static bool rtc_is_clock(uint8_t index)
{
    switch (index) {
    case REG_SECONDS:
    case REG_MINUTES:
    case REG_HOURS:
    case REG_DAY_OF_WEEK:
    case REG_DAY_OF_MONTH:
    case REG_MONTH:
    case REG_YEAR:
    case REG_CENTURY: /* part of the clock here, as in QEMU */
        return true;
    default:
        return false;
    }
}

/* The data port reads the byte the index selects (caught up to t). */
static uint8_t rtc_read_reg(struct rtc_regs *g, int64_t t)
{
    uint8_t index = g->index & INDEX_MASK, value;

    if (rtc_is_clock(index) && rtc_running(g))
        rtc_render(g, rtc_seconds(g, t));
    switch (index) {
    case REG_A:
        return g->cmos[REG_A] | (rtc_uip(g, t) ? A_UIP : 0);
    case REG_C:
        value = g->flags | (rtc_irqf(g) ? C_IRQF : 0);
        g->flags = 0;
        return value;
    case REG_D:
        return D_VRT;
    default:
        return g->cmos[index];
    }
}

/*
 * A clock byte written while the clock runs takes effect at once (the
 * datasheet asks for SET first, but DOS-era programs do not bother).
 */
static void rtc_write_clock(struct rtc_regs *g, int64_t t, uint8_t index,
                            uint8_t value)
{
    if (!rtc_running(g)) {
        g->cmos[index] = value;
        return;
    }
    rtc_freeze(g, t);
    g->cmos[index] = value;
    rtc_thaw(g, t);
}

/*
 * Register A. Holding the divider in reset stops the clock and the
 * periodic interrupt; on release the first update comes 500 ms later.
 * Linux's mc146818_set_time does this around SET.
 */
static void rtc_write_a(struct rtc_regs *g, int64_t t, uint8_t value)
{
    bool was_on = rtc_divider_on(g), was_running = rtc_running(g);

    if (was_running)
        rtc_freeze(g, t);
    g->cmos[REG_A] = value & ~A_UIP;
    if (!was_on && rtc_divider_on(g))
        g->div_ns = t - RESTART_NS;
    if (!was_running && rtc_running(g))
        rtc_thaw(g, t);
}

/*
 * Register B. SET stops updates so the time can be written, and clears
 * UIE; clearing SET runs the clock on from the time written. The clock
 * bytes are frozen in the mode they were shown in.
 */
static void rtc_write_b(struct rtc_regs *g, int64_t t, uint8_t value)
{
    bool was_running = rtc_running(g);

    if (value & B_SET)
        value &= ~B_UIE;
    if (was_running)
        rtc_freeze(g, t);
    g->cmos[REG_B] = value;
    if (!was_running && rtc_running(g))
        rtc_thaw(g, t);
}

static void rtc_write_reg(struct rtc_regs *g, int64_t t, uint8_t value)
{
    uint8_t index = g->index & INDEX_MASK;

    if (rtc_is_clock(index))
        rtc_write_clock(g, t, index, value);
    else if (index == REG_A)
        rtc_write_a(g, t, value);
    else if (index == REG_B)
        rtc_write_b(g, t, value);
    else if (index != REG_C && index != REG_D)
        g->cmos[index] = value;
}

/*
 * Port 0x70 is write only on a PC and reads as 0xFF, like QEMU's. Its
 * bit 7 (NMI disable) is kept with the index; nothing here raises NMI.
 */
static uint32_t rtc_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct rtc *r = opaque;
    int64_t t = rtc_now(r);
    uint32_t value = 0;

    rtc_catch_up(&r->regs, t);
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = 0xFF;

        if (offset + i == RTC_DATA)
            b = rtc_read_reg(&r->regs, t);
        value |= (uint32_t)b << (8 * i);
    }
    rtc_irq_sync(r);
    return value;
}

static void rtc_io_write(void *opaque, uint32_t offset, unsigned size,
                         uint32_t value)
{
    struct rtc *r = opaque;
    int64_t t = rtc_now(r);

    rtc_catch_up(&r->regs, t); /* flags up to now under the old settings */
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = value >> (8 * i);

        if (offset + i == RTC_INDEX)
            r->regs.index = b;
        else if (offset + i == RTC_DATA)
            rtc_write_reg(&r->regs, t, b);
    }
    rtc_irq_sync(r);
}

static const struct io_ops rtc_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
};

static void rtc_checksum(struct rtc_regs *g)
{
    uint16_t sum = 0;

    for (int i = CHECKSUM_FIRST; i <= CHECKSUM_LAST; i++)
        sum += g->cmos[i];
    g->cmos[REG_CHECKSUM] = sum >> 8;
    g->cmos[REG_CHECKSUM + 1] = sum & 0xFF;
}

/* A 16-bit CMOS value, low byte first, capped at 0xFFFF. */
static void rtc_put16(struct rtc_regs *g, uint8_t index, uint64_t value)
{
    if (value > 0xFFFF)
        value = 0xFFFF;
    g->cmos[index] = value & 0xFF;
    g->cmos[index + 1] = value >> 8;
}

void rtc_set_memory_size(struct rtc *r, uint64_t ram_bytes)
{
    struct rtc_regs *g = &r->regs;
    uint64_t base = ram_bytes / KIB, ext = 0, high = 0;

    if (ram_bytes > MIB)
        ext = (ram_bytes - MIB) / KIB;
    if (ram_bytes > HIGH_MEM_START)
        high = (ram_bytes - HIGH_MEM_START) / HIGH_MEM_UNIT;
    rtc_put16(g, REG_BASE_MEM, base < BASE_MEM_KIB ? base : BASE_MEM_KIB);
    rtc_put16(g, REG_EXT_MEM, ext);
    rtc_put16(g, REG_EXT_MEM_POST, ext);
    rtc_put16(g, REG_HIGH_MEM, high);
    rtc_checksum(g);
}

/*
 * Battery insertion, then what a BIOS programs: 32.768 kHz time base,
 * 1024 Hz rate, BCD and 24-hour mode (Linux's rtc-cmos refuses 12-hour
 * mode), the clock at the host's wall time and on a second boundary now.
 */
static void rtc_power_on(struct rtc *r)
{
    struct rtc_regs *g = &r->regs;
    int64_t t = rtc_now(r);

    memset(g, 0, sizeof(*g));
    g->cmos[REG_A] = A_POWER_ON;
    g->cmos[REG_B] = B_24H;
    g->cmos[REG_D] = D_VRT;
    g->div_ns = t;
    g->flags_ns = t;
    g->offset_s = r->host.wall_time_s(r->host.opaque);
    rtc_checksum(g);
}

struct rtc *rtc_create(struct io_bus *bus, struct irq_line irq8,
                       uint64_t (*now_ns)(void *opaque),
                       int64_t (*wall_time_s)(void *opaque), void *opaque)
{
    struct rtc *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->host = (struct rtc_host){
        .bus = bus,
        .irq8 = irq8,
        .now_ns = now_ns,
        .wall_time_s = wall_time_s,
        .opaque = opaque,
    };
    rtc_power_on(r);
    irq_set(&r->host.irq8, 0);
    if (bus_register(bus, RTC_BASE, RTC_NPORTS, &rtc_ops, r, "rtc") < 0) {
        free(r);
        return NULL;
    }
    return r;
}

void rtc_reset(struct rtc *r)
{
    rtc_catch_up(&r->regs, rtc_now(r));
    r->regs.cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->regs.flags = 0;
    rtc_irq_sync(r);
}

void rtc_destroy(struct rtc *r)
{
    free(r);
}
