/* SPDX-License-Identifier: MIT */
/* Intel 8254 PIT (three counters) and the port 0x61 bits it owns on a PC. */
#include "devices/pit.h"
#include "devices/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PIT_HZ     1193182ull /* input clock: 14.31818 MHz / 12 */
#define PIT_NEVER  UINT64_MAX /* a tick that never comes */

/* Registers: ports */
#define PIT_BASE    0x40 /* counters 0-2 at 0x40-0x42 */
#define PIT_CONTROL 3    /* control word register (write only) */
#define PIT_NPORTS  4
#define PORT61      0x61 /* system control port B, shared on a PC */

/* Commands: control word SC1 SC0 RW1 RW0 M2 M1 M0 BCD */
#define CW_SC_SHIFT   6
#define CW_READBACK   3 /* SC = 11: read-back command */
#define CW_RW_SHIFT   4
#define CW_MODE_SHIFT 1
#define CW_BCD        0x01 /* count in four BCD decades */
#define CW_FIELDS     0x3F /* RW, M, BCD: kept, and echoed in the status */

/* Commands: RW, the access mode */
#define RW_LATCH 0 /* counter latch command */
#define RW_LSB   1 /* least significant byte only */
#define RW_MSB   2 /* most significant byte only */
#define RW_WORD  3 /* LSB then MSB */

/* Commands: read-back (SC = 11); the COUNT and STATUS bits are active low */
#define RB_COUNT  0x20 /* 0: latch the count of the selected counters */
#define RB_STATUS 0x10 /* 0: latch their status */
#define RB_CNT0   0x02 /* select counter 0 (CNT1 = 0x04, CNT2 = 0x08) */

/* Status: the status byte */
#define ST_OUTPUT     0x80 /* OUT pin */
#define ST_NULL_COUNT 0x40 /* the last count written is not yet in the CE */

/* Status: port 0x61 bits this device owns */
#define P61_GATE2   0x01 /* gate of counter 2 (read/write) */
#define P61_SPKR    0x02 /* speaker data enable (read/write) */
#define P61_REFRESH 0x10 /* refresh request toggle (read only) */
#define P61_OUT2    0x20 /* counter 2 OUT (read only) */
#define P61_KEPT    0x0F /* bits 0-3 read back as written */
/*
 * Refresh toggles every 15.085 us (counter 1's usual refresh period, 18
 * clocks); some BIOS and DOS delay loops count its edges.
 */
#define REFRESH_NS 15085

/* Guest-visible state of one counter. */
struct pit_counter {
    uint8_t control;      /* RW, M, BCD of the last control word */
    uint32_t cr;          /* count register, 1..65536 (0 = max) in binary */
    uint32_t n;           /* the count the CE is working from */
    uint64_t load_tick;   /* clock tick the CE was loaded with n */
    uint64_t reload_tick; /* modes 2, 3: tick cr goes into the CE, or 0 */
    uint64_t gate_tick;   /* tick the gate last fell */
    uint16_t latch;       /* latched count (raw, as read) */
    uint8_t status;       /* latched status byte */
    uint8_t write_lsb;    /* the LSB of an LSB-then-MSB write */
    bool write_msb;       /* the next write is the MSB */
    bool read_msb;        /* the next read is the MSB */
    bool count_latched;   /* latch holds a count not yet read */
    bool status_latched;  /* status holds a byte not yet read */
    bool loaded;          /* a count was written after the control word */
    bool triggered;       /* modes 1, 5: a gate rising edge started it */
    bool null_count;      /* status NULL COUNT */
    bool gate;            /* GATE input level */
};

struct pit_regs {
    struct pit_counter c[3]; /* counters 0-2 */
    uint8_t port61;          /* last value written to port 0x61 */
};

/* Host side: wiring and what the IRQ line was last driven to. */
struct pit_host {
    struct io_bus *bus;               /* the bus our ports are claimed on */
    struct irq_line irq0;             /* counter 0 OUT */
    uint64_t (*now_ns)(void *opaque); /* the time base */
    void *opaque;                     /* passed to now_ns */
    uint64_t irq_tick;                /* tick IRQ0 was brought up to */
    int irq_level;                    /* level last driven on IRQ0 */
    uint32_t lost;                    /* periods that rose unseen (see
                                         pit_lost_ticks) */
};

struct pit {
    struct pit_regs regs; /* what a snapshot saves */
    struct pit_host host; /* what the board wires up */
};

static uint64_t pit_now_tick(const struct pit *p)
{
    return clock_ticks(PIT_HZ, 0, (int64_t)p->host.now_ns(p->host.opaque));
}

