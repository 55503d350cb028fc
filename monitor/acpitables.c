/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a PC BIOS would leave: enough ACPI 1.0b for the PM timer
 * and soft off (S5), with the PCI host bridge a guest then needs to find
 * its PCI devices (Linux scans PCI only through ACPI once ACPI is on).
 * No MADT: without one an OS keeps the 8259 PIC.
 */
#include "monitor/acpitables.h"

#include <stddef.h>
#include <string.h>

#include "devices/acpipm.h"

/* Registers: the RSDP (ACPI 1.0, revision 0) */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_CHECKSUM  8  /* u8: the 20 bytes sum to 0 */
#define RSDP_OEMID     9  /* 6 bytes */
#define RSDP_REVISION  15 /* u8: 0 for ACPI 1.0 */
#define RSDP_RSDT      16 /* u32 */
#define RSDP_SIZE      20
#define RSDP_ALIGN     16 /* the OS scans 16-byte boundaries */

/* Registers: the header every table but the FACS starts with */
#define HDR_SIGNATURE    0  /* 4 bytes */
#define HDR_LENGTH       4  /* u32: the whole table */
#define HDR_REVISION     8  /* u8 */
#define HDR_CHECKSUM     9  /* u8: the table sums to 0 */
#define HDR_OEMID        10 /* 6 bytes */
#define HDR_OEM_TABLE_ID 16 /* 8 bytes */
#define HDR_OEM_REVISION 24 /* u32 */
#define HDR_CREATOR_ID   28 /* 4 bytes */
#define HDR_CREATOR_REV  32 /* u32 */
#define HDR_SIZE         36
#define TABLE_ALIGN      16

/* Registers: the RSDT, an array of 32-bit table addresses */
#define RSDT_REVISION 1
#define RSDT_ENTRIES  HDR_SIZE

/* Registers: the FADT, revision 1 (ACPI 1.0b table 5-7) */
#define FADT_REVISION      1
#define FADT_FIRMWARE_CTRL 36  /* u32: the FACS */
#define FADT_DSDT          40  /* u32 */
#define FADT_INT_MODEL     44  /* u8: 0 dual 8259 PIC, 1 APIC */
#define FADT_SCI_INT       46  /* u16: the SCI's 8259 IRQ */
#define FADT_SMI_CMD       48  /* u32: 0, no SMM to hand ACPI over */
#define FADT_PM1A_EVT_BLK  56  /* u32 */
#define FADT_PM1A_CNT_BLK  64  /* u32 */
#define FADT_PM_TMR_BLK    76  /* u32 */
#define FADT_PM1_EVT_LEN   88  /* u8 */
#define FADT_PM1_CNT_LEN   89  /* u8 */
#define FADT_PM_TMR_LEN    91  /* u8 */
#define FADT_P_LVL2_LAT    96  /* u16: > 100 us means no C2 */
#define FADT_P_LVL3_LAT    98  /* u16: > 1000 us means no C3 */
#define FADT_CENTURY       108 /* u8: the RTC's CMOS century byte */
#define FADT_FLAGS         112 /* u32 */
#define FADT_SIZE          116
#define INT_MODEL_PIC      0
#define NO_C2_LATENCY      101
#define NO_C3_LATENCY      1001
#define CMOS_CENTURY       0x32

/* Commands: FADT flags */
#define FADT_WBINVD     (1u << 0) /* WBINVD flushes caches */
#define FADT_PROC_C1    (1u << 2) /* HLT (C1) works */
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-hardware power button */
#define FADT_SLP_BUTTON (1u << 5) /* no sleep button */

/* Registers: the FACS (no header, no checksum, 64-byte aligned) */
#define FACS_SIGNATURE 0 /* "FACS" */
#define FACS_LENGTH    4 /* u32 */
#define FACS_SIZE      64
#define FACS_ALIGN     64

