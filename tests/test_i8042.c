/* SPDX-License-Identifier: MIT */
/* Unit tests for the 8042 keyboard controller, its keyboard and port 0x92,
 * driven with the command sequences of Linux's i8042 and atkbd drivers. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/i8042.h"

/* Ports */
#define I8042_DATA    0x60
#define I8042_COMMAND 0x64 /* status on read */
#define PORT92        0x92

/* Linux's command numbers: bits 12-15 count parameters, 8-11 results. */
#define CMD_CTL_RCTR    0x0120
#define CMD_CTL_WCTR    0x1060
#define CMD_CTL_TEST    0x01AA
#define CMD_KBD_TEST    0x01AB
#define CMD_KBD_LOOP    0x11D2
#define CMD_AUX_DISABLE 0x00A7
#define CMD_AUX_ENABLE  0x00A8
#define CMD_AUX_TEST    0x01A9
#define CMD_AUX_SEND    0x10D4
#define CMD_AUX_LOOP    0x11D3
#define CMD_OUT_READ    0x01D0
#define CMD_OUT_WRITE   0x10D1

/* Status register */
#define STR_OBF     0x01
#define STR_IBF     0x02
#define STR_SYS     0x04
#define STR_CMDDAT  0x08
#define STR_KEYLOCK 0x10 /* set: not locked */
#define STR_AUXDATA 0x20
#define STR_TIMEOUT 0x40

/* Command byte */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

/* Keyboard commands and replies */
#define KBD_SETLEDS  0xED
#define KBD_ECHO     0xEE
#define KBD_SCANCODE 0xF0
#define KBD_GETID    0xF2
#define KBD_SETREP   0xF3
#define KBD_ENABLE   0xF4
#define KBD_DISABLE  0xF5
#define KBD_DEFAULTS 0xF6
#define KBD_RESET    0xFF
#define ACK          0xFA
#define RESEND       0xFE
#define BAT_OK       0xAA

/* A fake interrupt wire that counts rising edges. */
struct fake_irq {
    int level; /* last level driven */
    int rises; /* 0 -> 1 transitions */
};

static struct io_bus *bus;
static struct i8042 *kbc;
static struct fake_irq irq1, irq12;
static int resets;

