/* SPDX-License-Identifier: MIT */
/* Unit tests for the ATA channel, driven through its ports as libata does. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "devices/ata.h"
#include "devices/bus.h"
#include "devices/disk.h"

/* Ports of the primary channel, as libata names them. */
#define DATA      0x1F0
#define ERROR     0x1F1 /* read */
#define FEATURE   0x1F1 /* write */
#define NSECT     0x1F2
#define LBAL      0x1F3
#define LBAM      0x1F4
#define LBAH      0x1F5
#define DEVICE    0x1F6
#define STATUS    0x1F7 /* read */
#define COMMAND   0x1F7 /* write */
#define ALTSTATUS 0x3F6 /* read */
#define CTL       0x3F6 /* write */

/* Commands, as libata's ata.h names them. */
#define ATA_RECALIBRATE     0x10
#define ATA_READ            0x20 /* READ SECTORS */
#define ATA_READ_EXT        0x24
#define ATA_WRITE           0x30 /* WRITE SECTORS */
#define ATA_WRITE_EXT       0x34
#define ATA_WRITE_DMA_EXT   0x35
#define ATA_EDD             0x90 /* EXECUTE DEVICE DIAGNOSTIC */
#define ATA_INIT_PARAMS     0x91 /* INITIALIZE DEVICE PARAMETERS */
#define ATA_IDENTIFY_PACKET 0xA1
#define ATA_READ_MULTI      0xC4
#define ATA_SET_MULTI       0xC6
#define ATA_READ_DMA        0xC8
#define ATA_WRITE_DMA       0xCA
#define ATA_STANDBYNOW      0xE0 /* STANDBY IMMEDIATE */
#define ATA_IDLE            0xE3
#define ATA_CHK_POWER       0xE5
#define ATA_FLUSH           0xE7
#define ATA_FLUSH_EXT       0xEA
#define ATA_IDENTIFY        0xEC
#define ATA_SET_FEATURES    0xEF
#define ATA_READ_NATIVE_MAX 0xF8
#define SF_WCACHE_ON        0x02
#define SF_XFER             0x03 /* transfer mode in the count */
#define SF_WCACHE_OFF       0x82

/* Status, error, device and control bits. */
#define ATA_BUSY 0x80
#define ATA_DRDY 0x40
#define ATA_DSC  0x10
#define ATA_DRQ  0x08
#define ATA_ERR  0x01
#define ST_IDLE  (ATA_DRDY | ATA_DSC) /* 0x50 */
#define ST_DATA  (ST_IDLE | ATA_DRQ)  /* 0x58 */
#define ST_FAIL  (ATA_DRDY | ATA_ERR) /* 0x41 */
#define ERR_ABRT 0x04
#define ERR_IDNF 0x10
#define DEV_OBS  0xA0 /* obsolete bits libata sets */
#define DEV_LBA  0x40
#define DEV1     0x10
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB  0x80

/* Bus-master registers, offsets in the channel's eight. */
#define BM_CMD       0
#define BM_STATUS    2
#define BM_PRDT      4
#define BM_START     0x01
#define BM_WRITE_MEM 0x08 /* device to memory: a read command */
#define BM_ACTIVE    0x01
#define BM_ERROR     0x02
#define BM_INTR      0x04
#define PRD_EOT      0x80000000u

#define SECTOR    512
#define SECTORS   20160 /* 20 cylinders of 16 heads x 63 sectors */
#define RAM_SIZE  (1u << 20)
#define PRDT_ADDR 0x1000

/* A fake interrupt wire that counts rising edges. */
struct fake_irq {
    int level; /* last level driven */
    int rises; /* 0 -> 1 transitions */
};

/* What the DMA written hook saw. */
struct written {
    unsigned calls;
    uint32_t bytes;
    uint32_t last_pa;
};

static struct io_bus *bus;
static struct ata_channel *ch;
static struct disk *disks[2];
static char paths[2][4096];
static struct fake_irq irq14;
static uint8_t *ram;
static struct written written;

static void fake_set_irq(void *opaque, int irq, int level)
{
    struct fake_irq *f = opaque;

    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static void note_written(void *opaque, uint32_t pa, uint32_t len)
{
    struct written *w = opaque;

    w->calls++;
    w->bytes += len;
    w->last_pa = pa;
}

/* A sparse temporary image of n sectors in paths[i]; opened as disks[i]. */
static void make_disk(int i, uint64_t n, bool readonly)
{
    const char *tmp = getenv("TMPDIR");
    char err[256];
    int fd;

    snprintf(paths[i], sizeof(paths[i]), "%s/bt386-ata-XXXXXX",
             tmp ? tmp : P_tmpdir);
    fd = mkstemp(paths[i]);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)(n * SECTOR)), 0);
    close(fd);
    disks[i] = disk_open(paths[i], readonly, err, sizeof(err));
    ck_assert_msg(disks[i] != NULL, "%s", err);
}

