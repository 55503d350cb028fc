/* SPDX-License-Identifier: MIT */
/* Unit tests for the ACPI tables: found, summed and read as an OS does. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "devices/acpipm.h"
#include "monitor/acpitables.h"

#define RAM_SIZE    (64u << 20)
#define RAM_FILL    0xA5 /* what the tables must not overwrite */
#define PM_BASE     0x600
#define SCI_IRQ     9
#define SCAN_START  0xE0000u  /* Linux's acpi_find_root_pointer: the BIOS */
#define SCAN_END    0x100000u /* area, 16-byte steps */
#define EBDA_PTR    0x40E     /* real-mode segment of the EBDA (0: none) */
#define RSDP_LENGTH 20        /* ACPI 1.0: what the checksum covers */

/* FADT offsets (ACPI 1.0b table 5-7) */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT          40
#define FADT_INT_MODEL     44
#define FADT_SCI_INT       46
#define FADT_SMI_CMD       48
#define FADT_PM1A_EVT_BLK  56
#define FADT_PM1B_EVT_BLK  60
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM1B_CNT_BLK  68
#define FADT_PM2_CNT_BLK   72
#define FADT_PM_TMR_BLK    76
#define FADT_GPE0_BLK      80
#define FADT_GPE1_BLK      84
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_PM2_CNT_LEN   90
#define FADT_PM_TMR_LEN    91
#define FADT_GPE0_BLK_LEN  92
#define FADT_GPE1_BLK_LEN  93
#define FADT_FLAGS         112
#define FADT_TMR_VAL_EXT   (1u << 8)

static uint8_t *ram;
static const struct acpi_config cfg = {
    .pm_base = PM_BASE,
    .sci_irq = SCI_IRQ,
    .s5_slp_typ = ACPIPM_SLP_TYP_S5,
};

static void setup(void)
{
    ram = malloc(RAM_SIZE);
    ck_assert_ptr_nonnull(ram);
    memset(ram, RAM_FILL, RAM_SIZE);
    ram[EBDA_PTR] = ram[EBDA_PTR + 1] = 0;
    ck_assert_int_eq(acpi_tables_build(ram, RAM_SIZE, &cfg), 0);
}

static void teardown(void)
{
    free(ram);
}

static uint16_t get16(uint32_t addr)
{
    return (uint16_t)(ram[addr] | ram[addr + 1] << 8);
}

static uint32_t get32(uint32_t addr)
{
    return (uint32_t)get16(addr) | (uint32_t)get16(addr + 2) << 16;
}

static uint8_t sum(uint32_t addr, uint32_t len)
{
    uint8_t s = 0;

    for (uint32_t i = 0; i < len; i++)
        s += ram[addr + i];
    return s;
}

/* A whole table lies in the reserved BIOS area: its address, or fail. */
static uint32_t in_bios_area(uint32_t addr, uint32_t len)
{
    ck_assert_uint_ge(addr, ACPI_TABLES_START);
    ck_assert_uint_le(addr + len, ACPI_TABLES_END);
    return addr;
}

/*
 * acpi_find_root_pointer: the first 1 KiB of the EBDA (none here), then
 * 0xE0000-0xFFFFF on 16-byte boundaries, the first "RSD PTR " whose
 * 20 bytes sum to 0.
 */
static uint32_t find_rsdp(void)
{
    ck_assert_uint_eq(get16(EBDA_PTR), 0);
    for (uint32_t a = SCAN_START; a < SCAN_END; a += 16)
        if (!memcmp(ram + a, "RSD PTR ", 8) && sum(a, RSDP_LENGTH) == 0)
            return a;
    ck_abort_msg("no RSDP");
    return 0;
}

/* A table by its pointer: signature, in the BIOS area, sums to 0. */
static uint32_t table(uint32_t addr, const char *sig)
{
    uint32_t len;

    in_bios_area(addr, 36);
    ck_assert_mem_eq(ram + addr, sig, 4);
    len = get32(addr + 4);
    ck_assert_uint_ge(len, 36);
    in_bios_area(addr, len);
    ck_assert_uint_eq(sum(addr, len), 0);
    return addr;
}

static uint32_t fadt(void)
{
    uint32_t rsdt = table(get32(find_rsdp() + 16), "RSDT");

    ck_assert_uint_eq(get32(rsdt + 4), 36 + 4); /* one entry */
    return table(get32(rsdt + 36), "FACP");
}

static uint32_t dsdt(void)
{
    return table(get32(fadt() + FADT_DSDT), "DSDT");
}

