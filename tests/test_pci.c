/* SPDX-License-Identifier: MIT */
/* Unit tests for PCI configuration mechanism #1 and the PIIX3 board. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check_main.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/piix.h"

#define CONFIG_ADDRESS 0xCF8
#define RESET_CONTROL  0xCF9
#define CONFIG_DATA    0xCFC

/* Config offsets, as Linux's pci_regs.h names them. */
#define VENDOR_ID   0x00
#define COMMAND     0x04
#define REVISION    0x08 /* and the class code above it */
#define HEADER_TYPE 0x0E
#define BAR0        0x10
#define BAR4        0x20
#define IDETIM_PRI  0x40
#define IDETIM_SEC  0x42

#define IDE_DEVFN PCI_DEVFN(1, 1)
#define BM_STATUS 2 /* bus-master status, in each channel's eight */

static struct io_bus *bus;
static struct piix *piix;
static int irq_levels[16];
static int resets, hard_resets;

static void fake_set_irq(void *opaque, int irq, int level)
{
    irq_levels[irq] = level;
}

static void fake_reset(void *opaque, int hard)
{
    resets++;
    hard_resets += hard;
}

static void setup(void)
{
    static uint8_t ram[4096];
    struct disk *none[PIIX_DRIVES] = {NULL};
    struct dma_ram mem = {ram, sizeof(ram), NULL, NULL};

    bus = bus_create("io");
    resets = hard_resets = 0;
    piix = piix_create(bus, (struct irq_line){fake_set_irq, NULL, 14},
                       (struct irq_line){fake_set_irq, NULL, 15}, none, &mem);
    ck_assert_ptr_nonnull(piix);
    pci_set_reset_handler(piix_pci(piix), fake_reset, NULL);
}

static void teardown(void)
{
    bus_destroy(bus);
    piix_destroy(piix);
}

/* A configuration cycle as Linux's pci_conf1_read does it. */
static uint32_t cfg_read(unsigned devfn, unsigned reg, unsigned size)
{
    bus_write(bus, CONFIG_ADDRESS, 4, 0x80000000u | devfn << 8 | (reg & 0xFC));
    return bus_read(bus, CONFIG_DATA + (reg & 3), size);
}

static void cfg_write(unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
    bus_write(bus, CONFIG_ADDRESS, 4, 0x80000000u | devfn << 8 | (reg & 0xFC));
    bus_write(bus, CONFIG_DATA + (reg & 3), size, v);
}

/* Linux's pci_check_type1: a byte at 0xCFB, then the dword round trip. */
START_TEST(test_type1_detection)
{
    bus_write(bus, 0xCFB, 1, 0x01);
    bus_write(bus, CONFIG_ADDRESS, 4, 0x80000000u);
    ck_assert_uint_eq(bus_read(bus, CONFIG_ADDRESS, 4), 0x80000000u);
    bus_write(bus, CONFIG_ADDRESS, 4, 0x8000080Fu); /* low bits read 0 */
    ck_assert_uint_eq(bus_read(bus, CONFIG_ADDRESS, 4), 0x8000080Cu);
    bus_write(bus, CONFIG_ADDRESS, 2, 0x1234); /* not CONFIG_ADDRESS */
    bus_write(bus, CONFIG_ADDRESS, 1, 0x56);
    ck_assert_uint_eq(bus_read(bus, CONFIG_ADDRESS, 4), 0x8000080Cu);
    ck_assert_uint_eq(bus_read(bus, CONFIG_ADDRESS, 2), 0xFFFF);
}
END_TEST

START_TEST(test_identity_of_functions)
{
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(0, 0), VENDOR_ID, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(0, 0), 0x0A, 2), 0x0600);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), VENDOR_ID, 4), 0x70008086);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), HEADER_TYPE, 1) & 0x80, 0x80);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), REVISION, 4) >> 8, 0x060100);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, VENDOR_ID, 4), 0x70108086);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, REVISION, 4), 0x01018000);
    /* byte and word reads at every offset of CONFIG_DATA */
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x02, 2), 0x7010);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x03, 1), 0x70);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x09, 1), 0x80); /* legacy mode */
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x0B, 1), 0x01);
}
END_TEST

START_TEST(test_absent_functions_read_ones)
{
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(5, 0), VENDOR_ID, 4), 0xFFFFFFFFu);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(0, 1), VENDOR_ID, 2), 0xFFFF);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 2), VENDOR_ID, 1), 0xFF);
    /* bus 1 */
    bus_write(bus, CONFIG_ADDRESS, 4, 0x80010000u);
    ck_assert_uint_eq(bus_read(bus, CONFIG_DATA, 4), 0xFFFFFFFFu);
    /* enable bit clear: no configuration cycle at all */
    bus_write(bus, CONFIG_ADDRESS, 4, 0x00000000u);
    ck_assert_uint_eq(bus_read(bus, CONFIG_DATA, 4), 0xFFFFFFFFu);
    cfg_write(PCI_DEVFN(5, 0), COMMAND, 2, 0xFFFF); /* goes nowhere */
}
END_TEST

