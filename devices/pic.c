/* SPDX-License-Identifier: MIT */
/* Two cascaded 8259A PICs and the PIIX ELCR, after the 8259A datasheet. */
#include "devices/pic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Registers: ports of each chip, and the ELCR */
#define PIC_MASTER_BASE 0x20  /* master: A0 = 0 ICW1/OCW2/OCW3, A0 = 1 data */
#define PIC_SLAVE_BASE  0xA0  /* slave, the same two ports */
#define PIC_NPORTS      2     /* A0 = 1 is ICW2-4, then OCW1 (IMR) */
#define PIC_ELCR_BASE   0x4D0 /* ELCR1 (IRQ 0-7), ELCR2 (IRQ 8-15) */
#define PIC_ELCR_NPORTS 2
#define PIC_CASCADE_IR  2 /* master input the slave's INT drives */
#define PIC_SPURIOUS_IR 7 /* the IR a chip reports when nothing is left */

/*
 * The ELCR bits that can be set: on PIIX, IRQ 0, 1, 2, 8 and 13 are always
 * edge (timer, keyboard, cascade, RTC, FPU error). Linux programs level mode
 * here for PCI interrupts, which are shared and active low.
 */
#define ELCR1_MASK 0xF8
#define ELCR2_MASK 0xDE

/* Commands: ICW1 (written to A0 = 0 with D4 = 1) */
#define ICW1_IC4  0x01 /* ICW4 needed */
#define ICW1_SNGL 0x02 /* single chip, no ICW3 */
#define ICW1_LTIM 0x08 /* level triggered (ignored: the ELCR decides) */
#define ICW1_INIT 0x10 /* this is ICW1 */

/* Commands: ICW4 */
#define ICW4_UPM  0x01 /* 8086 mode (8080 CALL vectors are not emulated) */
#define ICW4_AEOI 0x02 /* automatic EOI */
#define ICW4_SFNM 0x10 /* special fully nested mode */

/* Commands: OCW2 (A0 = 0, D4 = D3 = 0), R SL EOI in bits 7-5 */
#define OCW2_LEVEL           0x07 /* L2-L0: the IR a specific command names */
#define OCW2_CMD             0xE0
#define OCW2_ROTATE_AEOI_CLR 0x00 /* clear rotate in AEOI mode */
#define OCW2_EOI             0x20 /* non-specific EOI */
#define OCW2_SPECIFIC_EOI    0x60
#define OCW2_ROTATE_AEOI_SET 0x80 /* set rotate in AEOI mode */
#define OCW2_ROTATE_EOI      0xA0 /* rotate on non-specific EOI */
#define OCW2_SET_PRIORITY    0xC0 /* L becomes the lowest priority */
#define OCW2_ROTATE_SPECIFIC 0xE0 /* rotate on specific EOI */

/* Commands: OCW3 (A0 = 0, D4 = 0, D3 = 1) */
#define OCW3_SELECT 0x08 /* this is OCW3 */
#define OCW3_RIS    0x01 /* read ISR (0: IRR) when RR is set */
#define OCW3_RR     0x02 /* act on RIS */
#define OCW3_P      0x04 /* poll command */
#define OCW3_SMM    0x20 /* special mask mode on (0: off) when ESMM is set */
#define OCW3_ESMM   0x40 /* act on SMM */

/* Status: the poll word */
#define POLL_INT 0x80 /* an interrupt was pending; IR in bits 2-0 */

/* Where the chip is in the ICW sequence. */
enum pic_init {
    PIC_READY, /* initialised: A0 = 1 writes are OCW1 */
    PIC_ICW2,  /* ICW1 seen, ICW2 next */
    PIC_ICW3,
    PIC_ICW4,
};

/* Guest-visible state of one 8259A. */
struct pic_chip {
    uint8_t irr;       /* interrupt request register */
    uint8_t isr;       /* in-service register */
    uint8_t imr;       /* interrupt mask register (OCW1) */
    uint8_t lines;     /* IR input levels, for edge detection */
    uint8_t elcr;      /* edge/level control: 1 = level (PIIX ELCR) */
    uint8_t icw2;      /* vector base, T7-T3 */
    uint8_t icw3;      /* master: slave inputs; slave: its ID */
    uint8_t icw4;      /* uPM, AEOI, SFNM bits as written */
    uint8_t lowest;    /* the IR of lowest priority (7 after init) */
    uint8_t init;      /* enum pic_init */
    bool icw4_needed;  /* ICW1 IC4 */
    bool single;       /* ICW1 SNGL */
    bool read_isr;     /* OCW3 RIS: A0 = 0 reads return ISR */
    bool poll;         /* OCW3 P: the next read is the poll word */
    bool special_mask; /* OCW3 SMM: masked IRs do not block lower ones */
    bool rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
};