/* The first now_ns time at which pit_now_tick reaches tick. */
static uint64_t pit_tick_ns(uint64_t tick)
{
    return (uint64_t)clock_tick_ns(PIT_HZ, 0, tick);
}

static unsigned pit_mode(const struct pit_counter *c)
{
    unsigned mode = (c->control >> CW_MODE_SHIFT) & 7;

    return mode >= 6 ? mode - 4 : mode; /* 11x are modes 2 and 3 */
}

static unsigned pit_rw(const struct pit_counter *c)
{
    return (c->control >> CW_RW_SHIFT) & 3;
}

static uint32_t pit_modulus(const struct pit_counter *c)
{
    return (c->control & CW_BCD) ? 10000 : 65536;
}

/* Modes 1 and 5 start counting on a gate rising edge, not on a write. */
static bool pit_one_shot_hw(const struct pit_counter *c)
{
    return pit_mode(c) == 1 || pit_mode(c) == 5;
}

/* Gate low stops counting in modes 0, 2, 3 and 4 (not in 1 and 5). */
static bool pit_suspended(const struct pit_counter *c)
{
    return !c->gate && !pit_one_shot_hw(c);
}

/* Clocks the CE has counted since it was loaded, as of tick t. */
static uint64_t pit_elapsed(const struct pit_counter *c, uint64_t t)
{
    uint64_t end = pit_suspended(c) ? c->gate_tick : t;

    return end > c->load_tick ? end - c->load_tick : 0;
}

/* Modes 2 and 3: a count written while counting enters at period end. */
static void pit_catch_up(struct pit_counter *c, uint64_t t)
{
    if (c->reload_tick && t >= c->reload_tick) {
        c->n = c->cr;
        c->load_tick = c->reload_tick;
        c->reload_tick = 0;
        c->null_count = false;
    }
}

/* The OUT pin at tick t (after pit_catch_up). */
static bool pit_out(const struct pit_counter *c, uint64_t t)
{
    uint64_t d = pit_elapsed(c, t);
    uint32_t n = c->n;

    if (!c->loaded)
        return pit_mode(c) != 0; /* mode 0 sets OUT low on the CW */
    switch (pit_mode(c)) {
    case 0:
        return d >= n;
    case 1:
        return !c->triggered || d >= n;
    case 2: /* low for the one clock the count is 1 */
        return pit_suspended(c) || d % n != n - 1;
    case 3: /* high for the first (n + 1) / 2 clocks, low for the rest */
        return pit_suspended(c) || d % n < (n + 1) / 2;
    case 4:
        return d != n;
    default:
        return !c->triggered || d != n;
    }
}

/* The CE value at tick t, in binary (65536 / 10000 read as 0). */
static uint32_t pit_count(const struct pit_counter *c, uint64_t t)
{
    uint64_t d = pit_elapsed(c, t);
    uint32_t m = pit_modulus(c);
    uint32_t n = c->n;

    if (!c->loaded || n == 0 || (pit_one_shot_hw(c) && !c->triggered))
        return c->cr % m; /* the CE is not running: show the count */
    switch (pit_mode(c)) {
    case 2:
        return (n - d % n) % m;
    case 3: /* the CE counts down by two */
        return (n - (2 * d) % n) % m;
    default: /* one-shots keep counting and wrap */
        return (n + m - d % m) % m;
    }
}

/* The first tick after t at which OUT rises, or PIT_NEVER. */
static uint64_t pit_next_rise(const struct pit_counter *c, uint64_t t)
{
    uint64_t d = pit_elapsed(c, t), base = c->load_tick, rise;
    uint32_t n = c->n;

    if (!c->loaded || pit_suspended(c) || n == 0)
        return PIT_NEVER;
    switch (pit_mode(c)) {
    case 0:
    case 1:
        rise = d < n ? base + n : PIT_NEVER;
        break;
    case 2:
    case 3:
        rise = base + (d / n + 1) * n;
        break;
    default: /* 4, 5: high again one clock after the count reaches 0 */
        rise = d < n + 1 ? base + n + 1 : PIT_NEVER;
        break;
    }
    if (pit_one_shot_hw(c) && !c->triggered)
        return PIT_NEVER;
    if (c->reload_tick > t && c->reload_tick < rise)
        rise = c->reload_tick;
    return rise;
}

/* Mode 3 only: the first tick after t at which OUT falls. Other modes
 * lower OUT on a write or a trigger, never on their own. */