/* What the tables say made them. */
#define OEM_ID        "BT386 "
#define OEM_TABLE_ID  "BT386PC "
#define OEM_REVISION  1
#define CREATOR_ID    "BT38"
#define CREATOR_REV   1
#define DSDT_REVISION 1 /* AML integers are 32 bits */

/* AML opcodes (ACPI 1.0b section 16.2) */
#define AML_ZERO     0x00
#define AML_ONE      0x01
#define AML_NAME     0x08 /* NameOp NameString DataRefObject */
#define AML_BYTE     0x0A /* BytePrefix ByteData */
#define AML_WORD     0x0B
#define AML_DWORD    0x0C
#define AML_SCOPE    0x10 /* ScopeOp PkgLength NameString TermList */
#define AML_BUFFER   0x11 /* BufferOp PkgLength BufferSize ByteList */
#define AML_PACKAGE  0x12 /* PackageOp PkgLength NumElements ... */
#define AML_EXT      0x5B /* ExtOpPrefix */
#define AML_DEVICE   0x82 /* after ExtOpPrefix: PkgLength NameString ... */
#define AML_ROOT     '\\'
#define PKGLEN_1_MAX 0x3F /* one byte: bits 0-5 */
#define PKGLEN_2     0x40 /* two bytes: bits 0-3, then the next 8 */
#define PKGLEN_2_MAX 0xFFF
#define AML_MAX      512 /* the DSDT body is far smaller */

/* EisaId("PNP0A03"), a PCI host bridge: the letters 5 bits each from
 * '@', then the hex digits, stored big-endian: 41 D0 0A 03. */
#define EISAID_PNP0A03 0x030AD041u

/* Resource descriptors (ACPI 1.0b section 6.4) */
#define RES_WORD_SPACE   0x88 /* large: Word Address Space */
#define RES_DWORD_SPACE  0x87 /* large: DWord Address Space */
#define RES_WORD_LEN     13   /* bytes after the 3-byte large header */
#define RES_DWORD_LEN    23
#define RES_END_TAG      0x79 /* small: End Tag, then a checksum of 0 */
#define RES_TYPE_MEMORY  0
#define RES_TYPE_IO      1
#define RES_TYPE_BUS     2
#define RES_FIXED_RANGE  0x0C /* producer, positive decode, min/max fixed */
#define RES_IO_ENTIRE    0x03 /* ISA and non-ISA ports */
#define RES_MEM_CACHE_RW 0x03 /* cacheable, read/write */

/* The PC address map the host bridge decodes. */
#define PCI_BUS_MAX       0xFF
#define PCI_CONFIG_PORT   0x0CF8 /* 0xCF8-0xCFF: the bridge's own */
#define PCI_CONFIG_END    0x0CFF
#define PCI_IO_MAX        0xFFFF
#define VGA_MEM_START     0xA0000u
#define VGA_MEM_END       0xBFFFFu
#define PCI_MEM_END       0xFEBFFFFFu /* below the APIC area */
#define PCI_MEM_START_MAX 0xFEB00000u /* last RAM end leaving PCI memory */

#define MIB 0x100000u

/* AML under construction. */
struct aml {
    uint8_t buf[AML_MAX];
    size_t len; /* may run past AML_MAX: then nothing fit */
};

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Set the byte at p + at so that the len bytes from p sum to 0. */
static void acpi_checksum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;

    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    p[at] = (uint8_t)-sum;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    if (a->len < AML_MAX)
        a->buf[a->len] = b;
    a->len++;
}

static void aml_word(struct aml *a, uint16_t v)
{
    aml_byte(a, v & 0xFF);
    aml_byte(a, v >> 8);
}

static void aml_dword(struct aml *a, uint32_t v)
{
    aml_word(a, v & 0xFFFF);
    aml_word(a, v >> 16);
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, ((const uint8_t *)p)[i]);
}

/* A NameSeg: four characters, '_'-padded by the caller. */
static void aml_nameseg(struct aml *a, const char seg[4])
{
    aml_bytes(a, seg, 4);
}

