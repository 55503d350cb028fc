/* SPDX-License-Identifier: MIT */
/* Unit tests for the 8259A pair and the ELCR, driven through their ports. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/pic.h"

/* Ports, as a guest driver names them. */
#define PIC1_CMD  0x20  /* master ICW1, OCW2, OCW3; reads IRR/ISR/poll */
#define PIC1_DATA 0x21  /* master ICW2-4, OCW1 (IMR) */
#define PIC2_CMD  0xA0  /* slave command */
#define PIC2_DATA 0xA1  /* slave data */
#define ELCR1     0x4D0 /* edge/level for IRQ 0-7 */
#define ELCR2     0x4D1 /* edge/level for IRQ 8-15 */

static struct io_bus *bus;
static struct pic *pic;

static void out8(uint32_t port, uint8_t value)
{
    bus_write(bus, port, 1, value);
}

static uint8_t in8(uint32_t port)
{
    return bus_read(bus, port, 1);
}

/* The sequence Linux's init_8259A writes: vectors 0x20 / 0x28, cascade on
 * IR2, 8086 mode, normal EOI (or AEOI when asked). */
static void init_pics(uint8_t icw4)
{
    out8(PIC1_CMD, 0x11);  /* ICW1: edge, cascade, ICW4 needed */
    out8(PIC1_DATA, 0x20); /* ICW2: master vectors 0x20-0x27 */
    out8(PIC1_DATA, 0x04); /* ICW3: slave on IR2 */
    out8(PIC1_DATA, icw4); /* ICW4 */
    out8(PIC2_CMD, 0x11);  /* ICW1 */
    out8(PIC2_DATA, 0x28); /* ICW2: slave vectors 0x28-0x2F */
    out8(PIC2_DATA, 0x02); /* ICW3: slave ID 2 */
    out8(PIC2_DATA, icw4); /* ICW4 */
}

static void setup(void)
{
    bus = bus_create("io");
    pic = pic_create(bus);
    ck_assert_ptr_nonnull(pic);
    init_pics(0x01); /* ICW4: 8086 mode */
}

static void teardown(void)
{
    bus_destroy(bus);
    pic_destroy(pic);
}

/* Pulse an edge-triggered line, as the PIT does. */
static void pulse(int irq)
{
    pic_set_irq(pic, irq, 1);
    pic_set_irq(pic, irq, 0);
}

START_TEST(test_init_sets_vector_base)
{
    pulse(1);
    ck_assert(pic_intr(pic));
    ck_assert_int_eq(pic_acknowledge(pic), 0x21);
    out8(PIC1_CMD, 0x11);  /* ICW1 again */
    out8(PIC1_DATA, 0x08); /* ICW2: BIOS vectors 0x08-0x0F */
    out8(PIC1_DATA, 0x04); /* ICW3 */
    out8(PIC1_DATA, 0x01); /* ICW4 */
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(pic), 0x08);
}
END_TEST

START_TEST(test_single_mode_skips_icw3)
{
    out8(PIC1_CMD, 0x13);  /* ICW1: single, ICW4 needed */
    out8(PIC1_DATA, 0x40); /* ICW2 */
    out8(PIC1_DATA, 0x01); /* ICW4 (no ICW3 in single mode) */
    out8(PIC1_DATA, 0xFE); /* OCW1: only IR0 unmasked */
    ck_assert_int_eq(in8(PIC1_DATA), 0xFE);
    pulse(2);
    ck_assert(!pic_intr(pic));
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(pic), 0x40);
}
END_TEST

/* Linux's probe_8259A: write 0xFF then a pattern, read the IMR back. */
START_TEST(test_imr_reads_back)
{
    out8(PIC1_DATA, 0xFF); /* OCW1: mask all */
    ck_assert_int_eq(in8(PIC1_DATA), 0xFF);
    out8(PIC1_DATA, 0xFB); /* OCW1: all but cascade */
    ck_assert_int_eq(in8(PIC1_DATA), 0xFB);
    out8(PIC2_DATA, 0x5A); /* slave OCW1 */
    ck_assert_int_eq(in8(PIC2_DATA), 0x5A);
    ck_assert_int_eq(in8(PIC1_DATA), 0xFB);
}
END_TEST

START_TEST(test_imr_masks_request)
{
    out8(PIC1_DATA, 0x02); /* OCW1: mask IR1 */
    pulse(1);
    ck_assert(!pic_intr(pic));
    ck_assert_int_eq(in8(PIC1_CMD), 0x02); /* IRR still latched */
    out8(PIC1_DATA, 0x00);                 /* OCW1: unmask */
    ck_assert(pic_intr(pic));
}
END_TEST