START_TEST(test_read_only_fields)
{
    cfg_write(IDE_DEVFN, VENDOR_ID, 4, 0xDEADBEEF);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, VENDOR_ID, 4), 0x70108086);
    cfg_write(IDE_DEVFN, REVISION, 4, 0);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, REVISION, 4), 0x01018000);
    cfg_write(IDE_DEVFN, COMMAND, 2, 0xFFFF); /* only IOSE and BME stick */
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, COMMAND, 2), 0x0005);
}
END_TEST

/* BAR sizing: all ones reads back the size mask with bit 0 (I/O) set;
 * unimplemented BARs stay 0. */
START_TEST(test_bar_sizing)
{
    uint32_t old = cfg_read(IDE_DEVFN, BAR4, 4);

    ck_assert_uint_eq(old, PIIX_BMIDE_BASE | 1);
    cfg_write(IDE_DEVFN, COMMAND, 2, 0); /* decoding off while sizing */
    cfg_write(IDE_DEVFN, BAR4, 4, 0xFFFFFFFFu);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, BAR4, 4), 0x0000FFF1u);
    cfg_write(IDE_DEVFN, BAR4, 4, old);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, BAR4, 4), old);
    for (unsigned bar = 0; bar < 4; bar++) {
        cfg_write(IDE_DEVFN, BAR0 + 4 * bar, 4, 0xFFFFFFFFu);
        ck_assert_uint_eq(cfg_read(IDE_DEVFN, BAR0 + 4 * bar, 4), 0);
    }
}
END_TEST

/* BAR4 decodes where it points, only with I/O enabled, and moves. */
START_TEST(test_bar_decoding_follows_command_and_base)
{
    uint32_t bm_status = PIIX_BMIDE_BASE + BM_STATUS;

    ck_assert_uint_eq(bus_read(bus, bm_status, 1), 0x00);
    cfg_write(IDE_DEVFN, COMMAND, 2, 0x0004); /* I/O off */
    ck_assert_uint_eq(bus_read(bus, bm_status, 1), 0xFF);
    cfg_write(IDE_DEVFN, BAR4, 4, 0xD000);
    cfg_write(IDE_DEVFN, COMMAND, 2, 0x0005);
    ck_assert_uint_eq(bus_read(bus, bm_status, 1), 0xFF); /* moved away */
    ck_assert_uint_eq(bus_read(bus, 0xD000 + BM_STATUS, 1), 0x00);
    bus_write(bus, 0xD000 + 8 + 4, 4, 0x12345678); /* secondary PRDT */
    ck_assert_uint_eq(bus_read(bus, 0xD000 + 8 + 4, 4), 0x12345678);
    ck_assert_uint_eq(bus_read(bus, 0xD000 + 4, 4), 0); /* primary's */
    cfg_write(IDE_DEVFN, BAR4, 4, PIIX_BMIDE_BASE);     /* and back */
    ck_assert_uint_eq(bus_read(bus, 0xD000 + 8 + 4, 4), 0xFFFFFFFFu);
    ck_assert_uint_eq(bus_read(bus, PIIX_BMIDE_BASE + 8 + 4, 4), 0x12345678);
}
END_TEST

/* What ata_piix's piix_enable_bits test: bit 7 of 0x41 and of 0x43. */
START_TEST(test_idetim_decode_enabled)
{
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x41, 1) & 0x80, 0x80);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, 0x43, 1) & 0x80, 0x80);
    cfg_write(IDE_DEVFN, IDETIM_PRI, 2, 0xE3F7); /* piix_set_timings */
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, IDETIM_PRI, 2), 0xE3F7 & 0xF3FF);
    pci_reset(piix_pci(piix));
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, IDETIM_PRI, 2), 0x8000);
    ck_assert_uint_eq(cfg_read(IDE_DEVFN, IDETIM_SEC, 2), 0x8000);
}
END_TEST

START_TEST(test_reset_control_register)
{
    bus_write(bus, RESET_CONTROL, 1, 0x02);
    ck_assert_int_eq(resets, 0);
    ck_assert_uint_eq(bus_read(bus, RESET_CONTROL, 1), 0x02);
    bus_write(bus, RESET_CONTROL, 1, 0x06);
    ck_assert_int_eq(resets, 1);
    ck_assert_int_eq(hard_resets, 1);
    bus_write(bus, RESET_CONTROL, 1, 0x04);
    ck_assert_int_eq(resets, 2);
    ck_assert_int_eq(hard_resets, 1);
}
END_TEST

