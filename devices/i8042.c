/* SPDX-License-Identifier: MIT */
/*
 * Intel 8042 keyboard controller in PS/2 mode with an MF2 keyboard behind
 * it, an AUX port with nothing plugged in, and port 0x92, which shares the
 * A20 gate and the reset line with the 8042's output port.
 */
#include "devices/i8042.h"

#include <stdlib.h>
#include <string.h>

/* Registers: ports */
#define I8042_DATA   0x60 /* output buffer (read), input buffer (write) */
#define I8042_STATUS 0x64 /* status register (read), command (write) */
#define PORT92       0x92 /* system control port A */

#define RAM_SIZE       32 /* controller RAM the 0x20 and 0x60 commands reach */
#define KBD_QUEUE_SIZE 16 /* a PS/2 keyboard buffers 16 bytes */
#define KBD_KEY_ROOM   12 /* host keys leave room for a command's replies */

/* Commands: controller commands, written to port 0x64 */
#define CMD_READ_RAM       0x20 /* 0x20-0x3F: read RAM byte n (0: CTR) */
#define CMD_WRITE_RAM      0x60 /* 0x60-0x7F: write RAM byte n from data */
#define CMD_RAM_INDEX      0x1F
#define CMD_AUX_DISABLE    0xA7
#define CMD_AUX_ENABLE     0xA8
#define CMD_AUX_TEST       0xA9 /* aux interface test */
#define CMD_SELF_TEST      0xAA /* controller self test */
#define CMD_KBD_TEST       0xAB /* keyboard interface test */
#define CMD_KBD_DISABLE    0xAD
#define CMD_KBD_ENABLE     0xAE
#define CMD_READ_OUTPUT    0xD0
#define CMD_WRITE_OUTPUT   0xD1 /* data byte to the output port */
#define CMD_WRITE_KBD_OBUF 0xD2 /* data byte back as if from the keyboard */
#define CMD_WRITE_AUX_OBUF 0xD3 /* data byte back as if from aux: loopback */
#define CMD_WRITE_AUX      0xD4 /* data byte to the aux device */
#define CMD_A20_DISABLE    0xDD
#define CMD_A20_ENABLE     0xDF
#define CMD_PULSE          0xF0 /* 0xF0-0xFF: pulse output bits 0-3 low */

/* Commands: controller replies */
#define REPLY_SELF_TEST_OK 0x55
#define REPLY_TEST_OK      0x00 /* interface tests: no error */
#define REPLY_AUX_TIMEOUT  0xFE /* with STR_TIMEOUT: no aux device clocked */

/* Commands: the command byte (CTR), controller RAM byte 0 */
#define CTR_KBDINT 0x01 /* IRQ 1 when keyboard data is in the buffer */
#define CTR_AUXINT 0x02 /* IRQ 12 when aux data is in the buffer */
#define CTR_SYS    0x04 /* system flag, copied to the status register */
#define CTR_KBDDIS 0x10 /* keyboard clock inhibited */
#define CTR_AUXDIS 0x20 /* aux clock inhibited */
#define CTR_XLATE  0x40 /* translate keyboard set 2 codes to set 1 */
#define CTR_POST   (CTR_XLATE | CTR_SYS | CTR_KBDINT) /* as a BIOS leaves it */

/* Commands: the output port */
#define OUT_RESET    0x01 /* 0 holds the CPU in reset */
#define OUT_A20      0x02 /* A20 gate */
#define OUT_KBD_OBF  0x10 /* wired to IRQ 1 */
#define OUT_AUX_OBF  0x20 /* wired to IRQ 12 */
#define OUT_POWER_ON 0xCF /* reset high, A20 on, clock and data lines high */

/* Commands: port 0x92 */
#define P92_FAST_RESET 0x01 /* 0 to 1 pulses the CPU reset line */
#define P92_A20        0x02 /* alternate A20 gate */