/* An integer in the shortest encoding, as an ASL compiler picks it. */
static void aml_integer(struct aml *a, uint32_t v)
{
    if (v == 0) {
        aml_byte(a, AML_ZERO);
    } else if (v == 1) {
        aml_byte(a, AML_ONE);
    } else if (v <= 0xFF) {
        aml_byte(a, AML_BYTE);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        aml_byte(a, AML_WORD);
        aml_word(a, (uint16_t)v);
    } else {
        aml_byte(a, AML_DWORD);
        aml_dword(a, v);
    }
}

/* Start a PkgLength-prefixed body: returns where its PkgLength goes. */
static size_t aml_open(struct aml *a)
{
    aml_byte(a, 0);
    return a->len - 1;
}

/*
 * End the body opened at `at`. PkgLength counts its own bytes: one when
 * the total fits 6 bits, else two (4 low bits, then 8), with the body
 * moved up a byte to make room.
 */
static void aml_close(struct aml *a, size_t at)
{
    size_t body = a->len - at - 1;

    if (a->len > AML_MAX)
        return;
    if (body + 1 <= PKGLEN_1_MAX) {
        a->buf[at] = (uint8_t)(body + 1);
        return;
    }
    aml_byte(a, 0);
    if (a->len > AML_MAX || body + 2 > PKGLEN_2_MAX) {
        a->len = AML_MAX + 1;
        return;
    }
    memmove(a->buf + at + 2, a->buf + at + 1, body);
    a->buf[at] = (uint8_t)(PKGLEN_2 | ((body + 2) & 0xF));
    a->buf[at + 1] = (uint8_t)((body + 2) >> 4);
}

/* Name(_S5, Package(4) { typ, typ, 0, 0 }): SLP_TYPa, SLP_TYPb, reserved. */
static void dsdt_s5(struct aml *a, uint8_t slp_typ)
{
    size_t pkg;

    aml_byte(a, AML_NAME);
    aml_nameseg(a, "_S5_");
    aml_byte(a, AML_PACKAGE);
    pkg = aml_open(a);
    aml_byte(a, 4); /* NumElements */
    aml_integer(a, slp_typ);
    aml_integer(a, slp_typ);
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_close(a, pkg);
}

/* WordBusNumber or WordIO (ResourceProducer, MinFixed, MaxFixed,
 * PosDecode), granularity and translation 0. */
static void res_word(struct aml *r, uint8_t type, uint8_t type_flags,
                     uint16_t min, uint16_t max)
{
    aml_byte(r, RES_WORD_SPACE);
    aml_word(r, RES_WORD_LEN);
    aml_byte(r, type);
    aml_byte(r, RES_FIXED_RANGE);
    aml_byte(r, type_flags);
    aml_word(r, 0);
    aml_word(r, min);
    aml_word(r, max);
    aml_word(r, 0);
    aml_word(r, (uint16_t)(max - min + 1));
}

/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 * Cacheable, ReadWrite), granularity and translation 0. */
static void res_memory(struct aml *r, uint32_t min, uint32_t max)
{
    aml_byte(r, RES_DWORD_SPACE);
    aml_word(r, RES_DWORD_LEN);
    aml_byte(r, RES_TYPE_MEMORY);
    aml_byte(r, RES_FIXED_RANGE);
    aml_byte(r, RES_MEM_CACHE_RW);
    aml_dword(r, 0);
    aml_dword(r, min);
    aml_dword(r, max);
    aml_dword(r, 0);
    aml_dword(r, max - min + 1);
}

/*
 * Name(_CRS, ResourceTemplate() {...}): what the host bridge forwards to
 * PCI. Bus 0 (and the numbers below it), every port but its own
 * configuration ports, the VGA window and the memory above RAM.
 */