START_TEST(test_ocw3_reads_irr_and_isr)
{
    pulse(3);
    pulse(5);
    out8(PIC1_CMD, 0x0A); /* OCW3: read IRR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x28);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    ck_assert_int_eq(in8(PIC1_CMD), 0x20);
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x08);
    out8(PIC1_CMD, 0x0A); /* OCW3: read IRR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x20);
}
END_TEST

START_TEST(test_fixed_priority_order)
{
    pulse(6);
    pulse(4);
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x21);
    /* IR4 and IR6 are lower than IR1 in service: no INTR */
    ck_assert(!pic_intr(pic));
    out8(PIC1_CMD, 0x20); /* OCW2: non-specific EOI */
    ck_assert_int_eq(pic_acknowledge(pic), 0x24);
    out8(PIC1_CMD, 0x20); /* OCW2: non-specific EOI */
    ck_assert_int_eq(pic_acknowledge(pic), 0x26);
}
END_TEST

START_TEST(test_higher_priority_nests)
{
    pulse(5);
    ck_assert_int_eq(pic_acknowledge(pic), 0x25);
    pulse(3);
    ck_assert(pic_intr(pic));
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x28);
    out8(PIC1_CMD, 0x20); /* OCW2: non-specific EOI clears the highest */
    ck_assert_int_eq(in8(PIC1_CMD), 0x20);
}
END_TEST

START_TEST(test_specific_eoi)
{
    pulse(5);
    ck_assert_int_eq(pic_acknowledge(pic), 0x25);
    pulse(3);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR */
    out8(PIC1_CMD, 0x65); /* OCW2: specific EOI, IR5 */
    ck_assert_int_eq(in8(PIC1_CMD), 0x08);
    out8(PIC1_CMD, 0x63); /* OCW2: specific EOI, IR3 */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00);
}
END_TEST

START_TEST(test_auto_eoi)
{
    init_pics(0x03); /* ICW4: 8086 mode, AEOI */
    pulse(4);
    ck_assert_int_eq(pic_acknowledge(pic), 0x24);
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00);
    pulse(6);
    ck_assert(pic_intr(pic)); /* nothing in service blocks it */
    ck_assert_int_eq(pic_acknowledge(pic), 0x26);
}
END_TEST

START_TEST(test_cascade_slave_irq10)
{
    pulse(10);
    ck_assert(pic_intr(pic));
    ck_assert_int_eq(pic_acknowledge(pic), 0x2A);
    out8(PIC1_CMD, 0x0B); /* OCW3: master ISR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x04);
    out8(PIC2_CMD, 0x0B); /* OCW3: slave ISR */
    ck_assert_int_eq(in8(PIC2_CMD), 0x04);
    ck_assert(!pic_intr(pic));
    out8(PIC2_CMD, 0x20); /* OCW2: EOI to the slave */
    out8(PIC1_CMD, 0x20); /* OCW2: EOI to the master */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00);
    ck_assert_int_eq(in8(PIC2_CMD), 0x00);
}
END_TEST

START_TEST(test_cascade_auto_eoi)
{
    init_pics(0x03); /* ICW4: AEOI on both chips */
    pulse(10);
    pulse(11);
    ck_assert_int_eq(pic_acknowledge(pic), 0x2A);
    ck_assert(pic_intr(pic)); /* IRQ 11 still asks through IR2 */
    ck_assert_int_eq(pic_acknowledge(pic), 0x2B);
    ck_assert(!pic_intr(pic)); /* the slave's request is withdrawn */
}
END_TEST

START_TEST(test_cascade_masked_on_master)
{
    out8(PIC1_DATA, 0x04); /* OCW1: mask the cascade input */
    pulse(12);
    ck_assert(!pic_intr(pic));
    out8(PIC1_DATA, 0x00); /* OCW1: unmask */
    ck_assert_int_eq(pic_acknowledge(pic), 0x2C);
}
END_TEST