/* Status: the status register */
#define STR_OBF      0x01 /* output buffer full */
#define STR_IBF      0x02 /* input buffer full: never, commands run at once */
#define STR_SYS      0x04 /* system flag: set by the self test or the CTR */
#define STR_CMD      0x08 /* A2: the last write was to port 0x64 */
#define STR_UNLOCKED 0x10 /* keyboard inhibit switch off */
#define STR_AUXDATA  0x20 /* the byte in the buffer is from the aux port */
#define STR_TIMEOUT  0x40 /* the device did not answer */

/* Commands: keyboard commands, data bytes written to port 0x60 */
#define KBD_SET_LEDS  0xED /* operand: Scroll, Num, Caps Lock bits */
#define KBD_ECHO      0xEE
#define KBD_SCANCODE  0xF0 /* operand: set 1-3, or 0 to ask */
#define KBD_GET_ID    0xF2
#define KBD_TYPEMATIC 0xF3 /* operand: delay and rate */
#define KBD_ENABLE    0xF4
#define KBD_DISABLE   0xF5 /* defaults, and stop scanning */
#define KBD_DEFAULTS  0xF6
#define KBD_RESET     0xFF
#define KBD_FIRST_CMD KBD_SET_LEDS /* no operand is this large */

/* Status: keyboard replies and defaults */
#define KBD_ACK               0xFA
#define KBD_RESEND            0xFE /* not understood: send again */
#define KBD_BAT_OK            0xAA /* basic assurance test passed */
#define KBD_ID_FIRST          0xAB
#define KBD_ID_MF2            0x83 /* the second ID byte of an MF2 keyboard */
#define KBD_OVERRUN           0xFF /* buffer overrun, in set 1 */
#define KBD_LEDS              0x07
#define KBD_TYPEMATIC_MASK    0x7F
#define KBD_TYPEMATIC_DEFAULT 0x2B /* 10.9 characters/s after 500 ms */
#define KBD_DEFAULT_SET       2

/* A byte FIFO: the keyboard's buffer. */
struct i8042_queue {
    uint8_t data[KBD_QUEUE_SIZE];
    uint8_t head;  /* index of the oldest byte */
    uint8_t count; /* bytes waiting */
};

/* Guest-visible state of the keyboard. */
struct i8042_kbd {
    struct i8042_queue out; /* bytes not yet clocked to the controller */
    uint8_t cmd;            /* command waiting for its operand, or 0 */
    uint8_t leds;           /* Scroll, Num and Caps Lock LEDs */
    uint8_t typematic;      /* typematic delay and rate */
    uint8_t set;            /* scan code set, 1-3 */
    bool scanning;          /* sending key codes */
};

/* Guest-visible state of the controller and port 0x92. */
struct i8042_regs {
    uint8_t ram[RAM_SIZE]; /* controller RAM; byte 0 is the CTR */
    uint8_t status;        /* the SYS and CMD bits of the status */
    uint8_t outport;       /* output port, bits 4-5 (read live) clear */
    uint8_t ob;            /* output buffer (kept once read) */
    uint8_t ob_status;     /* OBF, AUXDATA, TIMEOUT of the byte in ob */
    uint8_t reply;         /* controller byte waiting for the buffer */
    uint8_t reply_status;  /* its status bits, 0 when none waits */
    uint8_t pending;       /* command waiting for a data byte, or 0 */
    uint8_t port92;        /* system control port A */
    struct i8042_kbd kbd;  /* the keyboard behind it */
};

/* Host side: wiring and what the IRQ lines were last driven to. */
struct i8042_host {
    struct io_bus *bus;          /* where our ports are claimed */
    struct irq_line irq1;        /* keyboard interrupt */
    struct irq_line irq12;       /* aux interrupt */
    void (*reset)(void *opaque); /* pulses the CPU reset line */
    void *opaque;                /* passed to reset */
    int irq1_level;              /* level last driven on IRQ 1 */
    int irq12_level;             /* level last driven on IRQ 12 */
};

struct i8042 {
    struct i8042_regs regs; /* what a snapshot saves */
    struct i8042_host host; /* what the board wires up */
};

static void i8042_queue_push(struct i8042_queue *q, uint8_t b)
{
    if (q->count == KBD_QUEUE_SIZE)
        return;
    q->data[(q->head + q->count) % KBD_QUEUE_SIZE] = b;
    q->count++;
}

