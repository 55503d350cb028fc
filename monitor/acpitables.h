/* SPDX-License-Identifier: MIT */
/* ACPI 1.0 tables in guest RAM: RSDP, RSDT, FADT, FACS and a small DSDT. */
#ifndef BT386_MONITOR_ACPITABLES_H
#define BT386_MONITOR_ACPITABLES_H

#include <stdint.h>

/*
 * Where the tables go: the top 64 KiB of the BIOS area, which the e820
 * map reserves and Linux scans (0xE0000-0xFFFFF, 16-byte steps) for the
 * RSDP. The RSDP is at ACPI_RSDP_ADDR, the tables right after it.
 */
#define ACPI_TABLES_START 0xF0000u
#define ACPI_TABLES_END   0x100000u
#define ACPI_RSDP_ADDR    ACPI_TABLES_START

/* What the tables describe. */
struct acpi_config {
    uint16_t pm_base;   /* I/O base of the PM registers, laid out as
                           devices/acpipm.h says */
    uint8_t sci_irq;    /* the ISA IRQ the SCI is wired to (9 on a PC) */
    uint8_t s5_slp_typ; /* SLP_TYP that powers off (ACPIPM_SLP_TYP_S5) */
};

/*
 * Write the tables into ram (ram_size bytes of guest RAM from address 0):
 * an ACPI 1.0 RSDP, an RSDT with one entry, a revision 1 FADT for the PM
 * registers of cfg (no SMI command port: ACPI is always on; 8259 PIC
 * interrupt model; no MADT, so the guest keeps the PIC), its FACS, and a
 * DSDT with \_S5 and a PCI host bridge \_SB.PCI0 that decodes buses
 * 0-255, all I/O ports but its own (0xCF8-0xCFF), the VGA window and the
 * memory from the end of RAM (rounded up to 1 MiB) to the PC's APIC area
 * at 0xFEC00000.
 * Writes nothing outside [ACPI_TABLES_START, ACPI_TABLES_END).
 * Returns 0, or -1 when ram cannot hold them or leaves no PCI memory
 * (ram_size must be at least 1 MiB and at most 0xFEB00000).
 */
int acpi_tables_build(uint8_t *ram, uint32_t ram_size,
                      const struct acpi_config *cfg);

#endif
