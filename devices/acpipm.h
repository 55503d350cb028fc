/* SPDX-License-Identifier: MIT */
/* ACPI fixed-hardware PM registers: PM1 event and control, the PM timer. */
#ifndef BT386_DEVICES_ACPIPM_H
#define BT386_DEVICES_ACPIPM_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

/*
 * The register block, as offsets from its I/O base; the FADT must describe
 * the same layout (PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK and their lengths).
 */
#define ACPIPM_PM1_EVT     0x0 /* PM1a_EVT_BLK: PM1_STS, then PM1_EN */
#define ACPIPM_PM1_EVT_LEN 4
#define ACPIPM_PM1_CNT     0x4 /* PM1a_CNT_BLK: PM1_CNT */
#define ACPIPM_PM1_CNT_LEN 2
#define ACPIPM_PM_TMR      0x8 /* PM_TMR_BLK: the 24-bit PM timer */
#define ACPIPM_PM_TMR_LEN  4
#define ACPIPM_SIZE        12 /* ports claimed; 0x6-0x7 read as 0 */

/* The SLP_TYP that means soft off (S5): the DSDT's \_S5 must name it. */
#define ACPIPM_SLP_TYP_S5 5

/* The PM timer's rate: the PC's 14.31818 MHz crystal divided by 4. */
#define ACPIPM_TIMER_HZ 3579545

struct acpipm;

/*
 * Create the PM registers and claim ports [base, base + ACPIPM_SIZE) on
 * bus. sci is the SCI wire (IRQ 9 on a PC), level-triggered: high while a
 * PM1_STS bit is set whose PM1_EN bit is set. now_ns(opaque) is the time
 * base (any epoch, nanoseconds, never going back); the timer reads 0 at
 * creation and runs on it. power_off(opaque) is called, from inside the
 * port write, when the guest writes SLP_EN with SLP_TYP = ACPIPM_SLP_TYP_S5;
 * it should stop the machine, not free the device. Returns NULL when out
 * of memory or when the bus refuses the ports.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct acpipm *acpipm_create(struct io_bus *bus, uint16_t base,
                             struct irq_line sci,
                             uint64_t (*now_ns)(void *opaque),
                             void (*power_off)(void *opaque), void *opaque);

/* Free the device. The bus has no unregister: destroy the bus first. */
void acpipm_destroy(struct acpipm *a);

/*
 * Machine reset: clears PM1_STS, PM1_EN and SLP_TYP and lowers the SCI.
 * The PM timer keeps counting, so it never goes back.
 */
void acpipm_reset(struct acpipm *a);

/* Bring TMR_STS up to now_ns() and drive the SCI from the status bits. */
void acpipm_update(struct acpipm *a);

/*
 * The now_ns() time at which acpipm_update will next raise the SCI (bit 23
 * of the timer toggling, setting TMR_STS; it may already be past), or -1
 * when TMR_EN is clear or the SCI is already high (nothing changes it again
 * until the guest clears a status bit).
 */
int64_t acpipm_next_event_ns(struct acpipm *a);

#endif