static uint8_t i8042_queue_pop(struct i8042_queue *q)
{
    uint8_t b = q->data[q->head];

    q->head = (q->head + 1) % KBD_QUEUE_SIZE;
    q->count--;
    return b;
}

/* The IRQ lines follow the output buffer and the CTR's enables. */
static int i8042_irq1(const struct i8042_regs *g)
{
    return (g->ob_status & STR_OBF) && !(g->ob_status & STR_AUXDATA) &&
           (g->ram[0] & CTR_KBDINT);
}

static int i8042_irq12(const struct i8042_regs *g)
{
    return (g->ob_status & STR_OBF) && (g->ob_status & STR_AUXDATA) &&
           (g->ram[0] & CTR_AUXINT);
}

static void i8042_irq_sync(struct i8042 *k)
{
    int irq1 = i8042_irq1(&k->regs), irq12 = i8042_irq12(&k->regs);

    if (irq1 != k->host.irq1_level) {
        k->host.irq1_level = irq1;
        irq_set(&k->host.irq1, irq1);
    }
    if (irq12 != k->host.irq12_level) {
        k->host.irq12_level = irq12;
        irq_set(&k->host.irq12, irq12);
    }
}

/*
 * Fill an empty output buffer: a controller reply first, then the
 * keyboard's next byte, unless CTR_KBDDIS inhibits its clock, which
 * leaves the bytes waiting in the keyboard.
 */
static void i8042_refill(struct i8042_regs *g)
{
    if (g->ob_status & STR_OBF)
        return;
    if (g->reply_status) {
        g->ob = g->reply;
        g->ob_status = g->reply_status;
        g->reply_status = 0;
    } else if (g->kbd.out.count && !(g->ram[0] & CTR_KBDDIS)) {
        g->ob = i8042_queue_pop(&g->kbd.out);
        g->ob_status = STR_OBF;
    }
}

/*
 * The controller's own byte for the host: a command's result, or a byte
 * the guest asked to have looped back. status is 0 for the keyboard side,
 * STR_AUXDATA (and STR_TIMEOUT) for the aux side. A byte already in the
 * buffer is read first, as QEMU does; Linux flushes before commands.
 */
static void i8042_reply(struct i8042_regs *g, uint8_t b, uint8_t status)
{
    g->reply = b;
    g->reply_status = STR_OBF | status;
}

/*
 * A code the keyboard itself sends, as the host reads it. With CTR_XLATE
 * the controller maps set 2 to set 1; among our keyboard's own replies
 * that changes only these (0xFA, 0xAA, 0xAB, 0xEE, 0xFE pass unchanged).
 */
static uint8_t i8042_kbd_code(const struct i8042_regs *g, uint8_t code)
{
    static const struct {
        uint8_t set2, set1;
    } xlate[] = {
        {0x01, 0x43},       /* "scan code set 1" (set 2's F9) */
        {0x02, 0x41},       /* "scan code set 2" */
        {0x03, 0x3F},       /* "scan code set 3" (set 2's F5) */
        {KBD_ID_MF2, 0x41}, /* the second ID byte (set 2's F7) */
    };

    if (!(g->ram[0] & CTR_XLATE))
        return code;
    for (size_t i = 0; i < sizeof(xlate) / sizeof(xlate[0]); i++)
        if (xlate[i].set2 == code)
            return xlate[i].set1;
    return code;
}

static void i8042_kbd_send(struct i8042_regs *g, uint8_t code)
{
    i8042_queue_push(&g->kbd.out, i8042_kbd_code(g, code));
}

/* Power-on defaults, which F5, F6 and FF restore; the buffer is emptied. */
static void i8042_kbd_defaults(struct i8042_kbd *kb)
{
    memset(&kb->out, 0, sizeof(kb->out));
    kb->cmd = 0;
    kb->leds = 0;
    kb->typematic = KBD_TYPEMATIC_DEFAULT;
    kb->set = KBD_DEFAULT_SET;
    kb->scanning = true;
}