static void fake_set_irq(void *opaque, int irq, int level)
{
    struct fake_irq *f = opaque;

    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static void fake_reset(void *opaque)
{
    (*(int *)opaque)++;
}

static void setup(void)
{
    irq1 = (struct fake_irq){0};
    irq12 = (struct fake_irq){0};
    resets = 0;
    bus = bus_create("io");
    kbc = i8042_create(bus, (struct irq_line){fake_set_irq, &irq1, 1},
                       (struct irq_line){fake_set_irq, &irq12, 12}, fake_reset,
                       &resets);
    ck_assert_ptr_nonnull(kbc);
}

static void teardown(void)
{
    bus_destroy(bus);
    i8042_destroy(kbc);
}

static void out8(uint32_t port, uint8_t value)
{
    bus_write(bus, port, 1, value);
}

static uint8_t in8(uint32_t port)
{
    return bus_read(bus, port, 1);
}

static uint8_t status(void)
{
    return in8(I8042_COMMAND);
}

/* i8042_wait_read and i8042_wait_write, with a short timeout. */
static int wait_read(void)
{
    for (int i = 0; i < 10; i++)
        if (status() & STR_OBF)
            return 0;
    return -1;
}

static int wait_write(void)
{
    for (int i = 0; i < 10; i++)
        if (!(status() & STR_IBF))
            return 0;
    return -1;
}

/* Linux's __i8042_command. */
static int i8042_command(uint8_t *param, int command)
{
    if (wait_write())
        return -1;
    out8(I8042_COMMAND, command & 0xFF);
    for (int i = 0; i < ((command >> 12) & 0xF); i++) {
        if (wait_write())
            return -1;
        out8(I8042_DATA, param[i]);
    }
    for (int i = 0; i < ((command >> 8) & 0xF); i++) {
        if (wait_read())
            return -1;
        if (command == CMD_AUX_LOOP && !(status() & STR_AUXDATA))
            return -1;
        param[i] = in8(I8042_DATA);
    }
    return 0;
}

/* Linux's i8042_flush: the bytes it threw away. */
static int flush(void)
{
    int n = 0;

    while ((status() & STR_OBF) && n < 16) {
        in8(I8042_DATA);
        n++;
    }
    return n;
}

/* The next byte, as i8042_interrupt takes it: OBF must be set. */
static uint8_t read_byte(void)
{
    ck_assert_uint_eq(status() & STR_OBF, STR_OBF);
    return in8(I8042_DATA);
}

static void assert_empty(void)
{
    ck_assert_uint_eq(status() & STR_OBF, 0);
}

static void write_ctr(uint8_t ctr)
{
    ck_assert_int_eq(i8042_command(&ctr, CMD_CTL_WCTR), 0);
}

static uint8_t read_ctr(void)
{
    uint8_t ctr = 0;

    ck_assert_int_eq(i8042_command(&ctr, CMD_CTL_RCTR), 0);
    return ctr;
}

/* i8042_enable_kbd_port, after i8042_controller_init disabled it. */
static void enable_kbd_port(uint8_t ctr)
{
    write_ctr((ctr & ~CTR_KBDDIS) | CTR_KBDINT);
}

/*
 * i8042_controller_init in short: keyboard interface and IRQ 1 off. The
 * controller's replies so far raised IRQ 1 (the BIOS's CTR has KBDINT);
 * those edges are forgotten. Returns the CTR written.
 */
static uint8_t linux_controller_init(void)
{
    uint8_t ctr = (read_ctr() | CTR_KBDDIS) & ~CTR_KBDINT;

    write_ctr(ctr);
    ck_assert_int_eq(flush(), 0);
    irq1.rises = 0;
    return ctr;
}

/* probe: selftest, then i8042_controller_init */
START_TEST(test_linux_controller_init)
{
    uint8_t param = 0, ctr[2];

    ck_assert_int_eq(flush(), 0); /* i8042_controller_check */
    ck_assert_int_eq(i8042_command(&param, CMD_CTL_TEST), 0);
    ck_assert_uint_eq(param, 0x55);
    ck_assert_int_eq(i8042_command(&ctr[0], CMD_CTL_RCTR), 0);
    ck_assert_int_eq(i8042_command(&ctr[1], CMD_CTL_RCTR), 0);
    ck_assert_uint_eq(ctr[0], ctr[1]);
    ck_assert_uint_eq(ctr[0], CTR_XLATE | CTR_SYS | CTR_KBDINT);
    ck_assert_uint_eq(status() & STR_KEYLOCK, STR_KEYLOCK); /* no warning */
    write_ctr((ctr[0] | CTR_KBDDIS) & ~CTR_KBDINT);
    ck_assert_uint_eq(read_ctr(), CTR_XLATE | CTR_KBDDIS | CTR_SYS);
    ck_assert_int_eq(flush(), 0);
    ck_assert_int_eq(irq1.rises, 3); /* the replies, while KBDINT was set */
    ck_assert_int_eq(irq1.level, 0);
}
END_TEST

/* i8042_check_aux and i8042_check_mux, as Linux runs them. */
START_TEST(test_linux_check_aux)
{
    uint8_t param, ctr;

    linux_controller_init();
    param = 0x5A;
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_LOOP), 0);
    ck_assert_uint_eq(param, 0x5A);
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_DISABLE), 0);
    ck_assert_uint_eq(read_ctr() & CTR_AUXDIS, CTR_AUXDIS);
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_ENABLE), 0);
    ck_assert_uint_eq(read_ctr() & CTR_AUXDIS, 0);
    ctr = (read_ctr() & ~CTR_AUXDIS) | CTR_AUXINT; /* i8042_enable_aux_port */
    write_ctr(ctr);
    param = 0xA5; /* the IRQ delivery test: the result comes by IRQ 12 */
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_LOOP & 0xF0FF), 0);
    ck_assert_int_eq(irq12.level, 1);
    ck_assert_uint_eq(status() & (STR_OBF | STR_AUXDATA),
                      STR_OBF | STR_AUXDATA);
    ck_assert_uint_eq(in8(I8042_DATA), 0xA5);
    ck_assert_int_eq(irq12.level, 0);
    ck_assert_int_eq(irq1.rises, 0);
    write_ctr((ctr | CTR_AUXDIS) & ~CTR_AUXINT);
    flush(); /* i8042_set_mux_mode: loopback still works, no MUX */
    param = 0xF0;
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_LOOP), 0);
    ck_assert_uint_eq(param, 0xF0);
    param = 0x56;
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_LOOP), 0);
    ck_assert_uint_eq(param, 0x56);
    param = 0xA4;
    ck_assert_int_eq(i8042_command(&param, CMD_AUX_LOOP), 0);
    ck_assert_uint_eq(param, 0xA4); /* a MUX would answer its version */
    ck_assert_int_eq(irq12.rises, 1);
}
END_TEST