/* The offset of needle in the DSDT's AML, or fail. */
static uint32_t aml_find(const void *needle, size_t n)
{
    uint32_t d = dsdt(), len = get32(d + 4);

    for (uint32_t i = 36; i + n <= len; i++)
        if (!memcmp(ram + d + i, needle, n))
            return d + i;
    ck_abort_msg("not in the DSDT");
    return 0;
}

START_TEST(test_rsdp_found_like_linux)
{
    uint32_t rsdp = find_rsdp();

    ck_assert_uint_eq(rsdp, ACPI_RSDP_ADDR);
    ck_assert_uint_eq(rsdp % 16, 0);
    in_bios_area(rsdp, RSDP_LENGTH);
    ck_assert_uint_eq(ram[rsdp + 15], 0); /* revision 0: ACPI 1.0 */
}
END_TEST

START_TEST(test_fadt_fields)
{
    uint32_t f = fadt();

    ck_assert_uint_eq(get32(f + 4), 116);
    ck_assert_uint_eq(ram[f + 8], 1); /* revision */
    ck_assert_uint_eq(ram[f + FADT_INT_MODEL], 0);
    ck_assert_uint_eq(get16(f + FADT_SCI_INT), SCI_IRQ);
    ck_assert_uint_eq(get32(f + FADT_SMI_CMD), 0);
    ck_assert_uint_eq(get32(f + FADT_PM1A_EVT_BLK), PM_BASE);
    ck_assert_uint_eq(get32(f + FADT_PM1A_CNT_BLK), PM_BASE + 4);
    ck_assert_uint_eq(get32(f + FADT_PM_TMR_BLK), PM_BASE + 8);
    ck_assert_uint_eq(ram[f + FADT_PM1_EVT_LEN], 4);
    ck_assert_uint_eq(ram[f + FADT_PM1_CNT_LEN], 2);
    ck_assert_uint_eq(ram[f + FADT_PM_TMR_LEN], 4);
    ck_assert_uint_eq(get32(f + FADT_PM1B_EVT_BLK), 0);
    ck_assert_uint_eq(get32(f + FADT_PM1B_CNT_BLK), 0);
    ck_assert_uint_eq(get32(f + FADT_PM2_CNT_BLK), 0);
    ck_assert_uint_eq(get32(f + FADT_GPE0_BLK), 0);
    ck_assert_uint_eq(get32(f + FADT_GPE1_BLK), 0);
    ck_assert_uint_eq(ram[f + FADT_PM2_CNT_LEN], 0);
    ck_assert_uint_eq(ram[f + FADT_GPE0_BLK_LEN], 0);
    ck_assert_uint_eq(ram[f + FADT_GPE1_BLK_LEN], 0);
    /* WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON; a 24-bit timer. */
    ck_assert_uint_eq(get32(f + FADT_FLAGS), 0x35);
    ck_assert_uint_eq(get32(f + FADT_FLAGS) & FADT_TMR_VAL_EXT, 0);
}
END_TEST

START_TEST(test_facs)
{
    uint32_t facs = get32(fadt() + FADT_FIRMWARE_CTRL);

    in_bios_area(facs, 64);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_mem_eq(ram + facs, "FACS", 4);
    ck_assert_uint_eq(get32(facs + 4), 64);
}
END_TEST

START_TEST(test_dsdt_s5)
{
    /* Name(_S5, Package(4) { 5, 5, Zero, Zero }) */
    static const uint8_t s5[] = {
        0x08, '_',
        'S',  '5',
        '_', /* NameOp "_S5_" */
        0x12, 0x08,
        0x04,                    /* PackageOp PkgLength(8) NumElements(4) */
        0x0A, ACPIPM_SLP_TYP_S5, /* BytePrefix SLP_TYPa */
        0x0A, ACPIPM_SLP_TYP_S5, /* BytePrefix SLP_TYPb */
        0x00, 0x00,              /* ZeroOp ZeroOp: reserved */
    };
    uint32_t d = dsdt();

    ck_assert_uint_eq(aml_find(s5, sizeof(s5)), d + 36); /* at the root */
}
END_TEST

static uint32_t get_width(uint32_t addr, unsigned width)
{
    return width == 2 ? get16(addr) : get32(addr);
}

/*
 * The Word (tag 0x88) or DWord (0x87) address space descriptor at p:
 * resource type, producer with min and max fixed, min to max; its fields
 * are granularity, min, max, translation and length.
 */