/* The legacy channels answer at the ISA ports: an empty cable on both. */
START_TEST(test_legacy_ports_claimed)
{
    ck_assert_uint_eq(bus_read(bus, 0x1F7, 1), 0x7F);
    ck_assert_uint_eq(bus_read(bus, 0x3F6, 1), 0x7F);
    ck_assert_uint_eq(bus_read(bus, 0x177, 1), 0x7F);
    ck_assert_uint_eq(bus_read(bus, 0x376, 1), 0x7F);
    ck_assert_uint_eq(bus_unclaimed(bus), 0);
}
END_TEST

/* A disk on the primary: IDENTIFY through the board, on IRQ 14. */
START_TEST(test_board_primary_disk)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096], err[256];
    struct disk *disks[PIIX_DRIVES] = {NULL};
    struct io_bus *io = bus_create("io");
    struct piix *p;
    int fd;

    snprintf(path, sizeof(path), "%s/bt386-pci-XXXXXX", tmp ? tmp : P_tmpdir);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
    close(fd);
    disks[PIIX_PRIMARY_MASTER] = disk_open(path, false, err, sizeof(err));
    unlink(path);
    ck_assert_ptr_nonnull(disks[PIIX_PRIMARY_MASTER]);
    p = piix_create(io, (struct irq_line){fake_set_irq, NULL, 14},
                    (struct irq_line){fake_set_irq, NULL, 15}, disks, NULL);
    ck_assert_ptr_nonnull(p);
    bus_write(io, 0x1F6, 1, 0xA0);
    bus_write(io, 0x1F7, 1, 0xEC);
    ck_assert_int_eq(irq_levels[14], 1);
    ck_assert_int_eq(irq_levels[15], 0);
    ck_assert_uint_eq(bus_read(io, 0x1F7, 1), 0x58);
    ck_assert_int_eq(irq_levels[14], 0);
    /* no RAM for DMA: BAR4 stays zero and unwritable */
    bus_write(io, CONFIG_ADDRESS, 4, 0x80000000u | IDE_DEVFN << 8 | BAR4);
    bus_write(io, CONFIG_DATA, 4, 0xFFFFFFFFu);
    ck_assert_uint_eq(bus_read(io, CONFIG_DATA, 4), 0);
    bus_destroy(io);
    piix_destroy(p);
    disk_close(disks[PIIX_PRIMARY_MASTER]);
}
END_TEST

/* The generic layer on its own bus: devfn taken, BAR arguments checked. */
START_TEST(test_pci_add_checks)
{
    struct io_bus *io = bus_create("io");
    struct pci_bus *pci = pci_create(io);
    struct pci_ident id = {0x1234, 0x5678, 0x020000, 1, 0};
    struct pci_func *f;

    ck_assert_ptr_nonnull(pci);
    ck_assert_ptr_null(pci_create(io)); /* 0xCF8 taken */
    f = pci_add(pci, PCI_DEVFN(3, 0), &id);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(pci_add(pci, PCI_DEVFN(3, 0), &id));
    ck_assert_int_eq(pci_add_io_bar(f, 6, 16, 0, NULL, NULL), -1);
    ck_assert_uint_eq(pci_config_read(f, 0x00, 4), 0x56781234);
    ck_assert_uint_eq(pci_config_read(f, 0x08, 4), 0x02000001);
    bus_destroy(io);
    pci_destroy(pci);
}
END_TEST

static Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *cfg = tcase_create("config");
    TCase *board = tcase_create("board");

    tcase_add_checked_fixture(cfg, setup, teardown);
    tcase_add_test(cfg, test_type1_detection);
    tcase_add_test(cfg, test_identity_of_functions);
    tcase_add_test(cfg, test_absent_functions_read_ones);
    tcase_add_test(cfg, test_read_only_fields);
    tcase_add_test(cfg, test_bar_sizing);
    tcase_add_test(cfg, test_bar_decoding_follows_command_and_base);
    tcase_add_test(cfg, test_idetim_decode_enabled);
    tcase_add_test(cfg, test_reset_control_register);
    tcase_add_test(cfg, test_legacy_ports_claimed);
    tcase_add_test(board, test_board_primary_disk);
    tcase_add_test(board, test_pci_add_checks);
    suite_add_tcase(s, cfg);
    suite_add_tcase(s, board);
    return s;
}

int main(void)
{
    return check_run(pci_suite());
}