/* The operand of ED, F3 or F0. A bad set number is resent for. */
static void i8042_kbd_operand(struct i8042_regs *g, uint8_t b)
{
    struct i8042_kbd *kb = &g->kbd;
    uint8_t cmd = kb->cmd;

    kb->cmd = 0;
    if (cmd == KBD_SET_LEDS) {
        kb->leds = b & KBD_LEDS;
        i8042_kbd_send(g, KBD_ACK);
    } else if (cmd == KBD_TYPEMATIC) {
        kb->typematic = b & KBD_TYPEMATIC_MASK;
        i8042_kbd_send(g, KBD_ACK);
    } else if (b == 0) {
        i8042_kbd_send(g, KBD_ACK);
        i8042_kbd_send(g, kb->set);
    } else if (b <= 3) {
        kb->set = b;
        i8042_kbd_send(g, KBD_ACK);
    } else {
        kb->cmd = cmd;
        i8042_kbd_send(g, KBD_RESEND);
    }
}

/*
 * A byte from the host for the keyboard. A command byte (0xED and up)
 * where an operand was expected starts the new command, as on real
 * keyboards. Enable, disable, defaults and reset empty the buffer first.
 */
static void i8042_kbd_write(struct i8042_regs *g, uint8_t b)
{
    struct i8042_kbd *kb = &g->kbd;

    if (kb->cmd && b < KBD_FIRST_CMD) {
        i8042_kbd_operand(g, b);
        return;
    }
    kb->cmd = 0;
    switch (b) {
    case KBD_SET_LEDS:
    case KBD_SCANCODE:
    case KBD_TYPEMATIC:
        kb->cmd = b;
        i8042_kbd_send(g, KBD_ACK);
        break;
    case KBD_ECHO:
        i8042_kbd_send(g, KBD_ECHO);
        break;
    case KBD_GET_ID:
        i8042_kbd_send(g, KBD_ACK);
        i8042_kbd_send(g, KBD_ID_FIRST);
        i8042_kbd_send(g, KBD_ID_MF2);
        break;
    case KBD_ENABLE:
        memset(&kb->out, 0, sizeof(kb->out));
        kb->scanning = true;
        i8042_kbd_send(g, KBD_ACK);
        break;
    case KBD_DISABLE:
        i8042_kbd_defaults(kb);
        kb->scanning = false;
        i8042_kbd_send(g, KBD_ACK);
        break;
    case KBD_DEFAULTS:
        i8042_kbd_defaults(kb);
        i8042_kbd_send(g, KBD_ACK);
        break;
    case KBD_RESET: /* the self test is instant here */
        i8042_kbd_defaults(kb);
        i8042_kbd_send(g, KBD_ACK);
        i8042_kbd_send(g, KBD_BAT_OK);
        break;
    default:
        i8042_kbd_send(g, KBD_RESEND);
        break;
    }
}

static void i8042_pulse_reset(struct i8042 *k)
{
    if (k->host.reset)
        k->host.reset(k->host.opaque);
}

/* The output port as D0 reads it: bits 4 and 5 are the IRQ lines. */
static uint8_t i8042_read_output(const struct i8042_regs *g)
{
    return g->outport | (i8042_irq1(g) ? OUT_KBD_OBF : 0) |
           (i8042_irq12(g) ? OUT_AUX_OBF : 0);
}

/* D1: bit 1 gates A20; bit 0 written as 0 pulls the CPU reset line. */
static void i8042_write_output(struct i8042 *k, uint8_t b)
{
    k->regs.outport = b & ~(OUT_KBD_OBF | OUT_AUX_OBF);
    if (!(b & OUT_RESET))
        i8042_pulse_reset(k);
}

static void i8042_write_ram(struct i8042_regs *g, unsigned index, uint8_t b)
{
    g->ram[index] = b;
    if (index == 0)
        g->status = (g->status & ~STR_SYS) | (b & CTR_SYS);
}

/*
 * A data byte: the operand of a pending controller command, else a byte
 * for the keyboard. Sending to the keyboard enables its interface again,
 * as QEMU's controller does. Nothing is on the aux port: a byte sent
 * there times out, which the controller reports as 0xFE with STR_TIMEOUT.
 */