START_TEST(test_interface_tests)
{
    uint8_t param = 0xFF;

    ck_assert_int_eq(i8042_command(&param, CMD_AUX_TEST), 0);
    ck_assert_uint_eq(param, 0x00);
    param = 0xFF;
    ck_assert_int_eq(i8042_command(&param, CMD_KBD_TEST), 0);
    ck_assert_uint_eq(param, 0x00);
    ck_assert_uint_eq(status() & STR_AUXDATA, 0);
}
END_TEST

/* psmouse's first command finds no device: a timeout, as on a PC. */
START_TEST(test_aux_send_times_out)
{
    uint8_t c = 0xF2; /* PSMOUSE_CMD_GETID */

    write_ctr((linux_controller_init() & ~CTR_AUXDIS) | CTR_AUXINT);
    ck_assert_int_eq(i8042_command(&c, CMD_AUX_SEND), 0);
    ck_assert_int_eq(irq12.level, 1);
    ck_assert_uint_eq(status() & (STR_OBF | STR_AUXDATA | STR_TIMEOUT),
                      STR_OBF | STR_AUXDATA | STR_TIMEOUT);
    ck_assert_uint_eq(in8(I8042_DATA), 0xFE);
    ck_assert_int_eq(irq12.level, 0);
    ck_assert_uint_eq(status() & STR_TIMEOUT, 0);
    ck_assert_int_eq(irq1.rises, 0);
}
END_TEST

/* atkbd_probe, atkbd_reset_state and atkbd_activate, translated. */
START_TEST(test_atkbd_probe_translated)
{
    enable_kbd_port(linux_controller_init());
    out8(I8042_DATA, KBD_GETID);
    ck_assert_int_eq(irq1.level, 1);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), 0xAB);
    ck_assert_uint_eq(read_byte(), 0x41); /* 0x83 through translation */
    ck_assert_int_eq(irq1.level, 0);
    ck_assert_int_eq(irq1.rises, 3); /* one edge per byte */
    out8(I8042_DATA, KBD_DISABLE);
    ck_assert_uint_eq(read_byte(), ACK);
    out8(I8042_DATA, KBD_SETLEDS);
    ck_assert_uint_eq(read_byte(), ACK);
    out8(I8042_DATA, 0x00);
    ck_assert_uint_eq(read_byte(), ACK);
    out8(I8042_DATA, KBD_SETREP);
    ck_assert_uint_eq(read_byte(), ACK);
    out8(I8042_DATA, 0x00);
    ck_assert_uint_eq(read_byte(), ACK);
    out8(I8042_DATA, KBD_ENABLE);
    ck_assert_uint_eq(read_byte(), ACK);
    assert_empty();
    i8042_key(kbc, (const uint8_t[]){0x1E, 0x9E}, 2); /* A down, up */
    ck_assert_uint_eq(read_byte(), 0x1E);
    ck_assert_uint_eq(read_byte(), 0x9E);
    assert_empty();
    ck_assert_int_eq(irq1.rises, 11);
}
END_TEST