/* The byte pattern of sector lba of disk i: never the same twice. */
static uint8_t pattern(int i, uint64_t lba, unsigned off)
{
    return (uint8_t)(lba * 7 + off * 13 + (off >> 8) + i * 101 + 1);
}

/* Put the pattern into sector lba of image i, behind the disk's back. */
static void put_sector(int i, uint64_t lba)
{
    uint8_t buf[SECTOR];
    int fd = open(paths[i], O_WRONLY);

    for (unsigned k = 0; k < SECTOR; k++)
        buf[k] = pattern(i, lba, k);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, buf, SECTOR, (off_t)(lba * SECTOR)), SECTOR);
    close(fd);
}

/* Sector lba of image i, read behind the disk's back. */
static void get_sector(int i, uint64_t lba, uint8_t *buf)
{
    int fd = open(paths[i], O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, buf, SECTOR, (off_t)(lba * SECTOR)), SECTOR);
    close(fd);
}

static void create_channel(void)
{
    struct dma_ram mem = {ram, RAM_SIZE, note_written, &written};

    ch = ata_create(bus, 0x1F0, 0x3F6,
                    (struct irq_line){fake_set_irq, &irq14, 14}, disks[0],
                    disks[1], &mem);
    ck_assert_ptr_nonnull(ch);
}

static void setup_common(void)
{
    bus = bus_create("io");
    irq14 = (struct fake_irq){0};
    written = (struct written){0};
    ram = calloc(1, RAM_SIZE);
    ck_assert_ptr_nonnull(ram);
}

static void setup(void)
{
    setup_common();
    make_disk(0, SECTORS, false);
    create_channel();
}

static void teardown(void)
{
    bus_destroy(bus);
    ata_destroy(ch);
    for (int i = 0; i < 2; i++) {
        disk_close(disks[i]);
        disks[i] = NULL;
        if (paths[i][0])
            unlink(paths[i]);
        paths[i][0] = 0;
    }
    free(ram);
}

static void outb(uint32_t port, uint8_t v)
{
    bus_write(bus, port, 1, v);
}

static uint8_t inb(uint32_t port)
{
    return (uint8_t)bus_read(bus, port, 1);
}

/* ata_sff_tf_load + exec_command for a 28-bit command on device dev. */
static void issue28(uint8_t cmd, uint32_t lba, uint8_t count, unsigned dev)
{
    outb(FEATURE, 0);
    outb(NSECT, count);
    outb(LBAL, lba & 0xFF);
    outb(LBAM, (lba >> 8) & 0xFF);
    outb(LBAH, (lba >> 16) & 0xFF);
    outb(DEVICE, DEV_OBS | DEV_LBA | (dev ? DEV1 : 0) | ((lba >> 24) & 0xF));
    outb(COMMAND, cmd);
}

/* The same for a 48-bit command: the HOB bytes first. */
static void issue48(uint8_t cmd, uint64_t lba, uint16_t count)
{
    outb(FEATURE, 0);
    outb(NSECT, count >> 8);
    outb(LBAL, (lba >> 24) & 0xFF);
    outb(LBAM, (lba >> 32) & 0xFF);
    outb(LBAH, (lba >> 40) & 0xFF);
    outb(FEATURE, 0);
    outb(NSECT, count & 0xFF);
    outb(LBAL, lba & 0xFF);
    outb(LBAM, (lba >> 8) & 0xFF);
    outb(LBAH, (lba >> 16) & 0xFF);
    outb(DEVICE, DEV_LBA);
    outb(COMMAND, cmd);
}

/* A command with no address: feature and count, device dev. */
static void issue_nodata(uint8_t cmd, uint8_t feature, uint8_t count,
                         unsigned dev)
{
    outb(FEATURE, feature);
    outb(NSECT, count);
    outb(DEVICE, DEV_OBS | (dev ? DEV1 : 0));
    outb(COMMAND, cmd);
}

/* What libata's interrupt handler does first: altstatus, then status (which
 * acknowledges). Returns the status. */
static uint8_t ack_status(void)
{
    ck_assert_int_eq(inb(ALTSTATUS) & ATA_BUSY, 0);
    return inb(STATUS);
}

/* One DRQ block of n sectors in, by 16-bit or 32-bit accesses. */
static void pio_in(uint8_t *buf, unsigned n, unsigned width)
{
    for (unsigned k = 0; k < n * SECTOR; k += width) {
        uint32_t v = bus_read(bus, DATA, width);

        memcpy(buf + k, &v, width);
    }
}

static void pio_out(const uint8_t *buf, unsigned n, unsigned width)
{
    for (unsigned k = 0; k < n * SECTOR; k += width) {
        uint32_t v = 0;

        memcpy(&v, buf + k, width);
        bus_write(bus, DATA, width, v);
    }
}