static void i8042_write_data(struct i8042 *k, uint8_t b)
{
    struct i8042_regs *g = &k->regs;
    uint8_t cmd = g->pending;

    g->status &= ~STR_CMD;
    g->pending = 0;
    if (cmd >= CMD_WRITE_RAM && cmd <= CMD_WRITE_RAM + CMD_RAM_INDEX) {
        i8042_write_ram(g, cmd & CMD_RAM_INDEX, b);
    } else if (cmd == CMD_WRITE_OUTPUT) {
        i8042_write_output(k, b);
    } else if (cmd == CMD_WRITE_KBD_OBUF) {
        i8042_reply(g, b, 0);
    } else if (cmd == CMD_WRITE_AUX_OBUF) {
        i8042_reply(g, b, STR_AUXDATA);
    } else if (cmd == CMD_WRITE_AUX) {
        i8042_reply(g, REPLY_AUX_TIMEOUT, STR_AUXDATA | STR_TIMEOUT);
    } else {
        g->ram[0] &= ~CTR_KBDDIS;
        i8042_kbd_write(g, b);
    }
}

/* Commands that complete at once. Others (password, test inputs, ...)
 * are not implemented and are ignored. */
static void i8042_run_command(struct i8042 *k, uint8_t cmd)
{
    struct i8042_regs *g = &k->regs;

    switch (cmd) {
    case CMD_AUX_DISABLE:
        g->ram[0] |= CTR_AUXDIS;
        break;
    case CMD_AUX_ENABLE:
        g->ram[0] &= ~CTR_AUXDIS;
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        i8042_reply(g, REPLY_TEST_OK, 0);
        break;
    case CMD_SELF_TEST:
        g->status |= STR_SYS;
        i8042_reply(g, REPLY_SELF_TEST_OK, 0);
        break;
    case CMD_KBD_DISABLE:
        g->ram[0] |= CTR_KBDDIS;
        break;
    case CMD_KBD_ENABLE:
        g->ram[0] &= ~CTR_KBDDIS;
        break;
    case CMD_READ_OUTPUT:
        i8042_reply(g, i8042_read_output(g), 0);
        break;
    case CMD_A20_DISABLE:
        g->outport &= ~OUT_A20;
        break;
    case CMD_A20_ENABLE:
        g->outport |= OUT_A20;
        break;
    default:
        break;
    }
}

static bool i8042_takes_data(uint8_t cmd)
{
    return (cmd >= CMD_WRITE_RAM && cmd <= CMD_WRITE_RAM + CMD_RAM_INDEX) ||
           cmd == CMD_WRITE_OUTPUT || cmd == CMD_WRITE_KBD_OBUF ||
           cmd == CMD_WRITE_AUX_OBUF || cmd == CMD_WRITE_AUX;
}

/* A command byte; it cancels a command still waiting for its data. */
static void i8042_write_command(struct i8042 *k, uint8_t cmd)
{
    struct i8042_regs *g = &k->regs;

    g->status |= STR_CMD;
    g->pending = 0;
    if (cmd >= CMD_READ_RAM && cmd <= CMD_READ_RAM + CMD_RAM_INDEX)
        i8042_reply(g, g->ram[cmd & CMD_RAM_INDEX], 0);
    else if (i8042_takes_data(cmd))
        g->pending = cmd;
    else if (cmd >= CMD_PULSE && !(cmd & OUT_RESET))
        i8042_pulse_reset(k); /* a 0 bit pulses; only reset is wired */
    else
        i8042_run_command(k, cmd);
}

/* After any change: move waiting bytes into the buffer, drive the IRQs. */
static void i8042_sync(struct i8042 *k)
{
    i8042_refill(&k->regs);
    i8042_irq_sync(k);
}

/*
 * Reading the buffer empties it and lowers the IRQ before the next byte
 * moves in and raises it again, so the PIC sees an edge for every byte.
 * An empty buffer reads its last byte again.
 */
static uint32_t i8042_data_read(void *opaque, uint32_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    uint8_t b = k->regs.ob;

    k->regs.ob_status = 0;
    i8042_irq_sync(k);
    i8042_sync(k);
    return b;
}