START_TEST(test_untranslated_replies)
{
    enable_kbd_port(read_ctr() & ~CTR_XLATE);
    out8(I8042_DATA, KBD_GETID);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), 0xAB);
    ck_assert_uint_eq(read_byte(), 0x83);
    out8(I8042_DATA, KBD_SCANCODE);
    out8(I8042_DATA, 0);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), 2);
    assert_empty();
}
END_TEST

START_TEST(test_scancode_set_command)
{
    static const struct {
        uint8_t set, reads_as; /* translated */
    } sets[] = {{1, 0x43}, {3, 0x3F}, {2, 0x41}};

    enable_kbd_port(read_ctr());
    out8(I8042_DATA, KBD_SCANCODE);
    out8(I8042_DATA, 0);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), 0x41); /* set 2 by default */
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        out8(I8042_DATA, KBD_SCANCODE);
        out8(I8042_DATA, sets[i].set);
        ck_assert_uint_eq(read_byte(), ACK);
        ck_assert_uint_eq(read_byte(), ACK);
        out8(I8042_DATA, KBD_SCANCODE);
        out8(I8042_DATA, 0);
        ck_assert_uint_eq(read_byte(), ACK);
        ck_assert_uint_eq(read_byte(), ACK);
        ck_assert_uint_eq(read_byte(), sets[i].reads_as);
    }
    out8(I8042_DATA, KBD_SCANCODE);
    out8(I8042_DATA, 7); /* no set 7: asked again */
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), RESEND);
    out8(I8042_DATA, 1);
    ck_assert_uint_eq(read_byte(), ACK);
    assert_empty();
}
END_TEST

START_TEST(test_reset_echo_and_unknown)
{
    enable_kbd_port(read_ctr());
    out8(I8042_DATA, KBD_RESET);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), BAT_OK);
    out8(I8042_DATA, KBD_ECHO);
    ck_assert_uint_eq(read_byte(), KBD_ECHO);
    out8(I8042_DATA, 0xE0); /* not a command */
    ck_assert_uint_eq(read_byte(), RESEND);
    out8(I8042_DATA, KBD_SETLEDS);
    out8(I8042_DATA, KBD_GETID); /* a command, not the LED operand */
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_byte(), 0xAB);
    ck_assert_uint_eq(read_byte(), 0x41);
    out8(I8042_DATA, KBD_ECHO); /* no operand pending any more */
    ck_assert_uint_eq(read_byte(), KBD_ECHO);
    assert_empty();
}
END_TEST

START_TEST(test_irq1_follows_kbdint)
{
    write_ctr(CTR_XLATE | CTR_AUXINT | CTR_KBDINT);
    i8042_key(kbc, (const uint8_t[]){0x10}, 1);
    ck_assert_int_eq(irq1.level, 1);
    ck_assert_uint_eq(in8(I8042_DATA), 0x10);
    ck_assert_int_eq(irq1.level, 0);
    write_ctr(CTR_XLATE); /* interrupts off: polled */
    i8042_key(kbc, (const uint8_t[]){0x11}, 1);
    ck_assert_int_eq(irq1.level, 0);
    ck_assert_uint_eq(status() & (STR_OBF | STR_AUXDATA), STR_OBF);
    write_ctr(CTR_XLATE | CTR_KBDINT); /* on again: data waiting */
    ck_assert_int_eq(irq1.level, 1);
    ck_assert_uint_eq(read_byte(), 0x11);
    ck_assert_int_eq(irq1.level, 0);
    ck_assert_uint_eq(in8(I8042_DATA), 0x11); /* empty: the last byte */
    ck_assert_int_eq(irq1.rises, 2);
    ck_assert_int_eq(irq12.rises, 0);
}
END_TEST