static void pci0_crs(struct aml *a, uint32_t ram_top)
{
    struct aml r = {.len = 0};
    size_t buf;

    res_word(&r, RES_TYPE_BUS, 0, 0, PCI_BUS_MAX);
    res_word(&r, RES_TYPE_IO, RES_IO_ENTIRE, 0, PCI_CONFIG_PORT - 1);
    res_word(&r, RES_TYPE_IO, RES_IO_ENTIRE, PCI_CONFIG_END + 1, PCI_IO_MAX);
    res_memory(&r, VGA_MEM_START, VGA_MEM_END);
    res_memory(&r, ram_top, PCI_MEM_END);
    aml_byte(&r, RES_END_TAG);
    aml_byte(&r, 0); /* checksum 0: "treat as valid" */

    aml_byte(a, AML_NAME);
    aml_nameseg(a, "_CRS");
    aml_byte(a, AML_BUFFER);
    buf = aml_open(a);
    aml_integer(a, (uint32_t)r.len); /* BufferSize */
    if (r.len > AML_MAX)
        a->len = AML_MAX + 1; /* nothing fits */
    else
        aml_bytes(a, r.buf, r.len);
    aml_close(a, buf);
}

/*
 * Scope(\_SB) { Device(PCI0) { Name(_HID, EisaId("PNP0A03")) Name(_CRS,
 * ...) } }. With ACPI on, Linux finds PCI buses only through such host
 * bridges, not by probing.
 */
static void dsdt_pci0(struct aml *a, uint32_t ram_top)
{
    size_t scope, dev;

    aml_byte(a, AML_SCOPE);
    scope = aml_open(a);
    aml_byte(a, AML_ROOT);
    aml_nameseg(a, "_SB_");
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_DEVICE);
    dev = aml_open(a);
    aml_nameseg(a, "PCI0");
    aml_byte(a, AML_NAME);
    aml_nameseg(a, "_HID");
    aml_integer(a, EISAID_PNP0A03);
    pci0_crs(a, ram_top);
    aml_close(a, dev);
    aml_close(a, scope);
}

/* Where the next table goes. */
struct acpi_layout {
    uint8_t *ram;
    uint32_t next; /* first free byte */
};

/* Place size bytes at the next multiple of align; 0 when they don't fit. */
static uint32_t acpi_alloc(struct acpi_layout *l, uint32_t size, uint32_t align)
{
    uint32_t at = (l->next + align - 1) & ~(align - 1);

    if (at > ACPI_TABLES_END || ACPI_TABLES_END - at < size)
        return 0;
    l->next = at + size;
    return at;
}

/* A table header for sig of len bytes; the checksum comes last. */
static void acpi_header(uint8_t *p, const char sig[4], uint32_t len,
                        uint8_t revision)
{
    memcpy(p + HDR_SIGNATURE, sig, 4);
    put32(p + HDR_LENGTH, len);
    p[HDR_REVISION] = revision;
    memcpy(p + HDR_OEMID, OEM_ID, 6);
    memcpy(p + HDR_OEM_TABLE_ID, OEM_TABLE_ID, 8);
    put32(p + HDR_OEM_REVISION, OEM_REVISION);
    memcpy(p + HDR_CREATOR_ID, CREATOR_ID, 4);
    put32(p + HDR_CREATOR_REV, CREATOR_REV);
}

static void acpi_table_done(uint8_t *p)
{
    uint32_t len;

    memcpy(&len, p + HDR_LENGTH, 4);
    acpi_checksum(p, len, HDR_CHECKSUM);
}

/*
 * The FADT. SMI_CMD 0 says the machine is always in ACPI mode (SCI_EN
 * reads 1); no GPE blocks, no PM1b or PM2 blocks; a 24-bit PM timer
 * (TMR_VAL_EXT clear).
 */
