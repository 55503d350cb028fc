/* SPDX-License-Identifier: MIT */
/* The PC's cascaded 8259A pair plus the PIIX ELCR edge/level registers. */
#ifndef BT386_DEVICES_PIC_H
#define BT386_DEVICES_PIC_H

#include <stdbool.h>

#include "devices/bus.h"
#include "devices/irq.h"

struct pic;

/*
 * Create the master (0x20/0x21), the slave (0xA0/0xA1, cascaded on master
 * IR2) and the ELCR (0x4D0/0x4D1), and claim those ports on bus. Returns
 * NULL when out of memory or when the bus refuses a port range.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct pic *pic_create(struct io_bus *bus);

/* Free the PIC. The bus has no unregister: destroy the bus first. */
void pic_destroy(struct pic *p);

/* Power-on state: both chips uninitialised, IMR clear, ELCR all edge. The
 * input line levels are the devices' and survive a reset. */
void pic_reset(struct pic *p);

/* The wire a device drives for irq (0..15). */
struct irq_line pic_irq_line(struct pic *p, int irq);

/* Drive input line irq (0..15) to level (0 or 1). */
void pic_set_irq(struct pic *p, int irq, int level);

/* Is input irq (0..15) latched in its chip's IRR (requested, not yet
 * acknowledged)? */
bool pic_irq_requested(const struct pic *p, int irq);

/* The INTR output to the CPU: an unmasked request of higher priority than
 * any in service. */
bool pic_intr(const struct pic *p);

/*
 * The INTA cycle. Returns the vector (ICW2 base + IR), moves the request
 * from IRR to ISR (not in AEOI mode) and runs the cascade. With nothing left
 * to acknowledge, returns the IR7 vector of the chip asked (master, or slave
 * through a master IR2) without setting any ISR bit: a spurious interrupt.
 */
int pic_acknowledge(struct pic *p);

#endif