static uint64_t pit_next_fall(const struct pit_counter *c, uint64_t t)
{
    uint64_t d = pit_elapsed(c, t), period;
    uint32_t n = c->n, high = (n + 1) / 2;

    if (!c->loaded || pit_suspended(c) || n == 0 || pit_mode(c) != 3)
        return PIT_NEVER;
    period = c->load_tick + d - d % n;
    return d % n < high ? period + high : period + n + high;
}

static void pit_irq_drive(struct pit *p, int level)
{
    p->host.irq_level = level;
    irq_set(&p->host.irq0, level);
}

/*
 * Modes 2, 4 and 5 hold OUT low for a single clock (838 ns), finer than we
 * ever sample, so each rising edge is sent as a pulse and the line rests
 * low; the PIC latches IRQ 0 on the edge. Modes 0, 1 and 3 drive the level,
 * replaying a rising edge that fell between two updates.
 */
static void pit_irq_sync(struct pit *p, bool rose, bool level)
{
    unsigned mode = pit_mode(&p->regs.c[0]);

    if (mode == 2 || mode == 4 || mode == 5) {
        if (rose) {
            if (p->host.irq_level)
                pit_irq_drive(p, 0);
            pit_irq_drive(p, 1);
        }
        if (p->host.irq_level)
            pit_irq_drive(p, 0);
        return;
    }
    if (rose) {
        if (p->host.irq_level)
            pit_irq_drive(p, 0);
        pit_irq_drive(p, 1);
    }
    if (p->host.irq_level != level)
        pit_irq_drive(p, level);
}

/* Periodic modes: rising edges in (from, t] beyond the first, which the
 * PIC could not latch separately. At most a second's worth is kept. */
static void pit_count_lost(struct pit *p, uint64_t from, uint64_t t)
{
    struct pit_counter *c = &p->regs.c[0];
    unsigned mode = pit_mode(c);
    uint64_t first = pit_next_rise(c, from), lost, max;

    if ((mode != 2 && mode != 3) || c->n == 0 || first > t)
        return;
    lost = (t - first) / c->n;
    max = PIT_HZ / c->n + 1;
    p->host.lost = (uint32_t)(p->host.lost + lost > max ? max
                                                        : p->host.lost + lost);
}

void pit_update(struct pit *p)
{
    struct pit_counter *c = &p->regs.c[0];
    uint64_t t = pit_now_tick(p), from = p->host.irq_tick;
    bool rose;

    rose = c->reload_tick > from && c->reload_tick <= t;
    pit_catch_up(c, t);
    if (c->load_tick > from)
        from = c->load_tick;
    else if (!rose)
        pit_count_lost(p, from, t);
    rose = rose || pit_next_rise(c, from) <= t;
    /* an unprogrammed counter leaves IRQ 0 low, so no edge at boot */
    pit_irq_sync(p, rose, c->loaded && pit_out(c, t));
    p->host.irq_tick = t;
}

uint32_t pit_lost_ticks(const struct pit *p)
{
    return p->host.lost;
}

void pit_reinject(struct pit *p)
{
    int level = p->host.irq_level;

    if (!p->host.lost)
        return;
    p->host.lost--;
    if (level)
        pit_irq_drive(p, 0);
    pit_irq_drive(p, 1);
    if (!level)
        pit_irq_drive(p, 0);
}

int64_t pit_next_event_ns(struct pit *p)
{
    struct pit_counter *c = &p->regs.c[0];
    uint64_t t = pit_now_tick(p), next, fall;

    pit_catch_up(c, t);
    next = pit_next_rise(c, t);
    fall = pit_next_fall(c, t);
    if (fall < next)
        next = fall;
    return next == PIT_NEVER ? -1 : (int64_t)pit_tick_ns(next);
}

static uint32_t pit_bcd_to_bin(uint32_t raw)
{
    return (raw & 0xF) + ((raw >> 4) & 0xF) * 10 + ((raw >> 8) & 0xF) * 100 +
           ((raw >> 12) & 0xF) * 1000;
}

