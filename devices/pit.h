/* SPDX-License-Identifier: MIT */
/* The 8254 programmable interval timer and its bits of PC port 0x61. */
#ifndef BT386_DEVICES_PIT_H
#define BT386_DEVICES_PIT_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

struct pit;

/*
 * Create the PIT and claim ports 0x40-0x43 and 0x61 on bus. Counter 0's OUT
 * drives irq0; now_ns(opaque) is the time base (any epoch, nanoseconds,
 * never going back). Returns NULL when out of memory or the bus refuses.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct pit *pit_create(struct io_bus *bus, struct irq_line irq0,
                       uint64_t (*now_ns)(void *opaque), void *opaque);

/* Free the PIT. The bus has no unregister: destroy the bus first. */
void pit_destroy(struct pit *p);

/* Power-on state: counters unprogrammed, OUT high, gate 2 low. */
void pit_reset(struct pit *p);

/*
 * Bring counter 0's OUT up to now_ns() on IRQ0. Modes 0, 1 and 3 drive the
 * line level (a missed whole cycle is replayed as low then high); modes 2, 4
 * and 5, whose OUT is low for one clock only, pulse it (raise then lower).
 */
void pit_update(struct pit *p);

/*
 * Lost ticks: when pit_update finds that counter 0, in a periodic mode (2
 * or 3), rose more than once since the last update (the host did not run
 * the guest for a while), the PIC could latch only one edge. The others
 * are counted (at most a second's worth; reprogramming the counter drops
 * them), and pit_reinject sends one of them as a new edge on IRQ0. The
 * board calls it once the PIC has taken the previous one, so the guest's
 * tick count keeps up with real time, as with KVM's reinjecting PIT.
 */
uint32_t pit_lost_ticks(const struct pit *p);
void pit_reinject(struct pit *p);

/* The now_ns() time of counter 0's next IRQ0 edge, or -1 if none is due. */
int64_t pit_next_event_ns(struct pit *p);

#endif
