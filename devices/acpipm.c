/* SPDX-License-Identifier: MIT */
/* ACPI fixed-hardware PM registers (ACPI 1.0b section 4.7.3), as on PIIX4. */
#include "devices/acpipm.h"
#include "devices/clock.h"

#include <stdbool.h>
#include <stdlib.h>


/* Registers: offsets from the base */
#define REG_PM1_STS ACPIPM_PM1_EVT       /* 16 bits, write 1 to clear */
#define REG_PM1_EN  (ACPIPM_PM1_EVT + 2) /* 16 bits */
#define REG_PM1_CNT ACPIPM_PM1_CNT       /* 16 bits */
#define REG_PM_TMR  ACPIPM_PM_TMR        /* 32 bits, read only */

/* Status: PM1_STS. Only TMR_STS is ever set here: there is no power or
 * sleep button, no global lock owner but the OS, and no wake. */
#define STS_TMR    0x0001 /* bit 23 of the PM timer toggled */
#define STS_BM     0x0010 /* bus master activity */
#define STS_GBL    0x0020 /* the BIOS released the global lock */
#define STS_PWRBTN 0x0100 /* power button pressed */
#define STS_SLPBTN 0x0200 /* sleep button pressed */
#define STS_RTC    0x0400 /* RTC alarm */
#define STS_WAK    0x8000 /* the system woke from a sleep state */

/* Registers: PM1_EN, each enable at its status bit. They all stick, as
 * ACPICA checks: an enable that reads back 0 makes it report missing
 * hardware (for GBL_EN, "No response from Global Lock hardware"). */
#define EN_TMR      STS_TMR
#define EN_GBL      STS_GBL
#define EN_PWRBTN   STS_PWRBTN
#define EN_SLPBTN   STS_SLPBTN
#define EN_RTC      STS_RTC
#define EN_WRITABLE (EN_TMR | EN_GBL | EN_PWRBTN | EN_SLPBTN | EN_RTC)

/* Commands: PM1_CNT */
#define CNT_SCI_EN        0x0001 /* SCI, not SMI: always 1, there is no SMM */
#define CNT_BM_RLD        0x0002 /* bus master requests leave C3 */
#define CNT_GBL_RLS       0x0004 /* release the global lock to the BIOS */
#define CNT_SLP_TYP       0x1C00 /* the sleep state SLP_EN enters */
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_EN        0x2000 /* enter SLP_TYP now (write only) */
#define CNT_KEPT          (CNT_BM_RLD | CNT_SLP_TYP) /* what reads back */

/* The timer sets TMR_STS each time its bit 23 toggles: every 2^23 ticks,
 * about 2.34 s, so a driver can extend it past 24 bits. */
#define TMR_MASK      0xFFFFFFu
#define TMR_STS_SHIFT 23

/* Guest-visible state. */
struct acpipm_regs {
    uint16_t sts;     /* PM1_STS */
    uint16_t en;      /* PM1_EN */
    uint16_t cnt;     /* PM1_CNT: BM_RLD and SLP_TYP as last written */
    int64_t epoch_ns; /* now_ns() at which the timer read 0 */
    int64_t sts_ns;   /* time TMR_STS is brought up to */
};

/* Host side: wiring and what the SCI was last driven to. */
struct acpipm_host {
    uint16_t base;                    /* the I/O base claimed */
    struct irq_line sci;              /* the SCI output */
    uint64_t (*now_ns)(void *opaque); /* the time base */
    void (*power_off)(void *opaque);  /* S5 entered */
    void *opaque;                     /* passed to both */
    int sci_level;                    /* level last driven on the SCI */
};

struct acpipm {
    struct acpipm_regs regs; /* what a snapshot saves */
    struct acpipm_host host; /* what the board wires up */
};

static int64_t acpipm_now(const struct acpipm *a)
{
    return (int64_t)a->host.now_ns(a->host.opaque);
}

/* Timer ticks counted by time t, before truncation to 24 bits. */
static uint64_t acpipm_ticks(const struct acpipm_regs *g, int64_t t)
{
    return clock_ticks(ACPIPM_TIMER_HZ, g->epoch_ns, t);
}

/* The first time at which acpipm_ticks reaches tick. */
static int64_t acpipm_tick_ns(const struct acpipm_regs *g, uint64_t tick)
{
    return clock_tick_ns(ACPIPM_TIMER_HZ, g->epoch_ns, tick);
}

/* Set TMR_STS if bit 23 toggled in (sts_ns, t], whatever TMR_EN says. */
static void acpipm_catch_up(struct acpipm_regs *g, int64_t t)
{
    if (t <= g->sts_ns)
        return;
    if (acpipm_ticks(g, t) >> TMR_STS_SHIFT !=
        acpipm_ticks(g, g->sts_ns) >> TMR_STS_SHIFT)
        g->sts |= STS_TMR;
    g->sts_ns = t;
}

static bool acpipm_sci(const struct acpipm_regs *g)
{
    return (g->sts & g->en) != 0;
}

static void acpipm_sci_sync(struct acpipm *a)
{
    int level = acpipm_sci(&a->regs);

    if (level != a->host.sci_level) {
        a->host.sci_level = level;
        irq_set(&a->host.sci, level);
    }
}