struct pic {
    struct pic_chip chip[2]; /* master, slave: what a snapshot saves */
    struct io_bus *bus;      /* host: the bus our ports are claimed on */
};

/*
 * Priority rank of the IRs set in mask (0 = highest), or 8 for none. After
 * a rotation the IR after `lowest` has the highest priority.
 */
static int pic_rank(const struct pic_chip *c, uint8_t mask)
{
    for (int rank = 0; rank < 8; rank++) {
        if (mask & (1u << ((c->lowest + 1 + rank) & 7)))
            return rank;
    }
    return 8;
}

static int pic_rank_to_ir(const struct pic_chip *c, int rank)
{
    return (c->lowest + 1 + rank) & 7;
}

/*
 * The IR this chip would interrupt for, or -1: the highest unmasked request
 * that outranks everything in service. In special mask mode a masked IR in
 * service does not block; in special fully nested mode the master lets the
 * slave interrupt over its own in-service cascade input.
 */
static int pic_chip_pending(const struct pic_chip *c, bool master)
{
    uint8_t in_service = c->isr;
    int req = pic_rank(c, c->irr & ~c->imr);

    if (req == 8)
        return -1;
    if (c->special_mask)
        in_service &= ~c->imr;
    if (master && (c->icw4 & ICW4_SFNM))
        in_service &= ~(1u << PIC_CASCADE_IR);
    return req < pic_rank(c, in_service) ? pic_rank_to_ir(c, req) : -1;
}

/* The highest-priority IR in service (for a non-specific EOI), or -1. */
static int pic_chip_highest_isr(const struct pic_chip *c)
{
    int rank = pic_rank(c, c->isr);

    return rank == 8 ? -1 : pic_rank_to_ir(c, rank);
}

/*
 * The slave's INT output is the master's IR2. It is followed as a level so
 * that a slave request withdrawn before INTA withdraws the master's request
 * too, which gives the spurious IRQ 7 the datasheet describes.
 */
static void pic_update_cascade(struct pic *p)
{
    struct pic_chip *m = &p->chip[0];
    uint8_t bit = 1u << PIC_CASCADE_IR;

    if (pic_chip_pending(&p->chip[1], false) >= 0)
        m->irr |= bit;
    else
        m->irr &= ~bit;
}

/*
 * One IR input changes. Level mode: IRR follows the line. Edge mode: a
 * rising edge latches the request and it stays latched until INTA, even if
 * the line falls, because our devices pulse their lines (raise then lower)
 * in one go where hardware would hold them for the INTA cycle.
 */
static void pic_chip_set_line(struct pic_chip *c, int ir, int level)
{
    uint8_t bit = 1u << ir;

    if (c->elcr & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit;
    }
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
}

void pic_set_irq(struct pic *p, int irq, int level)
{
    if (irq < 0 || irq > 15)
        return;
    pic_chip_set_line(&p->chip[irq >> 3], irq & 7, level != 0);
    pic_update_cascade(p);
}

static void pic_line_set(void *opaque, int irq, int level)
{
    pic_set_irq(opaque, irq, level);
}

struct irq_line pic_irq_line(struct pic *p, int irq)
{
    return (struct irq_line){pic_line_set, p, irq};
}

bool pic_irq_requested(const struct pic *p, int irq)
{
    return (p->chip[irq >> 3].irr >> (irq & 7)) & 1;
}

bool pic_intr(const struct pic *p)
{
    return pic_chip_pending(&p->chip[0], true) >= 0;
}

/* One chip's INTA: IRR to ISR (or AEOI), an edge request is consumed. */
static void pic_chip_ack(struct pic_chip *c, int ir)
{
    uint8_t bit = 1u << ir;

    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_aeoi)
            c->lowest = ir;
    } else {
        c->isr |= bit;
    }
    if (!(c->elcr & bit))
        c->irr &= ~bit;
}