static void assert_space(uint32_t p, uint8_t tag, uint8_t type, uint32_t min,
                         uint32_t max)
{
    unsigned w = tag == 0x88 ? 2 : 4;
    uint32_t f = p + 6;

    ck_assert_uint_eq(ram[p], tag);
    ck_assert_uint_eq(get16(p + 1), 3 + 5 * w);
    ck_assert_uint_eq(ram[p + 3], type);
    ck_assert_uint_eq(ram[p + 4], 0x0C);
    ck_assert_uint_eq(get_width(f, w), 0);
    ck_assert_uint_eq(get_width(f + w, w), min);
    ck_assert_uint_eq(get_width(f + 2 * w, w), max);
    ck_assert_uint_eq(get_width(f + 3 * w, w), 0);
    ck_assert_uint_eq(get_width(f + 4 * w, w), max - min + 1);
}

START_TEST(test_dsdt_pci_host_bridge)
{
    /* Device(PCI0) { Name(_HID, EisaId("PNP0A03")) ... } */
    static const uint8_t hid[] = {
        'P',  'C',  'I',  '0',  0x08, '_', 'H', 'I', 'D', /* NameOp "_HID" */
        0x0C, 0x41, 0xD0, 0x0A, 0x03, /* DWordPrefix EisaId("PNP0A03") */
    };
    static const uint8_t crs[] = {0x08, '_', 'C', 'R', 'S', 0x11};
    uint32_t p = aml_find(crs, sizeof(crs)) + sizeof(crs), len;

    aml_find("\\_SB_", 5);
    ck_assert_uint_eq(aml_find(hid, sizeof(hid)) + sizeof(hid),
                      p - sizeof(crs));
    /* BufferOp PkgLength(2 bytes: 4 low bits, 8 high) BytePrefix size */
    ck_assert_uint_eq(ram[p] & 0xC0, 0x40);
    ck_assert_uint_eq(ram[p + 2], 0x0A);
    len = ram[p + 3];
    ck_assert_uint_eq((ram[p] & 0x0F) | ram[p + 1] << 4, 2 + 2 + len);
    p += 4;
    assert_space(p, 0x88, 2, 0, 0xFF); /* buses */
    assert_space(p + 16, 0x88, 1, 0, 0xCF7);
    assert_space(p + 32, 0x88, 1, 0xD00, 0xFFFF);
    assert_space(p + 48, 0x87, 0, 0xA0000, 0xBFFFF);
    assert_space(p + 74, 0x87, 0, RAM_SIZE, 0xFEBFFFFF);
    ck_assert_uint_eq(ram[p + 100], 0x79); /* End Tag */
    ck_assert_uint_eq(len, 102);
}
END_TEST

START_TEST(test_nothing_else_written)
{
    uint32_t d = dsdt(), end = d + get32(d + 4);

    for (uint32_t a = 0; a < RAM_SIZE; a++) {
        if (a == EBDA_PTR || a == EBDA_PTR + 1)
            continue;
        if (a >= ACPI_TABLES_START && a < end)
            continue;
        if (ram[a] != RAM_FILL)
            ck_abort_msg("byte 0x%x written", a);
    }
}
END_TEST

START_TEST(test_other_slp_typ)
{
    struct acpi_config c = cfg;
    static const uint8_t s5[] = {0x08, '_',  'S',  '5',  '_',  0x12,
                                 0x08, 0x04, 0x0A, 0x07, 0x0A, 0x07};

    c.s5_slp_typ = 7;
    ck_assert_int_eq(acpi_tables_build(ram, RAM_SIZE, &c), 0);
    aml_find(s5, sizeof(s5));
}
END_TEST

START_TEST(test_ram_too_small_or_large)
{
    ck_assert_int_eq(acpi_tables_build(ram, 0xFFFFF, &cfg), -1);
    ck_assert_int_eq(acpi_tables_build(ram, 0xFEB00001, &cfg), -1);
}
END_TEST

static Suite *acpitables_suite(void)
{
    Suite *s = suite_create("acpitables");
    TCase *tc = tcase_create("tables");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rsdp_found_like_linux);
    tcase_add_test(tc, test_fadt_fields);
    tcase_add_test(tc, test_facs);
    tcase_add_test(tc, test_dsdt_s5);
    tcase_add_test(tc, test_dsdt_pci_host_bridge);
    tcase_add_test(tc, test_nothing_else_written);
    tcase_add_test(tc, test_other_slp_typ);
    tcase_add_test(tc, test_ram_too_small_or_large);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(acpitables_suite());
}