START_TEST(test_edge_latches_rising_edge_only)
{
    pic_set_irq(pic, 3, 1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    out8(PIC1_CMD, 0x20); /* OCW2: EOI; the line is still high */
    ck_assert(!pic_intr(pic));
    pic_set_irq(pic, 3, 1); /* no new edge */
    ck_assert(!pic_intr(pic));
    pic_set_irq(pic, 3, 0);
    pic_set_irq(pic, 3, 1);
    ck_assert(pic_intr(pic));
}
END_TEST

START_TEST(test_level_follows_line)
{
    out8(ELCR1, 0x08); /* ELCR1: IRQ 3 level */
    pic_set_irq(pic, 3, 1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    out8(PIC1_CMD, 0x20); /* OCW2: EOI with the line still high */
    ck_assert(pic_intr(pic));
    pic_set_irq(pic, 3, 0);
    ck_assert(!pic_intr(pic));
    ck_assert_int_eq(in8(PIC1_CMD), 0x00); /* IRR follows the line */
}
END_TEST

START_TEST(test_elcr_fixed_edge_bits)
{
    out8(ELCR1, 0xFF);                  /* ELCR1: try to make IRQ 0-7 level */
    out8(ELCR2, 0xFF);                  /* ELCR2: try IRQ 8-15 */
    ck_assert_int_eq(in8(ELCR1), 0xF8); /* IRQ 0, 1, 2 stay edge */
    ck_assert_int_eq(in8(ELCR2), 0xDE); /* IRQ 8, 13 stay edge */
}
END_TEST

START_TEST(test_level_slave_irq11)
{
    out8(ELCR2, 0x08); /* ELCR2: IRQ 11 level, as for a PCI device */
    pic_set_irq(pic, 11, 1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x2B);
    out8(PIC2_CMD, 0x20);     /* OCW2: slave EOI */
    out8(PIC1_CMD, 0x20);     /* OCW2: master EOI */
    ck_assert(pic_intr(pic)); /* still asserted: it comes back */
    pic_set_irq(pic, 11, 0);
    ck_assert(!pic_intr(pic));
}
END_TEST

START_TEST(test_spurious_irq7)
{
    out8(ELCR1, 0x20); /* ELCR1: IRQ 5 level */
    pic_set_irq(pic, 5, 1);
    ck_assert(pic_intr(pic));
    pic_set_irq(pic, 5, 0); /* gone before INTA */
    ck_assert_int_eq(pic_acknowledge(pic), 0x27);
    out8(PIC1_CMD, 0x0B); /* OCW3: ISR; a spurious IRQ 7 sets nothing */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00);
}
END_TEST

START_TEST(test_slave_withdrawn_gives_irq7)
{
    out8(ELCR2, 0x40); /* ELCR2: IRQ 14 level */
    pic_set_irq(pic, 14, 1);
    ck_assert(pic_intr(pic));
    out8(PIC2_DATA, 0x40); /* slave OCW1: mask IR6 before INTA */
    /* the master's IR2 request went away too: IRQ 7 */
    ck_assert_int_eq(pic_acknowledge(pic), 0x27);
}
END_TEST

START_TEST(test_rotate_on_eoi)
{
    pulse(1);
    pulse(3);
    ck_assert_int_eq(pic_acknowledge(pic), 0x21);
    out8(PIC1_CMD, 0xA0); /* OCW2: rotate on non-specific EOI */
    /* IR1 is now lowest: order 2..7, 0, 1 */
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23);
    out8(PIC1_CMD, 0xA0); /* OCW2: rotate on EOI: IR3 lowest */
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x20);
}
END_TEST

START_TEST(test_rotate_on_specific_eoi)
{
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x21);
    out8(PIC1_CMD, 0xE1); /* OCW2: rotate on specific EOI, IR1 lowest */
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00);
    pulse(0);
    pulse(2 + 1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x23); /* IR3 outranks IR0 */
}
END_TEST

START_TEST(test_special_fully_nested)
{
    out8(PIC1_CMD, 0x11);  /* ICW1: cascade, ICW4 */
    out8(PIC1_DATA, 0x20); /* ICW2 */
    out8(PIC1_DATA, 0x04); /* ICW3 */
    out8(PIC1_DATA, 0x11); /* ICW4: 8086, special fully nested */
    pulse(10);
    ck_assert_int_eq(pic_acknowledge(pic), 0x2A);
    pulse(9);                 /* outranks IRQ 10 on the slave */
    ck_assert(pic_intr(pic)); /* master IR2 in service does not block */
    ck_assert_int_eq(pic_acknowledge(pic), 0x29);
}
END_TEST

START_TEST(test_set_priority)
{
    out8(PIC1_CMD, 0xC4); /* OCW2: set priority, IR4 lowest */
    pulse(1);
    pulse(5);
    ck_assert_int_eq(pic_acknowledge(pic), 0x25);
}
END_TEST