void acpipm_update(struct acpipm *a)
{
    acpipm_catch_up(&a->regs, acpipm_now(a));
    acpipm_sci_sync(a);
}

int64_t acpipm_next_event_ns(struct acpipm *a)
{
    const struct acpipm_regs *g = &a->regs;
    uint64_t toggles;

    if (!(g->en & EN_TMR) || acpipm_sci(g))
        return -1;
    toggles = acpipm_ticks(g, g->sts_ns) >> TMR_STS_SHIFT;
    return acpipm_tick_ns(g, (toggles + 1) << TMR_STS_SHIFT);
}

/* Byte offset of the block, as read at time t (tmr: the timer at t). */
static uint8_t acpipm_read_byte(const struct acpipm_regs *g, uint32_t offset,
                                uint32_t tmr)
{
    uint32_t reg;

    switch (offset & ~1u) {
    case REG_PM1_STS:
        reg = g->sts;
        break;
    case REG_PM1_EN:
        reg = g->en;
        break;
    case REG_PM1_CNT:
        reg = g->cnt | CNT_SCI_EN;
        break;
    case REG_PM_TMR:
        reg = tmr;
        break;
    case REG_PM_TMR + 2:
        reg = tmr >> 16;
        break;
    default:
        return 0; /* the gap between PM1_CNT and PM_TMR */
    }
    return (uint8_t)(reg >> (8 * (offset & 1)));
}

/* Reads of any size at any offset: one timer sample per access, so a
 * 32-bit read of PM_TMR is never torn. */
static uint32_t acpipm_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct acpipm *a = opaque;
    int64_t t = acpipm_now(a);
    uint32_t tmr, value = 0;

    acpipm_catch_up(&a->regs, t);
    tmr = (uint32_t)acpipm_ticks(&a->regs, t) & TMR_MASK;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)acpipm_read_byte(&a->regs, offset + i, tmr)
                 << (8 * i);
    acpipm_sci_sync(a);
    return value;
}

/*
 * The bytes of a write of size bytes at offset that land in the 16-bit
 * register at reg, where the register holds them. *mask says which.
 */
static uint16_t acpipm_bytes16(uint32_t offset, unsigned size, uint32_t value,
                               uint32_t reg, uint16_t *mask)
{
    uint16_t v = 0;

    *mask = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t at = offset + i;

        if (at < reg || at >= reg + 2)
            continue;
        v |= (uint16_t)(((value >> (8 * i)) & 0xFF) << (8 * (at - reg)));
        *mask |= (uint16_t)(0xFF << (8 * (at - reg)));
    }
    return v;
}

/*
 * PM1_CNT. SLP_EN enters the sleep state SLP_TYP names; the only one the
 * DSDT offers is S5 (soft off), so any other is ignored, as hardware does
 * with a type the BIOS left undefined.
 */
static void acpipm_write_cnt(struct acpipm *a, uint16_t value)
{
    unsigned slp_typ = (value & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT;

    a->regs.cnt = value & CNT_KEPT;
    if ((value & CNT_SLP_EN) && slp_typ == ACPIPM_SLP_TYP_S5 &&
        a->host.power_off)
        a->host.power_off(a->host.opaque);
}

static void acpipm_io_write(void *opaque, uint32_t offset, unsigned size,
                            uint32_t value)
{
    struct acpipm *a = opaque;
    struct acpipm_regs *g = &a->regs;
    uint16_t v, mask;

    acpipm_catch_up(g, acpipm_now(a)); /* TMR_STS first, so it can clear */
    v = acpipm_bytes16(offset, size, value, REG_PM1_STS, &mask);
    g->sts &= (uint16_t)~v;
    v = acpipm_bytes16(offset, size, value, REG_PM1_EN, &mask);
    g->en = (uint16_t)((g->en & ~mask) | (v & EN_WRITABLE));
    acpipm_sci_sync(a);
    v = acpipm_bytes16(offset, size, value, REG_PM1_CNT, &mask);
    if (mask)
        acpipm_write_cnt(a, (uint16_t)((g->cnt & ~mask) | v));
}

static const struct io_ops acpipm_ops = {
    .read = acpipm_io_read,
    .write = acpipm_io_write,
};

struct acpipm *acpipm_create(struct io_bus *bus, uint16_t base,
                             struct irq_line sci,
                             uint64_t (*now_ns)(void *opaque),
                             void (*power_off)(void *opaque), void *opaque)
{
    struct acpipm *a = calloc(1, sizeof(*a));

    if (!a)
        return NULL;
    a->host = (struct acpipm_host){
        .base = base,
        .sci = sci,
        .now_ns = now_ns,
        .power_off = power_off,
        .opaque = opaque,
    };
    a->regs.epoch_ns = acpipm_now(a);
    a->regs.sts_ns = a->regs.epoch_ns;
    irq_set(&a->host.sci, 0);
    if (bus_register(bus, base, ACPIPM_SIZE, &acpipm_ops, a, "acpipm") < 0) {
        free(a);
        return NULL;
    }
    return a;
}

void acpipm_reset(struct acpipm *a)
{
    acpipm_catch_up(&a->regs, acpipm_now(a));
    a->regs.sts = 0;
    a->regs.en = 0;
    a->regs.cnt = 0;
    acpipm_sci_sync(a);
}

void acpipm_destroy(struct acpipm *a)
{
    free(a);
}
