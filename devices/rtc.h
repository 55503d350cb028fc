/* SPDX-License-Identifier: MIT */
/* The MC146818A real-time clock and its 128 bytes of CMOS RAM. */
#ifndef BT386_DEVICES_RTC_H
#define BT386_DEVICES_RTC_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

struct rtc;

/*
 * Create the RTC and claim ports 0x70 (index, bit 7 the NMI mask) and 0x71
 * (data) on bus. IRQF drives irq8 (IRQ 8 on a PC). now_ns(opaque) is the
 * time base (any epoch, nanoseconds, never going back); wall_time_s(opaque)
 * is read once, here, for the time the clock starts from: seconds since
 * 1970-01-01 00:00:00 in the zone the guest keeps its RTC in (UTC for
 * Linux, local time for DOS and Windows). The clock then runs on now_ns.
 * Returns NULL when out of memory or when the bus refuses the ports.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct rtc *rtc_create(struct io_bus *bus, struct irq_line irq8,
                       uint64_t (*now_ns)(void *opaque),
                       int64_t (*wall_time_s)(void *opaque), void *opaque);

/* Free the RTC. The bus has no unregister: destroy the bus first. */
void rtc_destroy(struct rtc *r);

/*
 * The RESET pin, as a PC pulses it at machine reset: clears the interrupt
 * enables and flags and lowers IRQ 8. The time, the divider and rate
 * selects, the data mode and the CMOS RAM are battery-backed and kept.
 */
void rtc_reset(struct rtc *r);

/*
 * Bring the interrupt flags (periodic, alarm, update-ended) up to now_ns()
 * and drive IRQ 8 from them: high while IRQF is set, until register C is
 * read.
 */
void rtc_update(struct rtc *r);

/*
 * The now_ns() time at which rtc_update will next raise IRQ 8 (the first
 * enabled flag due; it may already be past), or -1 when none is enabled or
 * IRQ 8 is already high (nothing changes it again until register C is read).
 */
int64_t rtc_next_event_ns(struct rtc *r);

/*
 * Fill the memory-size bytes a PC BIOS leaves in CMOS for ram_bytes of RAM
 * from address 0: base memory (0x15-0x16, at most 640 KiB), memory above
 * 1 MiB in KiB (0x17-0x18 and 0x30-0x31), memory above 16 MiB in 64 KiB
 * units (0x34-0x35), each capped at 0xFFFF; then the checksum of
 * 0x10-0x2D into 0x2E (high byte) and 0x2F.
 */
void rtc_set_memory_size(struct rtc *r, uint64_t ram_bytes);

#endif