static void acpi_fadt(uint8_t *p, uint32_t facs, uint32_t dsdt,
                      const struct acpi_config *cfg)
{
    acpi_header(p, "FACP", FADT_SIZE, FADT_REVISION);
    put32(p + FADT_FIRMWARE_CTRL, facs);
    put32(p + FADT_DSDT, dsdt);
    p[FADT_INT_MODEL] = INT_MODEL_PIC;
    put16(p + FADT_SCI_INT, cfg->sci_irq);
    put32(p + FADT_SMI_CMD, 0);
    put32(p + FADT_PM1A_EVT_BLK, cfg->pm_base + ACPIPM_PM1_EVT);
    put32(p + FADT_PM1A_CNT_BLK, cfg->pm_base + ACPIPM_PM1_CNT);
    put32(p + FADT_PM_TMR_BLK, cfg->pm_base + ACPIPM_PM_TMR);
    p[FADT_PM1_EVT_LEN] = ACPIPM_PM1_EVT_LEN;
    p[FADT_PM1_CNT_LEN] = ACPIPM_PM1_CNT_LEN;
    p[FADT_PM_TMR_LEN] = ACPIPM_PM_TMR_LEN;
    put16(p + FADT_P_LVL2_LAT, NO_C2_LATENCY);
    put16(p + FADT_P_LVL3_LAT, NO_C3_LATENCY);
    p[FADT_CENTURY] = CMOS_CENTURY;
    put32(p + FADT_FLAGS,
          FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON);
    acpi_table_done(p);
}

static void acpi_rsdp(uint8_t *p, uint32_t rsdt)
{
    memcpy(p, RSDP_SIGNATURE, 8);
    memcpy(p + RSDP_OEMID, OEM_ID, 6);
    p[RSDP_REVISION] = 0;
    put32(p + RSDP_RSDT, rsdt);
    acpi_checksum(p, RSDP_SIZE, RSDP_CHECKSUM);
}

int acpi_tables_build(uint8_t *ram, uint32_t ram_size,
                      const struct acpi_config *cfg)
{
    struct acpi_layout l = {ram, ACPI_TABLES_START};
    struct aml dsdt = {.len = 0};
    uint32_t rsdp, rsdt, facs, fadt, dsdt_at;

    if (ram_size < ACPI_TABLES_END || ram_size > PCI_MEM_START_MAX)
        return -1;
    dsdt_s5(&dsdt, cfg->s5_slp_typ);
    dsdt_pci0(&dsdt, (ram_size + MIB - 1) & ~(MIB - 1));
    if (dsdt.len > AML_MAX)
        return -1;
    rsdp = acpi_alloc(&l, RSDP_SIZE, RSDP_ALIGN);
    rsdt = acpi_alloc(&l, HDR_SIZE + 4, TABLE_ALIGN);
    facs = acpi_alloc(&l, FACS_SIZE, FACS_ALIGN);
    fadt = acpi_alloc(&l, FADT_SIZE, TABLE_ALIGN);
    dsdt_at = acpi_alloc(&l, HDR_SIZE + (uint32_t)dsdt.len, TABLE_ALIGN);
    if (!rsdp || !rsdt || !facs || !fadt || !dsdt_at)
        return -1;
    memset(ram + ACPI_TABLES_START, 0, l.next - ACPI_TABLES_START);

    acpi_header(ram + dsdt_at, "DSDT", HDR_SIZE + (uint32_t)dsdt.len,
                DSDT_REVISION);
    memcpy(ram + dsdt_at + HDR_SIZE, dsdt.buf, dsdt.len);
    acpi_table_done(ram + dsdt_at);

    memcpy(ram + facs + FACS_SIGNATURE, "FACS", 4);
    put32(ram + facs + FACS_LENGTH, FACS_SIZE);

    acpi_fadt(ram + fadt, facs, dsdt_at, cfg);

    acpi_header(ram + rsdt, "RSDT", HDR_SIZE + 4, RSDT_REVISION);
    put32(ram + rsdt + RSDT_ENTRIES, fadt);
    acpi_table_done(ram + rsdt);

    acpi_rsdp(ram + rsdp, rsdt);
    return 0;
}