/*
 * The master answers the first INTA; for its cascade input the slave puts
 * its vector on the bus instead. A chip with nothing left (the request went
 * away before INTA) answers with IR7 and sets no ISR bit: Linux counts these
 * as spurious IRQ 7 / 15 and checks ISR before treating them as real.
 */
int pic_acknowledge(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int ir = pic_chip_pending(m, true);
    int slave_ir;

    if (ir < 0)
        return m->icw2 + PIC_SPURIOUS_IR;
    if (ir != PIC_CASCADE_IR || m->single) {
        pic_chip_ack(m, ir);
        return m->icw2 + ir;
    }
    slave_ir = pic_chip_pending(s, false);
    pic_chip_ack(m, ir);
    if (slave_ir < 0)
        slave_ir = PIC_SPURIOUS_IR;
    else
        pic_chip_ack(s, slave_ir);
    pic_update_cascade(p);
    return s->icw2 + slave_ir;
}

/*
 * ICW1 restarts initialisation: the edge sense latches are reset, IMR is
 * cleared, IR7 becomes lowest priority, special mask mode is cleared and
 * reads select IRR. Without IC4 every ICW4 function is zero.
 */
static void pic_write_icw1(struct pic_chip *c, uint8_t value)
{
    c->irr &= c->elcr; /* a line still high needs a new edge */
    c->isr = 0;
    c->imr = 0;
    c->lowest = 7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->icw4 = 0;
    c->icw4_needed = value & ICW1_IC4;
    c->single = value & ICW1_SNGL;
    c->init = PIC_ICW2;
}

static void pic_write_ocw2(struct pic_chip *c, uint8_t value)
{
    int level = value & OCW2_LEVEL;
    int ir;

    switch (value & OCW2_CMD) {
    case OCW2_ROTATE_AEOI_CLR:
    case OCW2_ROTATE_AEOI_SET:
        c->rotate_aeoi = (value & OCW2_CMD) == OCW2_ROTATE_AEOI_SET;
        break;
    case OCW2_EOI:
    case OCW2_ROTATE_EOI:
        ir = pic_chip_highest_isr(c);
        if (ir < 0)
            break;
        c->isr &= ~(1u << ir);
        if ((value & OCW2_CMD) == OCW2_ROTATE_EOI)
            c->lowest = ir;
        break;
    case OCW2_SPECIFIC_EOI:
    case OCW2_ROTATE_SPECIFIC:
        c->isr &= ~(1u << level);
        if ((value & OCW2_CMD) == OCW2_ROTATE_SPECIFIC)
            c->lowest = level;
        break;
    case OCW2_SET_PRIORITY:
        c->lowest = level;
        break;
    default: /* 0x40: no operation */
        break;
    }
}

static void pic_write_ocw3(struct pic_chip *c, uint8_t value)
{
    if (value & OCW3_RR)
        c->read_isr = value & OCW3_RIS;
    if (value & OCW3_ESMM)
        c->special_mask = value & OCW3_SMM;
    c->poll = value & OCW3_P;
}

/* A0 = 1: the ICW sequence, then OCW1. */
static void pic_write_data(struct pic_chip *c, uint8_t value)
{
    switch (c->init) {
    case PIC_ICW2:
        c->icw2 = value & 0xF8; /* T2-T0 come from the IR in 8086 mode */
        if (!c->single)
            c->init = PIC_ICW3;
        else
            c->init = c->icw4_needed ? PIC_ICW4 : PIC_READY;
        break;
    case PIC_ICW3:
        c->icw3 = value;
        c->init = c->icw4_needed ? PIC_ICW4 : PIC_READY;
        break;
    case PIC_ICW4:
        c->icw4 = value;
        c->init = PIC_READY;
        break;
    default:
        c->imr = value;
        break;
    }
}

static void pic_write_reg(struct pic_chip *c, uint32_t offset, uint8_t value)
{
    if (offset == 1)
        pic_write_data(c, value);
    else if (value & ICW1_INIT)
        pic_write_icw1(c, value);
    else if (value & OCW3_SELECT)
        pic_write_ocw3(c, value);
    else
        pic_write_ocw2(c, value);
}

/*
 * After a poll command the next read is the poll word, and the highest
 * request is acknowledged as by INTA (the CPU has interrupts off).
 */