static void assert_pattern(int i, uint64_t lba, const uint8_t *buf)
{
    for (unsigned k = 0; k < SECTOR; k++)
        ck_assert_msg(buf[k] == pattern(i, lba, k), "lba %llu byte %u",
                      (unsigned long long)lba, k);
}

/* IDENTIFY DEVICE on dev into id[]. */
static void identify(unsigned dev, uint16_t *id)
{
    issue_nodata(ATA_IDENTIFY, 0, 0, dev);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in((uint8_t *)id, 1, 2);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
}

/* An ATA string from IDENTIFY words, trailing spaces dropped. */
static void id_string(const uint16_t *id, unsigned word, unsigned words,
                      char *out)
{
    unsigned n = 0;

    for (unsigned i = 0; i < words; i++) {
        out[n++] = (char)(id[word + i] >> 8);
        out[n++] = (char)id[word + i];
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

START_TEST(test_identify_page)
{
    uint16_t id[256];
    char s[41];
    uint8_t sum = 0;

    identify(0, id);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(id[0], 0x0040); /* fixed ATA device */
    ck_assert_int_eq(id[1], 20);     /* CHS 20/16/63 = SECTORS */
    ck_assert_int_eq(id[3], 16);
    ck_assert_int_eq(id[6], 63);
    id_string(id, 27, 20, s);
    ck_assert_str_eq(s, "bt386 HARDDISK");
    id_string(id, 10, 10, s);
    ck_assert_str_eq(s, "BT386-01F0-0");
    ck_assert_int_eq(id[47], 0x8010);          /* up to 16 sectors per block */
    ck_assert_int_eq(id[49] & 0x0300, 0x0300); /* LBA and DMA */
    ck_assert_int_eq(id[59], 0x0110);          /* multiple 16, on */
    ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, SECTORS);
    ck_assert_int_eq(id[83] & 0xC000, 0x4000); /* word valid */
    ck_assert_int_eq(id[83] & 0x3400, 0x3400); /* FLUSH, FLUSH EXT, LBA48 */
    ck_assert_int_eq(id[86] & 0x3400, 0x3400);
    ck_assert_int_eq(id[82] & 0x0020, 0x0020); /* write cache supported */
    ck_assert_int_eq(id[85] & 0x0020, 0x0020); /* and on */
    ck_assert_int_eq(id[87] & 0xC000, 0x4000);
    /* ATA-6 at most: from ATA-8 on libata asks for logs we do not keep */
    ck_assert_int_eq(id[80] & 0x0040, 0x0040);
    ck_assert_int_eq(id[80] & 0xFF80, 0);
    ck_assert_uint_eq(id[100] | (uint32_t)id[101] << 16, SECTORS);
    ck_assert_int_eq(id[102] | id[103], 0);
    ck_assert_int_eq(id[255] & 0xFF, 0xA5);
    for (unsigned i = 0; i < 512; i++)
        sum += ((uint8_t *)id)[i];
    ck_assert_int_eq(sum, 0);
}
END_TEST

START_TEST(test_identify_packet_and_unknown_abort)
{
    issue_nodata(ATA_IDENTIFY_PACKET, 0, 0, 0);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
    issue_nodata(ATA_READ_NATIVE_MAX, 0, 0, 0); /* no HPA here */
    ck_assert_int_eq(irq14.rises, 2);
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
    issue_nodata(ATA_RECALIBRATE, 0, 0, 0); /* obsolete, but fine */
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
    ck_assert_int_eq(inb(ERROR), 0);
}
END_TEST

/* READ SECTORS, one sector by 16-bit accesses; the interrupt comes with
 * DRQ, altstatus leaves it up, status takes it down. */
START_TEST(test_lba28_read_irq_semantics)
{
    uint8_t buf[SECTOR];

    put_sector(0, 1234);
    issue28(ATA_READ, 1234, 1, 0);
    ck_assert_int_eq(irq14.level, 1);
    ck_assert_int_eq(inb(ALTSTATUS), ST_DATA);
    ck_assert_int_eq(irq14.level, 1);
    ck_assert_int_eq(inb(STATUS), ST_DATA);
    ck_assert_int_eq(irq14.level, 0);
    pio_in(buf, 1, 2);
    assert_pattern(0, 1234, buf);
    ck_assert_int_eq(irq14.rises, 1); /* none after the last block */
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
}
END_TEST

/* Three sectors by 32-bit accesses (rep insl): a DRQ block and an
 * interrupt for each. */
START_TEST(test_lba28_multi_sector_read)
{
    uint8_t buf[SECTOR];

    for (unsigned s = 0; s < 3; s++)
        put_sector(0, 0x1000 + s);
    issue28(ATA_READ, 0x1000, 3, 0);
    for (unsigned s = 0; s < 3; s++) {
        ck_assert_int_eq(irq14.rises, (int)s + 1);
        ck_assert_int_eq(ack_status(), ST_DATA);
        pio_in(buf, 1, 4);
        assert_pattern(0, 0x1000 + s, buf);
    }
    ck_assert_int_eq(irq14.rises, 3);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
}
END_TEST

/* SET MULTIPLE 4, READ MULTIPLE of 10: blocks of 4, 4 and 2. */
START_TEST(test_read_multiple_blocks)
{
    uint8_t buf[4 * SECTOR];
    unsigned blocks[] = {4, 4, 2}, lba = 500;

    issue_nodata(ATA_SET_MULTI, 0, 3, 0); /* not a power of two */
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
    issue_nodata(ATA_SET_MULTI, 0, 4, 0);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
    for (unsigned s = 0; s < 10; s++)
        put_sector(0, lba + s);
    irq14.rises = 0;
    issue28(ATA_READ_MULTI, lba, 10, 0);
    for (unsigned b = 0; b < 3; b++) {
        ck_assert_int_eq(irq14.rises, (int)b + 1);
        ck_assert_int_eq(ack_status(), ST_DATA);
        pio_in(buf, blocks[b], 4);
        for (unsigned s = 0; s < blocks[b]; s++)
            assert_pattern(0, lba + s, buf + s * SECTOR);
        lba += blocks[b];
    }
    ck_assert_int_eq(irq14.rises, 3);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
}
END_TEST

/* WRITE SECTORS of two: DRQ without an interrupt for the first block, an
 * interrupt for the second and one at the end. */
START_TEST(test_lba28_write)
{
    uint8_t buf[2 * SECTOR], back[SECTOR];

    for (unsigned k = 0; k < sizeof(buf); k++)
        buf[k] = (uint8_t)(k * 3 + 1);
    issue28(ATA_WRITE, 77, 2, 0);
    ck_assert_int_eq(irq14.rises, 0);
    ck_assert_int_eq(inb(ALTSTATUS), ST_DATA);
    pio_out(buf, 1, 2);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_out(buf + SECTOR, 1, 4);
    ck_assert_int_eq(irq14.rises, 2);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    get_sector(0, 77, back);
    ck_assert_mem_eq(back, buf, SECTOR);
    get_sector(0, 78, back);
    ck_assert_mem_eq(back, buf + SECTOR, SECTOR);
}
END_TEST

START_TEST(test_lba28_count_zero_is_256)
{
    uint8_t buf[SECTOR];

    put_sector(0, 255);
    issue28(ATA_READ, 0, 0, 0);
    for (unsigned s = 0; s < 256; s++) {
        ck_assert_int_eq(ack_status(), ST_DATA);
        pio_in(buf, 1, 4);
    }
    assert_pattern(0, 255, buf);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
}
END_TEST

/* Past the end: IDNF, and the first bad sector in the LBA registers. */
START_TEST(test_out_of_range_idnf)
{
    issue28(ATA_READ, SECTORS, 1, 0);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_IDNF);
    issue28(ATA_WRITE, SECTORS - 1, 2, 0); /* starts inside, ends outside */
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_IDNF);
    ck_assert_int_eq(inb(LBAL) | inb(LBAM) << 8 | inb(LBAH) << 16, SECTORS);
    issue48(ATA_READ_EXT, 1ull << 40, 1);
    ck_assert_int_eq(inb(ERROR), ERR_IDNF);
}
END_TEST