START_TEST(test_kbddis_holds_keys_in_the_keyboard)
{
    out8(I8042_COMMAND, 0xAD); /* disable keyboard interface */
    ck_assert_uint_eq(read_ctr() & CTR_KBDDIS, CTR_KBDDIS);
    i8042_key(kbc, (const uint8_t[]){0x1C, 0x9C}, 2);
    assert_empty();
    ck_assert_int_eq(irq1.level, 0);
    out8(I8042_COMMAND, 0xAE); /* enable keyboard interface */
    ck_assert_int_eq(irq1.level, 1);
    ck_assert_uint_eq(read_byte(), 0x1C);
    ck_assert_uint_eq(read_byte(), 0x9C);
    assert_empty();
    ck_assert_uint_eq(read_ctr() & CTR_KBDDIS, 0);
}
END_TEST

START_TEST(test_keys_only_while_scanning)
{
    out8(I8042_DATA, KBD_DISABLE);
    ck_assert_uint_eq(read_byte(), ACK);
    i8042_key(kbc, (const uint8_t[]){0x1E}, 1);
    assert_empty();
    out8(I8042_DATA, KBD_ENABLE);
    ck_assert_uint_eq(read_byte(), ACK);
    i8042_key(kbc, (const uint8_t[]){0x1F}, 1);
    ck_assert_uint_eq(read_byte(), 0x1F);
    out8(I8042_COMMAND, 0xAD); /* keys held in the keyboard ... */
    i8042_key(kbc, (const uint8_t[]){0x20, 0xA0}, 2);
    out8(I8042_DATA, KBD_ENABLE); /* ... are dropped by enable */
    ck_assert_uint_eq(read_byte(), ACK);
    assert_empty();
}
END_TEST

START_TEST(test_data_write_enables_keyboard_interface)
{
    write_ctr(CTR_XLATE | CTR_KBDDIS | CTR_KBDINT);
    out8(I8042_DATA, KBD_ENABLE);
    ck_assert_uint_eq(read_byte(), ACK);
    ck_assert_uint_eq(read_ctr() & CTR_KBDDIS, 0);
}
END_TEST

START_TEST(test_keyboard_buffer_overrun)
{
    uint8_t keys[20];

    for (int i = 0; i < 20; i++)
        keys[i] = 0x02 + i;
    out8(I8042_COMMAND, 0xAD); /* hold them in the keyboard */
    i8042_key(kbc, keys, 20);
    out8(I8042_COMMAND, 0xAE);
    for (int i = 0; i < 11; i++)
        ck_assert_uint_eq(read_byte(), 0x02 + i);
    ck_assert_uint_eq(read_byte(), 0xFF); /* overrun */
    assert_empty();
}
END_TEST

START_TEST(test_reply_waits_for_the_buffer)
{
    i8042_key(kbc, (const uint8_t[]){0x2A, 0x1E}, 2);
    out8(I8042_COMMAND, 0x20); /* read CTR with keys unread */
    ck_assert_uint_eq(read_byte(), 0x2A);
    ck_assert_uint_eq(read_byte(), CTR_XLATE | CTR_SYS | CTR_KBDINT);
    ck_assert_uint_eq(read_byte(), 0x1E); /* the reply went first */
    assert_empty();
    ck_assert_int_eq(irq1.rises, 3);
}
END_TEST