static uint8_t pic_read_poll(struct pic_chip *c, bool master)
{
    int ir = pic_chip_pending(c, master);

    c->poll = false;
    if (ir < 0)
        return 0;
    pic_chip_ack(c, ir);
    return POLL_INT | ir;
}

/*
 * IMR reads back as written: Linux's probe_8259A writes 0xFF and then a
 * pattern to the master IMR and decides there is no PIC if it does not read
 * back.
 */
static uint8_t pic_read_reg(struct pic_chip *c, uint32_t offset, bool master)
{
    if (c->poll)
        return pic_read_poll(c, master);
    if (offset == 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

/* The 8259A has an 8-bit data bus: a wider access is byte cycles. */
static uint32_t pic_io_read(struct pic *p, int chip, uint32_t offset,
                            unsigned size)
{
    uint32_t value = 0;

    for (unsigned i = 0; i < size; i++) {
        uint8_t b = pic_read_reg(&p->chip[chip], (offset + i) & 1, chip == 0);

        value |= (uint32_t)b << (8 * i);
    }
    pic_update_cascade(p);
    return value;
}

static void pic_io_write(struct pic *p, int chip, uint32_t offset,
                         unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size; i++)
        pic_write_reg(&p->chip[chip], (offset + i) & 1, value >> (8 * i));
    pic_update_cascade(p);
}

static uint32_t pic_master_read(void *opaque, uint32_t offset, unsigned size)
{
    return pic_io_read(opaque, 0, offset, size);
}

static void pic_master_write(void *opaque, uint32_t offset, unsigned size,
                             uint32_t value)
{
    pic_io_write(opaque, 0, offset, size, value);
}

static uint32_t pic_slave_read(void *opaque, uint32_t offset, unsigned size)
{
    return pic_io_read(opaque, 1, offset, size);
}

static void pic_slave_write(void *opaque, uint32_t offset, unsigned size,
                            uint32_t value)
{
    pic_io_write(opaque, 1, offset, size, value);
}

static const uint8_t pic_elcr_mask[2] = {ELCR1_MASK, ELCR2_MASK};

static uint32_t pic_elcr_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pic *p = opaque;
    uint32_t value = 0;

    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)p->chip[(offset + i) & 1].elcr << (8 * i);
    return value;
}

/* A line switched to level mode is requested at once if it is high. */
static void pic_elcr_write(void *opaque, uint32_t offset, unsigned size,
                           uint32_t value)
{
    struct pic *p = opaque;

    for (unsigned i = 0; i < size; i++) {
        unsigned n = (offset + i) & 1;
        struct pic_chip *c = &p->chip[n];

        c->elcr = (value >> (8 * i)) & pic_elcr_mask[n];
        c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
    }
    pic_update_cascade(p);
}

static const struct io_ops pic_master_ops = {
    .read = pic_master_read,
    .write = pic_master_write,
};

static const struct io_ops pic_slave_ops = {
    .read = pic_slave_read,
    .write = pic_slave_write,
};

static const struct io_ops pic_elcr_ops = {
    .read = pic_elcr_read,
    .write = pic_elcr_write,
};

/*
 * The bus has no unregister: if it refuses a later range, the ranges
 * already claimed still point at p, so p is then left allocated (never
 * freed under the bus's feet) and NULL is returned.
 */
struct pic *pic_create(struct io_bus *bus)
{
    struct pic *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->bus = bus;
    pic_reset(p);
    if (bus_register(bus, PIC_MASTER_BASE, PIC_NPORTS, &pic_master_ops, p,
                     "pic-master") < 0) {
        free(p);
        return NULL;
    }
    if (bus_register(bus, PIC_SLAVE_BASE, PIC_NPORTS, &pic_slave_ops, p,
                     "pic-slave") < 0 ||
        bus_register(bus, PIC_ELCR_BASE, PIC_ELCR_NPORTS, &pic_elcr_ops, p,
                     "elcr") < 0)
        return NULL;
    return p;
}

void pic_reset(struct pic *p)
{
    for (int n = 0; n < 2; n++) {
        struct pic_chip *c = &p->chip[n];
        uint8_t lines = c->lines;

        memset(c, 0, sizeof(*c));
        c->lines = lines;
        c->lowest = 7;
    }
}

void pic_destroy(struct pic *p)
{
    free(p);
}