static uint16_t pit_bin_to_bcd(uint32_t v)
{
    return (v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
           (v / 1000 % 10) << 12;
}

/* The CE as a read sees it: binary, or four BCD digits. */
static uint16_t pit_count_raw(const struct pit_counter *c, uint64_t t)
{
    uint32_t v = pit_count(c, t);

    return (c->control & CW_BCD) ? pit_bin_to_bcd(v) : (uint16_t)v;
}

/* Put cr into the CE now (modes 1 and 5 wait for a trigger for this). */
static void pit_start(struct pit_counter *c, uint64_t t)
{
    c->n = c->cr;
    c->load_tick = t;
    c->reload_tick = 0;
    c->null_count = false;
}

/*
 * A complete count was written. Modes 0 and 4 restart with it at once.
 * Modes 2 and 3 keep the period under way and take it at its end (the
 * datasheet says mode 3 takes it at the end of the half-cycle; we use the
 * full period). Modes 1 and 5 take it at the next gate trigger.
 */
static void pit_load(struct pit_counter *c, uint64_t t, uint32_t raw)
{
    uint32_t value = (c->control & CW_BCD) ? pit_bcd_to_bin(raw) : raw;
    unsigned mode = pit_mode(c);
    bool counting = c->loaded && !pit_suspended(c) && c->n;

    c->cr = value ? value : pit_modulus(c);
    c->null_count = true;
    if (mode == 1 || mode == 5) {
        c->loaded = true;
    } else if ((mode == 2 || mode == 3) && counting) {
        if (!c->reload_tick) {
            uint64_t d = pit_elapsed(c, t);

            c->reload_tick = c->load_tick + (d / c->n + 1) * c->n;
        }
    } else {
        pit_start(c, t);
        c->loaded = true;
        if (!c->gate)
            c->gate_tick = t;
    }
}

static void pit_write_count(struct pit_counter *c, uint64_t t, uint8_t value)
{
    switch (pit_rw(c)) {
    case RW_LSB:
        pit_load(c, t, value);
        break;
    case RW_MSB:
        pit_load(c, t, (uint32_t)value << 8);
        break;
    case RW_WORD:
        if (!c->write_msb) {
            c->write_lsb = value;
            c->write_msb = true;
        } else {
            c->write_msb = false;
            pit_load(c, t, c->write_lsb | (uint32_t)value << 8);
        }
        break;
    default: /* never programmed */
        break;
    }
}

/* A later latch command is ignored until the latched value is read. */
static void pit_latch_count(struct pit_counter *c, uint64_t t)
{
    if (c->count_latched)
        return;
    c->latch = pit_count_raw(c, t);
    c->count_latched = true;
    c->read_msb = false;
}

static void pit_latch_status(struct pit_counter *c, uint64_t t)
{
    if (c->status_latched)
        return;
    c->status = (pit_out(c, t) ? ST_OUTPUT : 0) |
                (c->null_count ? ST_NULL_COUNT : 0) | c->control;
    c->status_latched = true;
}

static void pit_read_back(struct pit_regs *r, uint64_t t, uint8_t value)
{
    for (int i = 0; i < 3; i++) {
        if (!(value & (RB_CNT0 << i)))
            continue;
        if (!(value & RB_COUNT))
            pit_latch_count(&r->c[i], t);
        if (!(value & RB_STATUS))
            pit_latch_status(&r->c[i], t);
    }
}

/* A control word stops the counter until a new count is written. */
static void pit_write_control(struct pit_regs *r, uint64_t t, uint8_t value)
{
    unsigned sc = value >> CW_SC_SHIFT;
    struct pit_counter *c;

    if (sc == CW_READBACK) {
        pit_read_back(r, t, value);
        return;
    }
    c = &r->c[sc];
    if (((value >> CW_RW_SHIFT) & 3) == RW_LATCH) {
        pit_latch_count(c, t);
        return;
    }
    c->control = value & CW_FIELDS;
    c->loaded = false;
    c->triggered = false;
    c->null_count = true;
    c->write_msb = false;
    c->read_msb = false;
    c->reload_tick = 0;
    c->count_latched = false;
    c->status_latched = false;
}

/*
 * GATE input. Modes 0 and 4 pause while it is low and go on from where
 * they were; modes 2 and 3 hold OUT high and restart on the rising edge;
 * in modes 1 and 5 the rising edge (re)triggers the count.
 */
static void pit_set_gate(struct pit_counter *c, uint64_t t, bool level)
{
    unsigned mode = pit_mode(c);
    uint64_t done;

    if (level == c->gate)
        return;
    if (!level) {
        c->gate_tick = t;
        c->gate = false;
        return;
    }
    done = pit_elapsed(c, t);
    c->gate = true;
    if (!c->loaded)
        return;
    if (mode == 0 || mode == 4) {
        c->load_tick = t - done;
    } else {
        pit_start(c, t);
        c->triggered = true;
    }
}

/* One byte from a counter port: latched status first, then a latched
 * count, else the live CE, a byte at a time as RW says. */
static uint8_t pit_read_counter(struct pit_counter *c, uint64_t t)
{
    uint16_t v;
    bool msb;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    v = c->count_latched ? c->latch : pit_count_raw(c, t);
    switch (pit_rw(c)) {
    case RW_MSB:
        msb = true;
        break;
    case RW_WORD:
        msb = c->read_msb;
        c->read_msb = !c->read_msb;
        break;
    default:
        msb = false;
        break;
    }
    if (pit_rw(c) != RW_WORD || !c->read_msb)
        c->count_latched = false;
    return msb ? v >> 8 : v & 0xFF;
}

/* The 8254 has an 8-bit data bus: a wider access is byte cycles. */
static uint32_t pit_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pit *p = opaque;
    uint64_t t = pit_now_tick(p);
    uint32_t value = 0;

    for (unsigned i = 0; i < size; i++) {
        uint32_t reg = offset + i;
        uint8_t b = 0xFF; /* the control word register is write-only */

        if (reg < PIT_CONTROL) {
            pit_catch_up(&p->regs.c[reg], t);
            b = pit_read_counter(&p->regs.c[reg], t);
        }
        value |= (uint32_t)b << (8 * i);
    }
    return value;
}