static void i8042_data_write(void *opaque, uint32_t offset, unsigned size,
                             uint32_t value)
{
    struct i8042 *k = opaque;

    i8042_write_data(k, value & 0xFF);
    i8042_sync(k);
}

/* Linux warns "Keylock active" unless STR_UNLOCKED is set. */
static uint32_t i8042_status_read(void *opaque, uint32_t offset, unsigned size)
{
    const struct i8042_regs *g = &((struct i8042 *)opaque)->regs;

    return g->status | STR_UNLOCKED | g->ob_status;
}

static void i8042_command_write(void *opaque, uint32_t offset, unsigned size,
                                uint32_t value)
{
    struct i8042 *k = opaque;

    i8042_write_command(k, value & 0xFF);
    i8042_sync(k);
}

/* Port 0x92 reads back as written; bit 1 is the alternate A20 gate. */
static uint32_t i8042_port92_read(void *opaque, uint32_t offset, unsigned size)
{
    return ((struct i8042 *)opaque)->regs.port92;
}

static void i8042_port92_write(void *opaque, uint32_t offset, unsigned size,
                               uint32_t value)
{
    struct i8042 *k = opaque;
    uint8_t old = k->regs.port92;

    k->regs.port92 = value & 0xFF;
    if ((value & P92_FAST_RESET) && !(old & P92_FAST_RESET))
        i8042_pulse_reset(k);
}

static const struct io_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
};

static const struct io_ops i8042_status_ops = {
    .read = i8042_status_read,
    .write = i8042_command_write,
};

static const struct io_ops i8042_port92_ops = {
    .read = i8042_port92_read,
    .write = i8042_port92_write,
};

void i8042_key(struct i8042 *k, const uint8_t *scancodes, size_t n)
{
    struct i8042_queue *q = &k->regs.kbd.out;

    if (!k->regs.kbd.scanning)
        return;
    for (size_t i = 0; i < n; i++) {
        if (q->count < KBD_KEY_ROOM - 1)
            i8042_queue_push(q, scancodes[i]);
        else if (q->count == KBD_KEY_ROOM - 1)
            i8042_queue_push(q, KBD_OVERRUN);
    }
    i8042_sync(k);
}

bool i8042_a20(const struct i8042 *k)
{
    return (k->regs.outport & OUT_A20) || (k->regs.port92 & P92_A20);
}

/*
 * The bus has no unregister: if it refuses a port after another was
 * claimed, that one still points at k, so k is left allocated and NULL
 * returned.
 */
struct i8042 *i8042_create(struct io_bus *bus, struct irq_line irq1,
                           struct irq_line irq12, void (*reset)(void *opaque),
                           void *opaque)
{
    struct i8042 *k = calloc(1, sizeof(*k));

    if (!k)
        return NULL;
    k->host = (struct i8042_host){
        .bus = bus,
        .irq1 = irq1,
        .irq12 = irq12,
        .reset = reset,
        .opaque = opaque,
    };
    i8042_reset(k);
    if (bus_register(bus, I8042_DATA, 1, &i8042_data_ops, k, "i8042") < 0) {
        free(k);
        return NULL;
    }
    if (bus_register(bus, I8042_STATUS, 1, &i8042_status_ops, k, "i8042") < 0)
        return NULL;
    if (bus_register(bus, PORT92, 1, &i8042_port92_ops, k, "port92") < 0)
        return NULL;
    return k;
}

void i8042_reset(struct i8042 *k)
{
    struct i8042_regs *g = &k->regs;

    memset(g, 0, sizeof(*g));
    g->ram[0] = CTR_POST;
    g->status = STR_SYS | STR_CMD;
    g->outport = OUT_POWER_ON;
    i8042_kbd_defaults(&g->kbd);
    k->host.irq1_level = 0;
    k->host.irq12_level = 0;
    irq_set(&k->host.irq1, 0);
    irq_set(&k->host.irq12, 0);
}

void i8042_destroy(struct i8042 *k)
{
    free(k);
}