START_TEST(test_kbd_loop_and_controller_ram)
{
    uint8_t param = 0x42;

    ck_assert_int_eq(i8042_command(&param, CMD_KBD_LOOP), 0);
    ck_assert_uint_eq(param, 0x42);
    ck_assert_int_eq(irq1.rises, 1);
    out8(I8042_COMMAND, 0x60 + 5); /* write RAM byte 5 */
    out8(I8042_DATA, 0x99);
    out8(I8042_COMMAND, 0x20 + 5);
    ck_assert_uint_eq(read_byte(), 0x99);
    out8(I8042_COMMAND, 0xD1); /* a data command cancelled by a command */
    out8(I8042_COMMAND, 0xA7);
    out8(I8042_DATA, KBD_ECHO); /* so this goes to the keyboard */
    ck_assert_uint_eq(read_byte(), KBD_ECHO);
    ck_assert_int_eq(resets, 0);
}
END_TEST

START_TEST(test_status_bits)
{
    ck_assert_uint_eq(status(), STR_KEYLOCK | STR_CMDDAT | STR_SYS);
    out8(I8042_DATA, KBD_ECHO);
    ck_assert_uint_eq(status(), STR_KEYLOCK | STR_SYS | STR_OBF);
    in8(I8042_DATA);
    write_ctr(CTR_XLATE); /* SYS follows the command byte */
    ck_assert_uint_eq(status(), STR_KEYLOCK);
    out8(I8042_COMMAND, 0xAA); /* and the self test sets it */
    ck_assert_uint_eq(status(), STR_KEYLOCK | STR_CMDDAT | STR_SYS | STR_OBF);
    ck_assert_uint_eq(in8(I8042_DATA), 0x55);
}
END_TEST

START_TEST(test_output_port_a20_and_reset)
{
    uint8_t param;

    ck_assert_int_eq(i8042_command(&param, CMD_OUT_READ), 0);
    ck_assert_uint_eq(param, 0xCF);
    ck_assert(i8042_a20(kbc));
    param = 0xDD; /* A20 off, reset line high */
    ck_assert_int_eq(i8042_command(&param, CMD_OUT_WRITE), 0);
    ck_assert(!i8042_a20(kbc));
    ck_assert_int_eq(resets, 0);
    ck_assert_int_eq(i8042_command(&param, CMD_OUT_READ), 0);
    ck_assert_uint_eq(param, 0xCD); /* bit 4 is IRQ 1, not as written */
    out8(I8042_COMMAND, 0xDF);      /* enable A20 */
    ck_assert(i8042_a20(kbc));
    out8(I8042_COMMAND, 0xDD); /* disable A20 */
    ck_assert(!i8042_a20(kbc));
    i8042_key(kbc, (const uint8_t[]){0x39}, 1); /* IRQ 1 up */
    out8(I8042_COMMAND, 0xD0);
    ck_assert_uint_eq(read_byte(), 0x39);
    ck_assert_uint_eq(read_byte(), 0xCD | 0x10); /* bit 4: IRQ 1 */
    param = 0xDE;                                /* bit 0 clear: reset */
    ck_assert_int_eq(i8042_command(&param, CMD_OUT_WRITE), 0);
    ck_assert_int_eq(resets, 1);
}
END_TEST

/* Linux's reboot=k: outb(0xFE, 0x64), ten times. */
START_TEST(test_pulse_commands_reset)
{
    for (int i = 0; i < 10; i++) {
        ck_assert_uint_eq(status() & STR_IBF, 0); /* kb_wait */
        out8(I8042_COMMAND, 0xFE);
    }
    ck_assert_int_eq(resets, 10);
    out8(I8042_COMMAND, 0xFF); /* pulses nothing */
    out8(I8042_COMMAND, 0xFD); /* pulses bit 1 only */
    ck_assert_int_eq(resets, 10);
    out8(I8042_COMMAND, 0xF0); /* pulses all four */
    ck_assert_int_eq(resets, 11);
    assert_empty();
}
END_TEST