/* Taskfile registers remember the previous write; HOB reads it back, and
 * any taskfile write clears HOB. */
START_TEST(test_hob_readback)
{
    outb(LBAL, 0x12);
    outb(LBAL, 0x34);
    outb(NSECT, 0x56);
    ck_assert_int_eq(inb(LBAL), 0x34);
    outb(CTL, CTL_HOB);
    ck_assert_int_eq(inb(LBAL), 0x12);
    ck_assert_int_eq(inb(NSECT), 0x01); /* its previous value */
    outb(LBAM, 0x78);
    ck_assert_int_eq(inb(LBAL), 0x34); /* HOB was cleared */
}
END_TEST

START_TEST(test_flush_reaches_file)
{
    uint8_t buf[SECTOR], back[SECTOR];

    memset(buf, 0xC3, sizeof(buf));
    issue28(ATA_WRITE, 9, 1, 0);
    pio_out(buf, 1, 2);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_uint_eq(disk_flushes(disks[0]), 0); /* cache on: no flush yet */
    issue_nodata(ATA_FLUSH, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_uint_eq(disk_flushes(disks[0]), 1);
    issue_nodata(ATA_FLUSH_EXT, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_uint_eq(disk_flushes(disks[0]), 2);
    get_sector(0, 9, back);
    ck_assert_mem_eq(back, buf, SECTOR);
}
END_TEST

/* SET FEATURES 82h: write cache off, so every write block is flushed, and
 * IDENTIFY says so. */
START_TEST(test_write_cache_disabled_flushes)
{
    uint8_t buf[SECTOR] = {1};
    uint16_t id[256];
    uint64_t before;

    issue_nodata(ATA_SET_FEATURES, SF_WCACHE_OFF, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    identify(0, id);
    ck_assert_int_eq(id[85] & 0x0020, 0);
    before = disk_flushes(disks[0]);
    issue28(ATA_WRITE, 3, 2, 0);
    pio_out(buf, 1, 2);
    pio_out(buf, 1, 2);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_uint_eq(disk_flushes(disks[0]), before + 2);
    issue_nodata(ATA_SET_FEATURES, SF_WCACHE_ON, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    identify(0, id);
    ck_assert_int_eq(id[85] & 0x0020, 0x0020);
}
END_TEST

START_TEST(test_set_transfer_mode)
{
    uint16_t id[256];

    issue_nodata(ATA_SET_FEATURES, SF_XFER, 0x22, 0); /* MWDMA 2 */
    ck_assert_int_eq(ack_status(), ST_IDLE);
    identify(0, id);
    ck_assert_int_eq(id[63], 0x0407);
    issue_nodata(ATA_SET_FEATURES, SF_XFER, 0x0C, 0); /* PIO 4 */
    ck_assert_int_eq(ack_status(), ST_IDLE);
    issue_nodata(ATA_SET_FEATURES, SF_XFER, 0x45, 0); /* UDMA 5: not offered */
    ck_assert_int_eq(ack_status(), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
    issue_nodata(ATA_SET_FEATURES, 0x55, 0, 0); /* an unknown subcommand */
    ck_assert_int_eq(ack_status(), ST_FAIL);
}
END_TEST

/* nIEN keeps the line low but remembers the interrupt until status is
 * read; clearing nIEN with one pending raises the line. */
START_TEST(test_nien_masks_interrupt)
{
    outb(CTL, CTL_NIEN);
    issue_nodata(ATA_CHK_POWER, 0, 0, 0); /* CHECK POWER MODE */
    ck_assert_int_eq(irq14.level, 0);
    ck_assert_int_eq(inb(ALTSTATUS), ST_IDLE);
    outb(CTL, 0);
    ck_assert_int_eq(irq14.level, 1);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
    ck_assert_int_eq(irq14.level, 0);
    outb(CTL, CTL_NIEN);
    issue_nodata(ATA_CHK_POWER, 0, 0, 0);
    ck_assert_int_eq(inb(STATUS), ST_IDLE); /* acknowledged while masked */
    outb(CTL, 0);
    ck_assert_int_eq(irq14.level, 0);
    ck_assert_int_eq(irq14.rises, 1);
}
END_TEST

/* SRST: BSY while held; on release the ATA signature, diagnostic code 01h,
 * device 0 selected, and no interrupt. */
START_TEST(test_srst_signature)
{
    outb(DEVICE, DEV_OBS | DEV1);
    outb(NSECT, 0x55);
    outb(LBAM, 0x99);
    outb(CTL, CTL_SRST);
    ck_assert_int_eq(inb(ALTSTATUS) & ATA_BUSY, ATA_BUSY);
    outb(CTL, 0);
    ck_assert_int_eq(inb(ALTSTATUS), ST_IDLE);
    ck_assert_int_eq(inb(NSECT), 0x01);
    ck_assert_int_eq(inb(LBAL), 0x01);
    ck_assert_int_eq(inb(LBAM), 0x00);
    ck_assert_int_eq(inb(LBAH), 0x00);
    ck_assert_int_eq(inb(ERROR), 0x01);
    ck_assert_int_eq(inb(DEVICE) & DEV1, 0);
    ck_assert_int_eq(irq14.rises, 0);
}
END_TEST

/* With no device 1, device 0 answers for it: the taskfile echoes (so
 * libata's ata_devchk pattern passes), status reads 00h (so classify says
 * none), and commands are ignored. */
START_TEST(test_absent_slave)
{
    outb(DEVICE, DEV_OBS | DEV1);
    outb(NSECT, 0x55);
    outb(LBAL, 0xAA);
    outb(NSECT, 0xAA);
    outb(LBAL, 0x55);
    outb(NSECT, 0x55);
    outb(LBAL, 0xAA);
    ck_assert_int_eq(inb(NSECT), 0x55);
    ck_assert_int_eq(inb(LBAL), 0xAA);
    ck_assert_int_eq(inb(STATUS), 0x00);
    ck_assert_int_eq(inb(ALTSTATUS), 0x00);
    ck_assert_int_eq(inb(ERROR), 0x01); /* device 0's diagnostic code */
    outb(COMMAND, ATA_IDENTIFY);
    ck_assert_int_eq(irq14.rises, 0);
    ck_assert_int_eq(inb(STATUS), 0x00);
    outb(COMMAND, ATA_EDD); /* EXECUTE DEVICE DIAGNOSTIC runs anyway */
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(inb(DEVICE) & DEV1, 0);
    ck_assert_int_eq(inb(STATUS), ST_IDLE);
    ck_assert_int_eq(inb(ERROR), 0x01);
}
END_TEST

/* CHS addressing in the translation INITIALIZE DEVICE PARAMETERS sets. */
START_TEST(test_chs_read)
{
    uint8_t buf[SECTOR];
    uint32_t lba = (1 * 16 + 2) * 63 + 3 - 1; /* C 1, H 2, S 3 */

    put_sector(0, lba);
    outb(NSECT, 63);
    outb(DEVICE, DEV_OBS | 15); /* 16 heads */
    outb(COMMAND, ATA_INIT_PARAMS);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    outb(NSECT, 1);
    outb(LBAL, 3);
    outb(LBAM, 1);
    outb(LBAH, 0);
    outb(DEVICE, DEV_OBS | 2);
    outb(COMMAND, ATA_READ);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(buf, 1, 2);
    assert_pattern(0, lba, buf);
    outb(LBAL, 64); /* sector 64 of 63 */
    outb(COMMAND, ATA_READ);
    ck_assert_int_eq(ack_status(), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_IDNF);
}
END_TEST

START_TEST(test_power_modes)
{
    uint8_t buf[SECTOR];

    issue_nodata(ATA_STANDBYNOW, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    issue_nodata(ATA_CHK_POWER, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_int_eq(inb(NSECT), 0x00);
    issue28(ATA_READ, 0, 1, 0);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(buf, 1, 2);
    issue_nodata(ATA_CHK_POWER, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    ck_assert_int_eq(inb(NSECT), 0xFF);
    issue_nodata(ATA_IDLE, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
}
END_TEST

/* Write a PRD at index n of the table at PRDT_ADDR. */
static void put_prd(unsigned n, uint32_t addr, uint32_t count_flags)
{
    uint8_t *p = ram + PRDT_ADDR + 8 * n;

    memcpy(p, &addr, 4);
    memcpy(p + 4, &count_flags, 4);
}

/* ata_bmdma_setup then bmdma_start, as libata orders them. */
static void dma_start(bool to_memory, void (*issue)(void))
{
    ata_bmdma_write(ch, BM_PRDT, 4, PRDT_ADDR);
    ata_bmdma_write(ch, BM_CMD, 1, to_memory ? BM_WRITE_MEM : 0);
    issue();
    ata_bmdma_write(ch, BM_CMD, 1, ata_bmdma_read(ch, BM_CMD, 1) | BM_START);
}

static void issue_read_dma(void)
{
    issue28(ATA_READ_DMA, 100, 8, 0);
}

/* READ DMA of 8 sectors into two regions (1 KiB, then 3 KiB and EOT). */
START_TEST(test_dma_read)
{
    uint8_t bm;

    for (unsigned s = 0; s < 8; s++)
        put_sector(0, 100 + s);
    put_prd(0, 0x20000, 1024);
    put_prd(1, 0x30000, 3072 | PRD_EOT);
    dma_start(true, issue_read_dma);
    bm = (uint8_t)ata_bmdma_read(ch, BM_STATUS, 1);
    ck_assert_int_eq(bm & (BM_ACTIVE | BM_ERROR | BM_INTR), BM_INTR);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    assert_pattern(0, 100, ram + 0x20000);
    assert_pattern(0, 101, ram + 0x20000 + SECTOR);
    for (unsigned s = 2; s < 8; s++)
        assert_pattern(0, 100 + s, ram + 0x30000 + (s - 2) * SECTOR);
    ck_assert_uint_eq(written.bytes, 8 * SECTOR);
    ck_assert_uint_eq(written.last_pa, 0x30000);
    ata_bmdma_write(ch, BM_CMD, 1, 0);     /* bmdma_stop */
    ata_bmdma_write(ch, BM_STATUS, 1, bm); /* irq_clear: write 1 clears */
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & BM_INTR, 0);
}
END_TEST

static void issue_write_dma_ext(void)
{
    issue48(ATA_WRITE_DMA_EXT, 40, 3);
}

/* WRITE DMA EXT from one region bigger than needed: ACTIVE stays set. */
START_TEST(test_dma_write_ext)
{
    uint8_t back[SECTOR];

    for (unsigned k = 0; k < 3 * SECTOR; k++)
        ram[0x40000 + k] = (uint8_t)(k ^ 0x5A);
    put_prd(0, 0x40000, 8192 | PRD_EOT);
    dma_start(false, issue_write_dma_ext);
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & 7, BM_ACTIVE | BM_INTR);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    for (unsigned s = 0; s < 3; s++) {
        get_sector(0, 40 + s, back);
        ck_assert_mem_eq(back, ram + 0x40000 + s * SECTOR, SECTOR);
    }
    ck_assert_uint_eq(written.calls, 0); /* memory was only read */
}
END_TEST

/* Start first, command second: the transfer runs on the command. */
START_TEST(test_dma_start_before_command)
{
    put_sector(0, 100);
    put_prd(0, 0x20000, 512 | PRD_EOT);
    ata_bmdma_write(ch, BM_PRDT, 4, PRDT_ADDR);
    ata_bmdma_write(ch, BM_CMD, 1, BM_WRITE_MEM | BM_START);
    ck_assert_int_eq(irq14.rises, 0);
    issue28(ATA_READ_DMA, 100, 1, 0);
    ck_assert_int_eq(irq14.rises, 1);
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & 7, BM_INTR);
    assert_pattern(0, 100, ram + 0x20000);
}
END_TEST

/* A region past the end of RAM: ERROR, an aborted command, no access. */
START_TEST(test_dma_beyond_ram)
{
    put_prd(0, RAM_SIZE - 512, 4096 | PRD_EOT);
    dma_start(true, issue_read_dma);
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & 7, BM_ERROR | BM_INTR);
    ck_assert_int_eq(ack_status(), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
    /* and a table that itself lies outside RAM */
    ata_bmdma_write(ch, BM_CMD, 1, 0);
    ata_bmdma_write(ch, BM_STATUS, 1, BM_ERROR | BM_INTR);
    ata_bmdma_write(ch, BM_PRDT, 4, 0xFFFFFFF0u);
    ata_bmdma_write(ch, BM_CMD, 1, BM_WRITE_MEM);
    issue28(ATA_READ_DMA, 0, 1, 0);
    ata_bmdma_write(ch, BM_CMD, 1, BM_WRITE_MEM | BM_START);
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & BM_ERROR, BM_ERROR);
    ck_assert_int_eq(inb(STATUS), ST_FAIL);
}
END_TEST

/* A table describing less than the command moves is a bus error too. */
START_TEST(test_dma_table_too_short)
{
    put_prd(0, 0x20000, 1024 | PRD_EOT); /* 2 of the 8 sectors */
    dma_start(true, issue_read_dma);
    ck_assert_int_eq(ata_bmdma_read(ch, BM_STATUS, 1) & BM_ERROR, BM_ERROR);
    ck_assert_int_eq(ack_status(), ST_FAIL);
}
END_TEST

static TCase *ata_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

/* ---- Configurations other than one writable master ---- */

/* A readonly image: writes abort (PIO and DMA), reads work, file kept. */
START_TEST(test_readonly_disk)
{
    uint8_t buf[SECTOR], back[SECTOR];

    setup_common();
    make_disk(0, SECTORS, false);
    put_sector(0, 5);
    disk_close(disks[0]);
    disks[0] = disk_open(paths[0], true, (char[64]){0}, 64);
    ck_assert_ptr_nonnull(disks[0]);
    create_channel();
    issue28(ATA_WRITE, 5, 1, 0);
    ck_assert_int_eq(ack_status(), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
    memset(buf, 0, sizeof(buf));
    pio_out(buf, 1, 2); /* nothing takes it */
    put_prd(0, 0x20000, 512 | PRD_EOT);
    issue28(ATA_WRITE_DMA, 5, 1, 0);
    ck_assert_int_eq(ack_status(), ST_FAIL);
    get_sector(0, 5, back);
    assert_pattern(0, 5, back);
    issue28(ATA_READ, 5, 1, 0);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(buf, 1, 2);
    assert_pattern(0, 5, buf);
    issue_nodata(ATA_FLUSH, 0, 0, 0);
    ck_assert_int_eq(ack_status(), ST_IDLE);
}
END_TEST

/* Master and slave: each answers with its own identity and data. */
START_TEST(test_master_and_slave)
{
    uint16_t id[256];
    uint8_t buf[SECTOR];
    char s[21];

    setup_common();
    make_disk(0, SECTORS, false);
    make_disk(1, 2 * SECTORS, false);
    create_channel();
    put_sector(1, 30000);
    identify(1, id);
    ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, 2 * SECTORS);
    id_string(id, 10, 10, s);
    ck_assert_str_eq(s, "BT386-01F0-1");
    issue28(ATA_READ, 30000, 1, 1);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(buf, 1, 4);
    assert_pattern(1, 30000, buf);
    issue28(ATA_READ, 30000, 1, 0); /* past device 0's end */
    ck_assert_int_eq(ack_status(), ST_FAIL);
    outb(DEVICE, DEV_OBS | DEV1);
    ck_assert_int_eq(inb(STATUS), ST_IDLE); /* device 1's own status */
}
END_TEST

/* LBA48 past 2^28 on a sparse 128 GiB image, write then read back. */
START_TEST(test_lba48_round_trip)
{
    const uint64_t n = (1ull << 28) + 64, lba = (1ull << 28) + 5;
    uint8_t buf[2 * SECTOR], back[2 * SECTOR];
    uint16_t id[256];

    setup_common();
    make_disk(0, n, false);
    create_channel();
    identify(0, id);
    ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, 0x0FFFFFFF);
    ck_assert_uint_eq(
        id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32, n);
    for (unsigned k = 0; k < sizeof(buf); k++)
        buf[k] = (uint8_t)(k * 5 + 3);
    issue48(ATA_WRITE_EXT, lba, 2); /* WRITE SECTORS EXT */
    pio_out(buf, 1, 4);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_out(buf + SECTOR, 1, 4);
    ck_assert_int_eq(ack_status(), ST_IDLE);
    issue48(ATA_READ_EXT, lba, 2); /* READ SECTORS EXT */
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(back, 1, 2);
    ck_assert_int_eq(ack_status(), ST_DATA);
    pio_in(back + SECTOR, 1, 2);
    ck_assert_mem_eq(back, buf, sizeof(buf));
    get_sector(0, lba + 1, back);
    ck_assert_mem_eq(back, buf + SECTOR, SECTOR);
    issue28(ATA_READ, 0x0FFFFFFF, 1, 0); /* 28-bit still reaches its limit */
    ck_assert_int_eq(ack_status(), ST_DATA);
}
END_TEST

/* No disk at all: an empty cable reads 7Fh everywhere, writes vanish. */
START_TEST(test_empty_channel)
{
    setup_common();
    create_channel();
    make_disk(1, SECTORS, false);
    outb(NSECT, 0x55);
    outb(COMMAND, ATA_IDENTIFY);
    ck_assert_int_eq(inb(NSECT), 0x7F);
    ck_assert_int_eq(inb(STATUS), 0x7F);
    ck_assert_int_eq(inb(ALTSTATUS), 0x7F);
    ck_assert_int_eq(irq14.rises, 0);
    ck_assert_ptr_null(ata_create(bus, 0x170, 0x376, (struct irq_line){0}, NULL,
                                  disks[1], NULL)); /* no master */
    ck_assert_ptr_null(ata_create(bus, 0x1F0, 0x3F6, (struct irq_line){0}, NULL,
                                  NULL, NULL)); /* ports taken */
}
END_TEST

/* Without a bus master, IDENTIFY offers no DMA and DMA commands abort. */
START_TEST(test_no_dma_without_ram)
{
    uint16_t id[256];

    setup_common();
    make_disk(0, SECTORS, false);
    ch = ata_create(bus, 0x1F0, 0x3F6,
                    (struct irq_line){fake_set_irq, &irq14, 14}, disks[0], NULL,
                    NULL);
    ck_assert_ptr_nonnull(ch);
    identify(0, id);
    ck_assert_int_eq(id[49] & 0x0100, 0);
    ck_assert_int_eq(id[63], 0);
    issue28(ATA_READ_DMA, 0, 1, 0);
    ck_assert_int_eq(ack_status(), ST_FAIL);
    ck_assert_int_eq(inb(ERROR), ERR_ABRT);
}
END_TEST

static Suite *ata_suite(void)
{
    Suite *s = suite_create("ata");
    TCase *cmd = ata_tcase("commands");
    TCase *pio = ata_tcase("pio");
    TCase *dma = ata_tcase("dma");
    TCase *cfg = tcase_create("configurations");

    tcase_add_test(cmd, test_identify_page);
    tcase_add_test(cmd, test_identify_packet_and_unknown_abort);
    tcase_add_test(cmd, test_hob_readback);
    tcase_add_test(cmd, test_flush_reaches_file);
    tcase_add_test(cmd, test_write_cache_disabled_flushes);
    tcase_add_test(cmd, test_set_transfer_mode);
    tcase_add_test(cmd, test_nien_masks_interrupt);
    tcase_add_test(cmd, test_srst_signature);
    tcase_add_test(cmd, test_absent_slave);
    tcase_add_test(cmd, test_power_modes);
    tcase_add_test(pio, test_lba28_read_irq_semantics);
    tcase_add_test(pio, test_lba28_multi_sector_read);
    tcase_add_test(pio, test_read_multiple_blocks);
    tcase_add_test(pio, test_lba28_write);
    tcase_add_test(pio, test_lba28_count_zero_is_256);
    tcase_add_test(pio, test_out_of_range_idnf);
    tcase_add_test(pio, test_chs_read);
    tcase_add_test(dma, test_dma_read);
    tcase_add_test(dma, test_dma_write_ext);
    tcase_add_test(dma, test_dma_start_before_command);
    tcase_add_test(dma, test_dma_beyond_ram);
    tcase_add_test(dma, test_dma_table_too_short);
    tcase_add_checked_fixture(cfg, NULL, teardown);
    tcase_add_test(cfg, test_readonly_disk);
    tcase_add_test(cfg, test_master_and_slave);
    tcase_add_test(cfg, test_lba48_round_trip);
    tcase_add_test(cfg, test_empty_channel);
    tcase_add_test(cfg, test_no_dma_without_ram);
    suite_add_tcase(s, cmd);
    suite_add_tcase(s, pio);
    suite_add_tcase(s, dma);
    suite_add_tcase(s, cfg);
    return s;
}

int main(void)
{
    return check_run(ata_suite());
}