static void pit_io_write(void *opaque, uint32_t offset, unsigned size,
                         uint32_t value)
{
    struct pit *p = opaque;
    uint64_t t = pit_now_tick(p);

    pit_update(p); /* IRQ0 up to now under the old programming */
    for (int n = 0; n < 3; n++)
        pit_catch_up(&p->regs.c[n], t);
    for (unsigned i = 0; i < size; i++) {
        uint32_t reg = offset + i;
        uint8_t b = value >> (8 * i);

        if (reg == PIT_CONTROL)
            pit_write_control(&p->regs, t, b);
        else if (reg < PIT_CONTROL)
            pit_write_count(&p->regs.c[reg], t, b);
        if (reg == 0)
            p->host.lost = 0; /* a new count: the old periods are moot */
    }
    pit_update(p); /* and the level the new programming sets */
}

/*
 * Port 0x61 is shared: the bits other than ours read back as written (the
 * parity and I/O check enables); the SERR / IOCHK status bits 6-7 read 0
 * since nothing raises NMI. Linux's PIT calibration gates counter 2 through
 * bit 0 and polls OUT2 in bit 5 for the end of a mode 0 count.
 */
static uint32_t pit_port61_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pit *p = opaque;
    struct pit_counter *c2 = &p->regs.c[2];
    uint64_t t = pit_now_tick(p);
    uint8_t value = p->regs.port61 & P61_KEPT;

    pit_catch_up(c2, t);
    if ((p->host.now_ns(p->host.opaque) / REFRESH_NS) & 1)
        value |= P61_REFRESH;
    if (pit_out(c2, t))
        value |= P61_OUT2;
    return value;
}

static void pit_port61_write(void *opaque, uint32_t offset, unsigned size,
                             uint32_t value)
{
    struct pit *p = opaque;
    uint64_t t = pit_now_tick(p);

    pit_catch_up(&p->regs.c[2], t);
    p->regs.port61 = value;
    pit_set_gate(&p->regs.c[2], t, value & P61_GATE2);
}

static const struct io_ops pit_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
};

static const struct io_ops pit_port61_ops = {
    .read = pit_port61_read,
    .write = pit_port61_write,
};

/*
 * The bus has no unregister: if it refuses port 0x61 after 0x40-0x43 were
 * claimed, those still point at p, so p is left allocated and NULL returned.
 */
struct pit *pit_create(struct io_bus *bus, struct irq_line irq0,
                       uint64_t (*now_ns)(void *opaque), void *opaque)
{
    struct pit *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->host = (struct pit_host){
        .bus = bus,
        .irq0 = irq0,
        .now_ns = now_ns,
        .opaque = opaque,
    };
    pit_reset(p);
    if (bus_register(bus, PIT_BASE, PIT_NPORTS, &pit_ops, p, "pit") < 0) {
        free(p);
        return NULL;
    }
    if (bus_register(bus, PORT61, 1, &pit_port61_ops, p, "port61") < 0)
        return NULL;
    return p;
}

/*
 * Counters wait for a control word and a count (the BIOS or the kernel
 * programs them); counters 0 and 1 have their gates tied high on a PC.
 */
void pit_reset(struct pit *p)
{
    memset(&p->regs, 0, sizeof(p->regs));
    for (int n = 0; n < 3; n++) {
        p->regs.c[n].control = RW_WORD << CW_RW_SHIFT | 3 << CW_MODE_SHIFT;
        p->regs.c[n].gate = n != 2;
    }
    p->host.irq_tick = pit_now_tick(p);
    p->host.lost = 0;
    pit_irq_drive(p, 0); /* see pit_update */
}

void pit_destroy(struct pit *p)
{
    free(p);
}