START_TEST(test_rotate_in_aeoi)
{
    init_pics(0x03);      /* ICW4: AEOI */
    out8(PIC1_CMD, 0x80); /* OCW2: rotate in AEOI mode */
    pulse(0);
    ck_assert_int_eq(pic_acknowledge(pic), 0x20);
    pulse(0);
    pulse(6);
    ck_assert_int_eq(pic_acknowledge(pic), 0x26); /* IR0 went lowest */
}
END_TEST

START_TEST(test_poll_command)
{
    out8(PIC1_CMD, 0x0C);                  /* OCW3: poll */
    ck_assert_int_eq(in8(PIC1_CMD), 0x00); /* nothing pending */
    pulse(6);
    out8(PIC1_CMD, 0x0C);                   /* OCW3: poll */
    ck_assert_int_eq(in8(PIC1_DATA), 0x86); /* either port */
    out8(PIC1_CMD, 0x0B); /* OCW3: read ISR: the poll acknowledged */
    ck_assert_int_eq(in8(PIC1_CMD), 0x40);
}
END_TEST

START_TEST(test_special_mask_mode)
{
    out8(PIC1_CMD, 0x13);  /* ICW1: single, ICW4 */
    out8(PIC1_DATA, 0x20); /* ICW2 */
    out8(PIC1_DATA, 0x01); /* ICW4 */
    pulse(1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x21);
    pulse(4);
    ck_assert(!pic_intr(pic)); /* IR1 in service blocks IR4 */
    out8(PIC1_DATA, 0x02);     /* OCW1: mask IR1 */
    out8(PIC1_CMD, 0x68);      /* OCW3: set special mask mode */
    ck_assert(pic_intr(pic));
    ck_assert_int_eq(pic_acknowledge(pic), 0x24);
    out8(PIC1_CMD, 0x48); /* OCW3: reset special mask mode */
    pulse(5);
    ck_assert(!pic_intr(pic));
}
END_TEST

START_TEST(test_irq_line_drives_input)
{
    struct irq_line line = pic_irq_line(pic, 9);

    irq_set(&line, 1);
    ck_assert_int_eq(pic_acknowledge(pic), 0x29);
}
END_TEST

START_TEST(test_reset_and_bus_refusal)
{
    pulse(1);
    pic_reset(pic);
    ck_assert(!pic_intr(pic));
    ck_assert_int_eq(in8(PIC1_DATA), 0x00);
    ck_assert_ptr_null(pic_create(bus)); /* ports already claimed */
}
END_TEST

static TCase *pic_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *pic_suite(void)
{
    Suite *s = suite_create("pic");
    TCase *init = pic_tcase("init");
    TCase *prio = pic_tcase("priority");
    TCase *lines = pic_tcase("lines");

    tcase_add_test(init, test_init_sets_vector_base);
    tcase_add_test(init, test_single_mode_skips_icw3);
    tcase_add_test(init, test_imr_reads_back);
    tcase_add_test(init, test_imr_masks_request);
    tcase_add_test(init, test_ocw3_reads_irr_and_isr);
    tcase_add_test(init, test_reset_and_bus_refusal);
    suite_add_tcase(s, init);

    tcase_add_test(prio, test_fixed_priority_order);
    tcase_add_test(prio, test_higher_priority_nests);
    tcase_add_test(prio, test_specific_eoi);
    tcase_add_test(prio, test_auto_eoi);
    tcase_add_test(prio, test_rotate_on_eoi);
    tcase_add_test(prio, test_rotate_on_specific_eoi);
    tcase_add_test(prio, test_special_fully_nested);
    tcase_add_test(prio, test_set_priority);
    tcase_add_test(prio, test_rotate_in_aeoi);
    tcase_add_test(prio, test_poll_command);
    tcase_add_test(prio, test_special_mask_mode);
    suite_add_tcase(s, prio);

    tcase_add_test(lines, test_cascade_slave_irq10);
    tcase_add_test(lines, test_cascade_auto_eoi);
    tcase_add_test(lines, test_cascade_masked_on_master);
    tcase_add_test(lines, test_edge_latches_rising_edge_only);
    tcase_add_test(lines, test_level_follows_line);
    tcase_add_test(lines, test_elcr_fixed_edge_bits);
    tcase_add_test(lines, test_level_slave_irq11);
    tcase_add_test(lines, test_spurious_irq7);
    tcase_add_test(lines, test_slave_withdrawn_gives_irq7);
    tcase_add_test(lines, test_irq_line_drives_input);
    suite_add_tcase(s, lines);
    return s;
}

int main(void)
{
    return check_run(pic_suite());
}