START_TEST(test_port92)
{
    uint8_t port_a, param = 0xDD;

    ck_assert_int_eq(i8042_command(&param, CMD_OUT_WRITE), 0);
    ck_assert(!i8042_a20(kbc));
    ck_assert_uint_eq(in8(PORT92), 0);
    port_a = in8(PORT92); /* the boot code's enable_a20_fast */
    port_a |= 0x02;
    port_a &= ~0x01;
    out8(PORT92, port_a);
    ck_assert(i8042_a20(kbc));
    ck_assert_uint_eq(in8(PORT92), 0x02);
    ck_assert_int_eq(resets, 0);
    out8(PORT92, 0x03); /* fast reset on the rising edge of bit 0 */
    ck_assert_int_eq(resets, 1);
    out8(PORT92, 0x03);
    ck_assert_int_eq(resets, 1);
    out8(PORT92, 0x02);
    out8(PORT92, 0x03);
    ck_assert_int_eq(resets, 2);
    out8(PORT92, 0x00);
    ck_assert(!i8042_a20(kbc));
}
END_TEST

START_TEST(test_reset_state)
{
    write_ctr(CTR_AUXINT | CTR_AUXDIS);
    out8(I8042_COMMAND, 0xDD);
    out8(PORT92, 0x02);
    out8(I8042_COMMAND, 0xD3);
    out8(I8042_DATA, 0x12);
    ck_assert_int_eq(irq12.level, 1);
    out8(I8042_DATA, KBD_DISABLE);
    i8042_reset(kbc);
    ck_assert_int_eq(irq12.level, 0);
    assert_empty();
    ck_assert_uint_eq(read_ctr(), CTR_XLATE | CTR_SYS | CTR_KBDINT);
    ck_assert(i8042_a20(kbc));
    ck_assert_uint_eq(in8(PORT92), 0);
    i8042_key(kbc, (const uint8_t[]){0x01}, 1); /* scanning again */
    ck_assert_uint_eq(read_byte(), 0x01);
}
END_TEST

START_TEST(test_bus_refusal)
{
    ck_assert_ptr_null(i8042_create(bus, (struct irq_line){0},
                                    (struct irq_line){0}, NULL, NULL));
}
END_TEST

static TCase *i8042_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *linux_probe = i8042_tcase("linux");
    TCase *kbd = i8042_tcase("keyboard");
    TCase *ctl = i8042_tcase("controller");

    tcase_add_test(linux_probe, test_linux_controller_init);
    tcase_add_test(linux_probe, test_linux_check_aux);
    tcase_add_test(linux_probe, test_interface_tests);
    tcase_add_test(linux_probe, test_aux_send_times_out);
    tcase_add_test(linux_probe, test_atkbd_probe_translated);
    suite_add_tcase(s, linux_probe);

    tcase_add_test(kbd, test_untranslated_replies);
    tcase_add_test(kbd, test_scancode_set_command);
    tcase_add_test(kbd, test_reset_echo_and_unknown);
    tcase_add_test(kbd, test_irq1_follows_kbdint);
    tcase_add_test(kbd, test_kbddis_holds_keys_in_the_keyboard);
    tcase_add_test(kbd, test_keys_only_while_scanning);
    tcase_add_test(kbd, test_data_write_enables_keyboard_interface);
    tcase_add_test(kbd, test_keyboard_buffer_overrun);
    suite_add_tcase(s, kbd);

    tcase_add_test(ctl, test_reply_waits_for_the_buffer);
    tcase_add_test(ctl, test_kbd_loop_and_controller_ram);
    tcase_add_test(ctl, test_status_bits);
    tcase_add_test(ctl, test_output_port_a20_and_reset);
    tcase_add_test(ctl, test_pulse_commands_reset);
    tcase_add_test(ctl, test_port92);
    tcase_add_test(ctl, test_reset_state);
    tcase_add_test(ctl, test_bus_refusal);
    suite_add_tcase(s, ctl);
    return s;
}

int main(void)
{
    return check_run(i8042_suite());
}
