/* SPDX-License-Identifier: MIT */
/* ATA channel with two hard disks, after ATA/ATAPI-6 (T13/1410D). */
#include "devices/ata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ata_identify.h"
#include "devices/bmdma.h"

/* Registers: command block, offsets from base */
#define REG_DATA     0 /* 16-bit data (32-bit accesses move two words) */
#define REG_ERROR    1 /* read */
#define REG_FEATURES 1 /* write */
#define REG_COUNT    2 /* sector count */
#define REG_LBA_LOW  3 /* LBA 7:0, or the CHS sector number */
#define REG_LBA_MID  4 /* LBA 15:8, or cylinder low */
#define REG_LBA_HIGH 5 /* LBA 23:16, or cylinder high */
#define REG_DEVICE   6 /* device/head */
#define REG_STATUS   7 /* read: clears INTRQ */
#define REG_COMMAND  7 /* write */
#define ATA_NPORTS   8
/* Registers: control block, at base2 */
#define REG_ALT_STATUS 0 /* read: status without clearing INTRQ */
#define REG_DEV_CTL    0 /* write: device control */

/*
 * The taskfile registers with a previous-content copy for 48-bit commands
 * (features, count, LBA low/mid/high): index = register offset - 1.
 */
#define TF_FEATURES 0
#define TF_COUNT    1
#define TF_LBA_LOW  2
#define TF_LBA_MID  3
#define TF_LBA_HIGH 4
#define TF_REGS     5

/* Status: status register */
#define ST_ERR  0x01 /* error: see the error register */
#define ST_DRQ  0x08 /* data request: the data port wants a transfer */
#define ST_DSC  0x10 /* seek complete (obsolete, always set by disks) */
#define ST_DF   0x20 /* device fault (never) */
#define ST_DRDY 0x40 /* device ready for commands */
#define ST_BSY  0x80 /* busy: only during SRST here */
#define ST_IDLE (ST_DRDY | ST_DSC)

/* Status: error register */
#define ERR_ABRT 0x04 /* command aborted */
#define ERR_IDNF 0x10 /* address not found (outside the disk) */
#define ERR_UNC  0x40 /* uncorrectable data: a host read failed */
/* Diagnostic code after reset or EXECUTE DEVICE DIAGNOSTIC: device 0
 * passed, device 1 passed or absent (0x81 would say device 1 failed). */
#define DIAG_PASSED 0x01

/* Commands: device/head register */
#define DEV_HEAD 0x0F /* head, or LBA 27:24 */
#define DEV_DEV  0x10 /* device 1 selected */
#define DEV_LBA  0x40 /* LBA addressing (0: CHS) */

/* Commands: device control register */
#define DC_NIEN 0x02 /* INTRQ disabled */
#define DC_SRST 0x04 /* software reset, held while set */
#define DC_HOB  0x80 /* reads return the previous (high order) bytes */

/* Commands: the command register */
#define CMD_RECALIBRATE        0x10 /* 0x10-0x1F */
#define CMD_READ_SECTORS       0x20
#define CMD_READ_SECTORS_NR    0x21 /* without retries (obsolete) */
#define CMD_READ_SECTORS_EXT   0x24
#define CMD_READ_DMA_EXT       0x25
#define CMD_READ_MULTIPLE_EXT  0x29
#define CMD_WRITE_SECTORS      0x30
#define CMD_WRITE_SECTORS_NR   0x31
#define CMD_WRITE_SECTORS_EXT  0x34
#define CMD_WRITE_DMA_EXT      0x35
#define CMD_WRITE_MULTIPLE_EXT 0x39
#define CMD_READ_VERIFY        0x40
#define CMD_READ_VERIFY_NR     0x41
#define CMD_READ_VERIFY_EXT    0x42
#define CMD_SEEK               0x70 /* 0x70-0x7F */
#define CMD_DIAGNOSTIC         0x90 /* EXECUTE DEVICE DIAGNOSTIC */
#define CMD_INIT_PARAMS        0x91 /* INITIALIZE DEVICE PARAMETERS */
#define CMD_IDENTIFY_PACKET    0xA1
#define CMD_READ_MULTIPLE      0xC4
#define CMD_WRITE_MULTIPLE     0xC5
#define CMD_SET_MULTIPLE       0xC6
#define CMD_READ_DMA           0xC8
#define CMD_READ_DMA_NR        0xC9
#define CMD_WRITE_DMA          0xCA
#define CMD_WRITE_DMA_NR       0xCB
#define CMD_STANDBY_IMMEDIATE  0xE0
#define CMD_IDLE_IMMEDIATE     0xE1
#define CMD_STANDBY            0xE2
#define CMD_IDLE               0xE3
#define CMD_CHECK_POWER        0xE5
#define CMD_FLUSH_CACHE        0xE7
#define CMD_FLUSH_CACHE_EXT    0xEA
#define CMD_IDENTIFY           0xEC
#define CMD_SET_FEATURES       0xEF
#define CMD_OBSOLETE_RANGE     0xF0 /* RECALIBRATE and SEEK: low 4 bits */

/* Commands: SET FEATURES subcommands (features register) */
#define SF_WCACHE_ON  0x02
#define SF_XFER_MODE  0x03 /* transfer mode in the count register */
#define SF_WCACHE_OFF 0x82

/* Commands: transfer modes for SF_XFER_MODE, mode number in bits 2:0 */
#define XFER_PIO_DEFAULT 0x00 /* 0x00, or 0x01 with IORDY disabled */
#define XFER_PIO         0x08 /* PIO flow control mode 0-4 */
#define XFER_MWDMA       0x20 /* multiword DMA mode 0-2 */
#define XFER_TYPE        0xF8
#define XFER_NUMBER      0x07

/* Commands: CHECK POWER MODE results in the count register */
#define POWER_STANDBY 0x00
#define POWER_ACTIVE  0xFF /* active or idle */

/* Limits */
#define COUNT28_ZERO 256    /* sectors a count of 0 means, 28-bit */
#define COUNT48_ZERO 65536  /* and 48-bit */
#define CUR_MAX_CYLS 0xFFFF /* what the cylinder registers can hold */
#define BUF_SECTORS  128    /* data buffer: a DMA chunk, a PIO block */
#define BUF_SIZE     (BUF_SECTORS * DISK_SECTOR_SIZE)
#define SERIAL_SIZE  21 /* 20 characters and a NUL */
/*
 * An empty cable: the host's pull-down on DD7 (which ATA requires for this)
 * reads BSY clear, and no register holds what libata's presence probe
 * writes, so it finds no device without waiting out a BSY timeout.
 */
#define ATA_FLOATING       0x7F
#define ATA_FLOATING_DWORD 0x7F7F7F7Fu

_Static_assert(ATA_BMDMA_PORTS == BMDMA_PORTS, "ata.h and bmdma.h agree");

/* Flags of the read/write commands */
#define RW_EXT    0x01 /* 48-bit address and count */
#define RW_WRITE  0x02 /* data out */
#define RW_MULTI  0x04 /* DRQ blocks of the multiple count */
#define RW_DMA    0x08 /* data through the bus master */
#define RW_VERIFY 0x10 /* no data at all */

/* What the data port or the bus master is moving. */
enum ata_xfer_kind {
    XFER_NONE,
    XFER_PIO_IN,  /* device to host through the data port */
    XFER_PIO_OUT, /* host to device through the data port */
    XFER_DMA_IN,  /* device to memory, once the bus master starts */
    XFER_DMA_OUT, /* memory to device */
};

/* One device's registers: each keeps its own copy of the taskfile. */
struct ata_drive {
    uint8_t tf[TF_REGS];  /* features, count, LBA low/mid/high */
    uint8_t hob[TF_REGS]; /* what each held before its last write */
    uint8_t device;       /* device/head register */
    uint8_t status;       /* status register */
    uint8_t error;        /* error register */
    uint8_t mult;         /* READ/WRITE MULTIPLE block; 0 = disabled */
    uint8_t heads;        /* current CHS translation: heads, */
    uint8_t spt;          /* sectors per track, */
    uint16_t cyls;        /* cylinders */
    uint8_t xfer_mode;    /* last SET FEATURES transfer mode */
    bool wcache;          /* volatile write cache enabled */
    bool standby;         /* spun down by STANDBY until the next access */
};

/* The command whose data is moving (one per channel at a time). */
struct ata_xfer {
    uint8_t kind;   /* enum ata_xfer_kind */
    uint8_t unit;   /* device doing it */
    bool ext;       /* 48-bit command: errors report 48-bit addresses */
    uint64_t lba;   /* first sector of the block in buf */
    uint32_t left;  /* sectors not yet done, the block in buf included */
    uint32_t block; /* sectors per DRQ block */
    uint32_t pos;   /* next byte of buf for the data port */
    uint32_t end;   /* bytes of buf in this block */
};

struct ata_regs {
    struct ata_drive drive[2]; /* device 0 and device 1 */
    struct ata_xfer xfer;      /* data in flight */
    uint8_t unit;              /* selected device: DEV of the last write */
    uint8_t devctl;            /* device control register */
    bool intrq;                /* interrupt pending (INTRQ unless nIEN) */
    struct bmdma bm;           /* the channel's bus master */
    uint8_t buf[BUF_SIZE];     /* sector buffer */
};

/* Host side: wiring and backing store. */
struct ata_host {
    struct io_bus *bus;   /* where our ports are claimed */
    uint16_t base;        /* command block base, names the serial number */
    struct irq_line irq;  /* INTRQ */
    int irq_level;        /* level last driven on irq */
    struct disk *disk[2]; /* device 0 and 1 media; NULL when absent */
    struct dma_ram ram;   /* what the bus master reaches */
};

struct ata_channel {
    struct ata_regs regs; /* what a snapshot saves */
    struct ata_host host; /* what the board wires up */
};

static bool ata_present(const struct ata_channel *ch, unsigned unit)
{
    return ch->host.disk[unit] != NULL;
}

static struct ata_drive *ata_drive_sel(struct ata_channel *ch)
{
    return &ch->regs.drive[ch->regs.unit];
}

/* Sectors the device can address: LBA48 stops at 2^48. */
static uint64_t ata_capacity(const struct ata_channel *ch, unsigned unit)
{
    uint64_t n = disk_sectors(ch->host.disk[unit]);

    return n < ATA_LBA48_MAX ? n : ATA_LBA48_MAX;
}

static void ata_irq_update(struct ata_channel *ch)
{
    int level = ch->regs.intrq && !(ch->regs.devctl & DC_NIEN);

    if (level == ch->host.irq_level)
        return;
    if (level)
        bmdma_interrupt(&ch->regs.bm);
    ch->host.irq_level = level;
    irq_set(&ch->host.irq, level);
}

/* The device asks for attention: INTRQ, unless nIEN masks it. */
static void ata_raise(struct ata_channel *ch)
{
    ch->regs.intrq = true;
    ata_irq_update(ch);
}

static void ata_xfer_stop(struct ata_channel *ch)
{
    ch->regs.xfer.kind = XFER_NONE;
    ch->regs.xfer.pos = 0;
    ch->regs.xfer.end = 0;
}

/* The command completed without data to move, or after the last of it. */
static void ata_done(struct ata_channel *ch, struct ata_drive *d)
{
    ata_xfer_stop(ch);
    d->status = ST_IDLE;
    ata_raise(ch);
}

static void ata_fail(struct ata_channel *ch, struct ata_drive *d, uint8_t error)
{
    ata_xfer_stop(ch);
    d->error = error;
    d->status = ST_DRDY | ST_ERR;
    ata_raise(ch);
}

/* The reset signature of an ATA device: count 1, LBA 1, cylinder 0. */
static void ata_signature(struct ata_drive *d)
{
    d->tf[TF_COUNT] = 1;
    d->tf[TF_LBA_LOW] = 1;
    d->tf[TF_LBA_MID] = 0;
    d->tf[TF_LBA_HIGH] = 0;
    d->device = 0;
    d->error = DIAG_PASSED;
    d->status = ST_IDLE;
}

/* Signatures on every device and device 0 selected: the end of SRST and
 * of EXECUTE DEVICE DIAGNOSTIC. */
static void ata_diagnose(struct ata_channel *ch)
{
    for (unsigned unit = 0; unit < 2; unit++)
        if (ata_present(ch, unit))
            ata_signature(&ch->regs.drive[unit]);
    ch->regs.unit = 0;
}

/* Power-on state of a present device. */
static void ata_drive_reset(struct ata_channel *ch, unsigned unit)
{
    struct ata_drive *d = &ch->regs.drive[unit];

    memset(d, 0, sizeof(*d));
    ata_signature(d);
    ata_default_chs(ata_capacity(ch, unit), &d->cyls, &d->heads, &d->spt);
    d->mult = ATA_MAX_MULTIPLE;
    d->wcache = true;
}

void ata_reset(struct ata_channel *ch)
{
    memset(&ch->regs, 0, offsetof(struct ata_regs, buf));
    for (unsigned unit = 0; unit < 2; unit++)
        if (ata_present(ch, unit))
            ata_drive_reset(ch, unit);
    ch->host.irq_level = 0;
    irq_set(&ch->host.irq, 0);
}

/* ---- Addresses ---- */

/* The LBA and count of a 48-bit command: HOB bytes are the high halves. */
static void ata_tf_lba48(const struct ata_drive *d, uint64_t *lba,
                         uint32_t *count)
{
    uint32_t lo = (uint32_t)d->tf[TF_LBA_HIGH] << 16 |
                  (uint32_t)d->tf[TF_LBA_MID] << 8 | d->tf[TF_LBA_LOW];
    uint32_t hi = (uint32_t)d->hob[TF_LBA_HIGH] << 16 |
                  (uint32_t)d->hob[TF_LBA_MID] << 8 | d->hob[TF_LBA_LOW];

    *lba = (uint64_t)hi << 24 | lo;
    *count = (uint32_t)d->hob[TF_COUNT] << 8 | d->tf[TF_COUNT];
    if (*count == 0)
        *count = COUNT48_ZERO;
}

/*
 * The first sector and count of a command. 28-bit commands take LBA 27:24
 * from the device register, or a cylinder/head/sector address in the
 * current translation when DEV_LBA is clear. False for a CHS address
 * outside the translation.
 */
static bool ata_tf_address(const struct ata_drive *d, bool ext, uint64_t *lba,
                           uint32_t *count)
{
    uint32_t cyl, head = d->device & DEV_HEAD, sector = d->tf[TF_LBA_LOW];

    if (ext) {
        ata_tf_lba48(d, lba, count);
        return true;
    }
    *count = d->tf[TF_COUNT] ? d->tf[TF_COUNT] : COUNT28_ZERO;
    cyl = (uint32_t)d->tf[TF_LBA_HIGH] << 8 | d->tf[TF_LBA_MID];
    if (d->device & DEV_LBA) {
        *lba = head << 24 | cyl << 8 | sector;
        return true;
    }
    if (sector == 0 || sector > d->spt || head >= d->heads)
        return false;
    *lba = ((uint64_t)cyl * d->heads + head) * d->spt + sector - 1;
    return true;
}

/* Error outputs: the address of the failing sector (LBA modes only). */
static void ata_tf_set_lba(struct ata_drive *d, uint64_t lba, bool ext)
{
    if (!ext && !(d->device & DEV_LBA))
        return;
    d->tf[TF_LBA_LOW] = (uint8_t)lba;
    d->tf[TF_LBA_MID] = (uint8_t)(lba >> 8);
    d->tf[TF_LBA_HIGH] = (uint8_t)(lba >> 16);
    if (ext) {
        d->hob[TF_LBA_LOW] = (uint8_t)(lba >> 24);
        d->hob[TF_LBA_MID] = (uint8_t)(lba >> 32);
        d->hob[TF_LBA_HIGH] = (uint8_t)(lba >> 40);
    } else {
        d->device = (d->device & ~DEV_HEAD) | ((lba >> 24) & DEV_HEAD);
    }
}

/* The IDENTIFY DEVICE page of unit into buf. */
static void ata_identify(struct ata_channel *ch, unsigned unit, uint8_t *buf)
{
    const struct ata_drive *d = &ch->regs.drive[unit];
    char serial[SERIAL_SIZE];
    struct ata_identity who = {
        .sectors = ata_capacity(ch, unit),
        .cyls = d->cyls,
        .heads = d->heads,
        .spt = d->spt,
        .mult = d->mult,
        .mwdma = -1,
        .dma = ch->host.ram.base != NULL,
        .wcache = d->wcache,
        .serial = serial,
    };

    if ((d->xfer_mode & XFER_TYPE) == XFER_MWDMA)
        who.mwdma = d->xfer_mode & XFER_NUMBER;
    snprintf(serial, sizeof(serial), "BT386-%04X-%u", ch->host.base, unit);
    ata_identify_page(&who, buf);
}

/* ---- PIO data ---- */

/* Write sectors to the media; with the write cache off, make them
 * durable before reporting success, as the cache-less drive would. */
static int ata_media_write(struct ata_channel *ch, unsigned unit, uint64_t lba,
                           const uint8_t *buf, unsigned n)
{
    struct disk *disk = ch->host.disk[unit];

    if (disk_write(disk, lba, buf, n) != 0)
        return -1;
    if (!ch->regs.drive[unit].wcache)
        return disk_flush(disk);
    return 0;
}

/* Offer the next DRQ block of a PIO read, and interrupt for it. */
static void ata_pio_in_block(struct ata_channel *ch)
{
    struct ata_xfer *x = &ch->regs.xfer;
    struct ata_drive *d = &ch->regs.drive[x->unit];
    uint32_t n = x->left < x->block ? x->left : x->block;

    if (disk_read(ch->host.disk[x->unit], x->lba, ch->regs.buf, n) != 0) {
        ata_tf_set_lba(d, x->lba, x->ext);
        ata_fail(ch, d, ERR_UNC);
        return;
    }
    x->pos = 0;
    x->end = n * DISK_SECTOR_SIZE;
    d->status = ST_IDLE | ST_DRQ;
    ata_raise(ch);
}

/* Ask for the next DRQ block of a PIO write (no interrupt for the first). */
static void ata_pio_out_block(struct ata_channel *ch)
{
    struct ata_xfer *x = &ch->regs.xfer;
    uint32_t n = x->left < x->block ? x->left : x->block;

    x->pos = 0;
    x->end = n * DISK_SECTOR_SIZE;
    ch->regs.drive[x->unit].status = ST_IDLE | ST_DRQ;
}

/*
 * The host moved the whole block. A write block goes to the media. Each
 * further block comes with an interrupt; so does the end of a write, while
 * the end of a read needs none (the host saw the last DRQ block).
 */
static void ata_pio_block_done(struct ata_channel *ch)
{
    struct ata_xfer *x = &ch->regs.xfer;
    struct ata_drive *d = &ch->regs.drive[x->unit];
    uint32_t n = x->end / DISK_SECTOR_SIZE;
    bool out = x->kind == XFER_PIO_OUT;

    if (out && ata_media_write(ch, x->unit, x->lba, ch->regs.buf, n) != 0) {
        ata_tf_set_lba(d, x->lba, x->ext);
        ata_fail(ch, d, ERR_ABRT);
        return;
    }
    x->lba += n;
    x->left -= n;
    if (x->left == 0) {
        ata_xfer_stop(ch);
        d->status = ST_IDLE;
        if (out)
            ata_raise(ch);
    } else if (out) {
        ata_pio_out_block(ch);
        ata_raise(ch);
    } else {
        ata_pio_in_block(ch);
    }
}

/* size bytes from the data port: little-endian words from buf. */
static uint32_t ata_data_read(struct ata_channel *ch, unsigned size)
{
    struct ata_xfer *x = &ch->regs.xfer;
    uint32_t v = 0;

    if (x->kind != XFER_PIO_IN || x->pos >= x->end)
        return 0;
    if (size > x->end - x->pos)
        size = x->end - x->pos;
    memcpy(&v, ch->regs.buf + x->pos, size);
    x->pos += size;
    if (x->pos == x->end)
        ata_pio_block_done(ch);
    return v;
}

static void ata_data_write(struct ata_channel *ch, unsigned size, uint32_t v)
{
    struct ata_xfer *x = &ch->regs.xfer;

    if (x->kind != XFER_PIO_OUT || x->pos >= x->end)
        return;
    if (size > x->end - x->pos)
        size = x->end - x->pos;
    memcpy(ch->regs.buf + x->pos, &v, size);
    x->pos += size;
    if (x->pos == x->end)
        ata_pio_block_done(ch);
}

/* ---- Bus-master DMA ---- */

/* One chunk of a DMA command. Returns 0, or the error register value for
 * a media failure, or -1 for a bus error. */
static int ata_dma_chunk(struct ata_channel *ch, struct prd_cursor *c,
                         uint32_t n)
{
    struct ata_xfer *x = &ch->regs.xfer;
    uint8_t *buf = ch->regs.buf;
    uint32_t bytes = n * DISK_SECTOR_SIZE;

    if (x->kind == XFER_DMA_IN) {
        if (disk_read(ch->host.disk[x->unit], x->lba, buf, n) != 0)
            return ERR_UNC;
        return bmdma_move(&ch->host.ram, c, buf, bytes, true);
    }
    if (bmdma_move(&ch->host.ram, c, buf, bytes, false) != 0)
        return -1;
    if (ata_media_write(ch, x->unit, x->lba, buf, n) != 0)
        return ERR_ABRT;
    return 0;
}

/*
 * Run the pending DMA command to its end, now that both the device and the
 * bus master are started, in chunks of the sector buffer. A bus error
 * stops the master; the device then reports the command aborted.
 */
static void ata_dma_run(struct ata_channel *ch)
{
    struct ata_xfer *x = &ch->regs.xfer;
    struct ata_drive *d = &ch->regs.drive[x->unit];
    struct prd_cursor c = bmdma_begin(&ch->regs.bm);
    bool to_ram = x->kind == XFER_DMA_IN;
    int rc = 0;

    if (to_ram != bmdma_to_memory(&ch->regs.bm))
        rc = -1; /* programmed for the other direction */
    while (rc == 0 && x->left) {
        uint32_t n = x->left < BUF_SECTORS ? x->left : BUF_SECTORS;

        rc = ata_dma_chunk(ch, &c, n);
        if (rc == 0) {
            x->lba += n;
            x->left -= n;
        }
    }
    bmdma_end(&ch->regs.bm, &c, rc < 0);
    if (rc == 0) {
        ata_done(ch, d);
        return;
    }
    ata_tf_set_lba(d, x->lba, x->ext);
    ata_fail(ch, d, rc < 0 ? ERR_ABRT : (uint8_t)rc);
}

/* Start the transfer once the device has a DMA command and the bus master
 * is started, whichever came last. */
static void ata_dma_kick(struct ata_channel *ch)
{
    uint8_t kind = ch->regs.xfer.kind;

    if (bmdma_started(&ch->regs.bm) &&
        (kind == XFER_DMA_IN || kind == XFER_DMA_OUT))
        ata_dma_run(ch);
}

uint32_t ata_bmdma_read(struct ata_channel *ch, uint32_t offset, unsigned size)
{
    return bmdma_read(&ch->regs.bm, offset, size);
}

void ata_bmdma_write(struct ata_channel *ch, uint32_t offset, unsigned size,
                     uint32_t value)
{
    if (bmdma_write(&ch->regs.bm, offset, size, value))
        ata_dma_kick(ch);
}

/* ---- Commands ---- */

/* The read and write commands, and how each moves its data. */
static const struct {
    uint8_t cmd;
    uint8_t flags;
} ata_rw_cmds[] = {
    {CMD_READ_SECTORS, 0},
    {CMD_READ_SECTORS_NR, 0},
    {CMD_READ_SECTORS_EXT, RW_EXT},
    {CMD_READ_MULTIPLE, RW_MULTI},
    {CMD_READ_MULTIPLE_EXT, RW_MULTI | RW_EXT},
    {CMD_READ_DMA, RW_DMA},
    {CMD_READ_DMA_NR, RW_DMA},
    {CMD_READ_DMA_EXT, RW_DMA | RW_EXT},
    {CMD_READ_VERIFY, RW_VERIFY},
    {CMD_READ_VERIFY_NR, RW_VERIFY},
    {CMD_READ_VERIFY_EXT, RW_VERIFY | RW_EXT},
    {CMD_WRITE_SECTORS, RW_WRITE},
    {CMD_WRITE_SECTORS_NR, RW_WRITE},
    {CMD_WRITE_SECTORS_EXT, RW_WRITE | RW_EXT},
    {CMD_WRITE_MULTIPLE, RW_WRITE | RW_MULTI},
    {CMD_WRITE_MULTIPLE_EXT, RW_WRITE | RW_MULTI | RW_EXT},
    {CMD_WRITE_DMA, RW_WRITE | RW_DMA},
    {CMD_WRITE_DMA_NR, RW_WRITE | RW_DMA},
    {CMD_WRITE_DMA_EXT, RW_WRITE | RW_DMA | RW_EXT},
};

/* The RW_ flags of a read or write command, or -1 for any other. */
static int ata_rw_flags(uint8_t cmd)
{
    for (size_t i = 0; i < sizeof(ata_rw_cmds) / sizeof(ata_rw_cmds[0]); i++)
        if (ata_rw_cmds[i].cmd == cmd)
            return ata_rw_cmds[i].flags;
    return -1;
}

/* Set up the data phase of a read or write that passed its checks. */
static void ata_rw_start(struct ata_channel *ch, unsigned flags, uint64_t lba,
                         uint32_t count)
{
    struct ata_xfer *x = &ch->regs.xfer;
    bool out = flags & RW_WRITE;

    *x = (struct ata_xfer){
        .unit = ch->regs.unit,
        .ext = flags & RW_EXT,
        .lba = lba,
        .left = count,
        .block = (flags & RW_MULTI) ? ata_drive_sel(ch)->mult : 1,
    };
    if (flags & RW_DMA) {
        x->kind = out ? XFER_DMA_OUT : XFER_DMA_IN;
        ata_drive_sel(ch)->status = ST_IDLE | ST_DRQ;
        ata_dma_kick(ch);
    } else if (out) {
        x->kind = XFER_PIO_OUT;
        ata_pio_out_block(ch);
    } else {
        x->kind = XFER_PIO_IN;
        ata_pio_in_block(ch);
    }
}

/*
 * READ/WRITE SECTORS, MULTIPLE, DMA and READ VERIFY. A write to a readonly
 * image is aborted, as a drive aborts what it cannot do; an address past
 * the end fails with IDNF and that address in the taskfile.
 */
static void ata_cmd_rw(struct ata_channel *ch, unsigned flags)
{
    struct ata_drive *d = ata_drive_sel(ch);
    uint64_t cap = ata_capacity(ch, ch->regs.unit), lba = 0;
    uint32_t count;

    if (((flags & RW_MULTI) && !d->mult) ||
        ((flags & RW_DMA) && !ch->host.ram.base) ||
        ((flags & RW_WRITE) && disk_readonly(ch->host.disk[ch->regs.unit]))) {
        ata_fail(ch, d, ERR_ABRT);
        return;
    }
    if (!ata_tf_address(d, flags & RW_EXT, &lba, &count) || lba >= cap ||
        count > cap - lba) {
        ata_tf_set_lba(d, lba < cap ? cap : lba, flags & RW_EXT);
        ata_fail(ch, d, ERR_IDNF);
        return;
    }
    d->standby = false;
    if (flags & RW_VERIFY)
        ata_done(ch, d);
    else
        ata_rw_start(ch, flags, lba, count);
}

static void ata_cmd_identify(struct ata_channel *ch)
{
    struct ata_xfer *x = &ch->regs.xfer;

    ata_identify(ch, ch->regs.unit, ch->regs.buf);
    *x = (struct ata_xfer){
        .kind = XFER_PIO_IN,
        .unit = ch->regs.unit,
        .left = 1,
        .block = 1,
        .end = DISK_SECTOR_SIZE,
    };
    ata_drive_sel(ch)->status = ST_IDLE | ST_DRQ;
    ata_raise(ch);
}

/* SET MULTIPLE MODE: a power of two up to ATA_MAX_MULTIPLE, 0 for off. */
static void ata_cmd_set_multiple(struct ata_channel *ch)
{
    struct ata_drive *d = ata_drive_sel(ch);
    uint8_t n = d->tf[TF_COUNT];

    if (n > ATA_MAX_MULTIPLE || (n & (n - 1))) {
        ata_fail(ch, d, ERR_ABRT);
        return;
    }
    d->mult = n;
    ata_done(ch, d);
}

/* INITIALIZE DEVICE PARAMETERS: the CHS translation to use. */
static void ata_cmd_init_params(struct ata_channel *ch)
{
    struct ata_drive *d = ata_drive_sel(ch);
    uint64_t total = ata_capacity(ch, ch->regs.unit), cyls;
    uint8_t spt = d->tf[TF_COUNT], heads = (d->device & DEV_HEAD) + 1;

    if (spt == 0 || total < (uint64_t)heads * spt) {
        ata_fail(ch, d, ERR_ABRT);
        return;
    }
    cyls = total / ((uint64_t)heads * spt);
    d->cyls = (uint16_t)(cyls < CUR_MAX_CYLS ? cyls : CUR_MAX_CYLS);
    d->heads = heads;
    d->spt = spt;
    ata_done(ch, d);
}

/* SET FEATURES - transfer mode: PIO 0-4 and, with a bus master, MWDMA
 * 0-2. Timing means nothing here; IDENTIFY reports the MWDMA mode. */
static bool ata_set_xfer_mode(struct ata_channel *ch, struct ata_drive *d,
                              uint8_t mode)
{
    unsigned n = mode & XFER_NUMBER;

    switch (mode & XFER_TYPE) {
    case XFER_PIO_DEFAULT:
        if (n > 1)
            return false;
        break;
    case XFER_PIO:
        if (n > 4)
            return false;
        break;
    case XFER_MWDMA:
        if (n > 2 || !ch->host.ram.base)
            return false;
        break;
    default: /* single-word and Ultra DMA are not offered */
        return false;
    }
    d->xfer_mode = mode;
    return true;
}

static void ata_cmd_set_features(struct ata_channel *ch)
{
    struct ata_drive *d = ata_drive_sel(ch);
    bool ok = true;

    switch (d->tf[TF_FEATURES]) {
    case SF_WCACHE_ON:
        d->wcache = true;
        break;
    case SF_WCACHE_OFF:
        /* what the cache held must not be lost by turning it off */
        ok = disk_flush(ch->host.disk[ch->regs.unit]) == 0;
        d->wcache = !ok;
        break;
    case SF_XFER_MODE:
        ok = ata_set_xfer_mode(ch, d, d->tf[TF_COUNT]);
        break;
    default:
        ok = false;
        break;
    }
    if (ok)
        ata_done(ch, d);
    else
        ata_fail(ch, d, ERR_ABRT);
}

/* FLUSH CACHE (EXT): our writes are already in the file; make them
 * durable. A failure is reported as ABRT, the sector unknown. */
static void ata_cmd_flush(struct ata_channel *ch)
{
    struct ata_drive *d = ata_drive_sel(ch);

    if (disk_flush(ch->host.disk[ch->regs.unit]) != 0)
        ata_fail(ch, d, ERR_ABRT);
    else
        ata_done(ch, d);
}

/* IDLE, STANDBY (IMMEDIATE) and CHECK POWER MODE. Only the mode is
 * modelled; a disk image has no spindle and no timer. */
static void ata_cmd_power(struct ata_channel *ch, uint8_t cmd)
{
    struct ata_drive *d = ata_drive_sel(ch);

    if (cmd == CMD_CHECK_POWER)
        d->tf[TF_COUNT] = d->standby ? POWER_STANDBY : POWER_ACTIVE;
    else
        d->standby = cmd == CMD_STANDBY || cmd == CMD_STANDBY_IMMEDIATE;
    ata_done(ch, d);
}

/* Commands that need no data phase and cannot fail. */
static bool ata_cmd_simple(uint8_t cmd)
{
    uint8_t range = cmd & CMD_OBSOLETE_RANGE;

    return range == CMD_RECALIBRATE || range == CMD_SEEK;
}

static void ata_command(struct ata_channel *ch, uint8_t cmd)
{
    struct ata_drive *d = ata_drive_sel(ch);
    int flags = ata_rw_flags(cmd);

    d->error = 0;
    if (flags >= 0) {
        ata_cmd_rw(ch, (unsigned)flags);
        return;
    }
    switch (cmd) {
    case CMD_IDENTIFY:
        ata_cmd_identify(ch);
        break;
    case CMD_SET_MULTIPLE:
        ata_cmd_set_multiple(ch);
        break;
    case CMD_INIT_PARAMS:
        ata_cmd_init_params(ch);
        break;
    case CMD_SET_FEATURES:
        ata_cmd_set_features(ch);
        break;
    case CMD_FLUSH_CACHE:
    case CMD_FLUSH_CACHE_EXT:
        ata_cmd_flush(ch);
        break;
    case CMD_STANDBY_IMMEDIATE:
    case CMD_IDLE_IMMEDIATE:
    case CMD_STANDBY:
    case CMD_IDLE:
    case CMD_CHECK_POWER:
        ata_cmd_power(ch, cmd);
        break;
    default: /* IDENTIFY PACKET DEVICE, as any command a disk lacks */
        if (ata_cmd_simple(cmd))
            ata_done(ch, d);
        else
            ata_fail(ch, d, ERR_ABRT);
        break;
    }
}

/*
 * A write to the command register. Writing it negates INTRQ and ends any
 * data phase left over. With device 1 selected but absent, device 0
 * ignores every command but EXECUTE DEVICE DIAGNOSTIC, which both devices
 * run whichever is selected; device 0 then interrupts.
 */
static void ata_command_write(struct ata_channel *ch, uint8_t cmd)
{
    bool diagnose = cmd == CMD_DIAGNOSTIC;

    if ((ch->regs.devctl & DC_SRST) ||
        (!diagnose && !ata_present(ch, ch->regs.unit)))
        return;
    ch->regs.intrq = false;
    ata_irq_update(ch);
    ata_xfer_stop(ch);
    if (diagnose) {
        ata_diagnose(ch);
        ata_raise(ch);
    } else {
        ata_command(ch, cmd);
    }
}

/* ---- Registers ---- */

/*
 * The device control register. SRST held puts both devices in BSY, with
 * device 0 selected, and abandons any command; its release completes the
 * reset (no interrupt). nIEN masks INTRQ without forgetting a pending one.
 */
static void ata_devctl_write(struct ata_channel *ch, uint8_t v)
{
    bool was = ch->regs.devctl & DC_SRST;

    ch->regs.devctl = v;
    if ((v & DC_SRST) && !was) {
        ata_xfer_stop(ch);
        ch->regs.intrq = false;
        ch->regs.unit = 0;
        for (unsigned unit = 0; unit < 2; unit++)
            ch->regs.drive[unit].status = ST_BSY;
    } else if (!(v & DC_SRST) && was) {
        ata_diagnose(ch);
    }
    ata_irq_update(ch);
}

/*
 * Status, or 00h when device 1 is selected and absent (ATA-6 9.16.1:
 * device 0 answers for it so). Reading Status, not Alternate Status,
 * acknowledges the interrupt.
 */
static uint8_t ata_status_read(struct ata_channel *ch, bool ack)
{
    if (!ata_present(ch, ch->regs.unit))
        return 0;
    if (ack) {
        ch->regs.intrq = false;
        ata_irq_update(ch);
    }
    return ata_drive_sel(ch)->status;
}

/*
 * A command block register other than data. Device 0 answers reads for an
 * absent device 1 from its own registers, which is what lets libata's
 * presence probe echo for device 1, and the 00h status then tells it no
 * device is there after all.
 */
static uint8_t ata_reg_read(struct ata_channel *ch, uint32_t reg)
{
    unsigned unit = ata_present(ch, ch->regs.unit) ? ch->regs.unit : 0;
    const struct ata_drive *d = &ch->regs.drive[unit];
    bool hob = ch->regs.devctl & DC_HOB;

    switch (reg) {
    case REG_ERROR:
        return hob ? d->hob[TF_FEATURES] : d->error;
    case REG_COUNT:
    case REG_LBA_LOW:
    case REG_LBA_MID:
    case REG_LBA_HIGH:
        return hob ? d->hob[reg - REG_FEATURES] : d->tf[reg - REG_FEATURES];
    case REG_DEVICE:
        return d->device;
    default: /* REG_STATUS */
        return ata_status_read(ch, true);
    }
}

/*
 * Taskfile writes reach both devices (each keeps its copy) and push the
 * old value into the HOB copy, so 48-bit commands take two writes per
 * register. Any such write clears HOB in device control.
 */
static void ata_reg_write(struct ata_channel *ch, uint32_t reg, uint8_t v)
{
    ch->regs.devctl &= ~DC_HOB;
    for (unsigned unit = 0; unit < 2; unit++) {
        struct ata_drive *d = &ch->regs.drive[unit];

        if (reg == REG_DEVICE) {
            d->device = v;
        } else {
            d->hob[reg - REG_FEATURES] = d->tf[reg - REG_FEATURES];
            d->tf[reg - REG_FEATURES] = v;
        }
    }
    if (reg == REG_DEVICE)
        ch->regs.unit = (v & DEV_DEV) ? 1 : 0;
}

/* The data port takes 16 and 32 bits whole; other registers are bytes. */
static uint32_t ata_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct ata_channel *ch = opaque;
    uint32_t v = 0;

    if (!ata_present(ch, 0))
        return ATA_FLOATING_DWORD;
    if (offset == REG_DATA && size > 1)
        return ata_data_read(ch, size);
    for (unsigned i = 0; i < size; i++) {
        uint32_t reg = offset + i;
        uint8_t b = reg == REG_DATA ? (uint8_t)ata_data_read(ch, 1)
                                    : ata_reg_read(ch, reg);

        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void ata_io_write(void *opaque, uint32_t offset, unsigned size,
                         uint32_t value)
{
    struct ata_channel *ch = opaque;

    if (!ata_present(ch, 0))
        return;
    if (offset == REG_DATA && size > 1) {
        ata_data_write(ch, size, value);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint32_t reg = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));

        if (reg == REG_DATA)
            ata_data_write(ch, 1, b);
        else if (reg == REG_COMMAND)
            ata_command_write(ch, b);
        else
            ata_reg_write(ch, reg, b);
    }
}

static uint32_t ata_ctl_read(void *opaque, uint32_t offset, unsigned size)
{
    struct ata_channel *ch = opaque;

    if (!ata_present(ch, 0))
        return ATA_FLOATING;
    return ata_status_read(ch, false);
}

static void ata_ctl_write(void *opaque, uint32_t offset, unsigned size,
                          uint32_t value)
{
    struct ata_channel *ch = opaque;

    if (ata_present(ch, 0))
        ata_devctl_write(ch, (uint8_t)value);
}

static const struct io_ops ata_ops = {
    .read = ata_io_read,
    .write = ata_io_write,
};

static const struct io_ops ata_ctl_ops = {
    .read = ata_ctl_read,
    .write = ata_ctl_write,
};

/*
 * The bus has no unregister: if it refuses the control port after the
 * command block was claimed, that still points at ch, so ch is left
 * allocated and NULL returned.
 */
struct ata_channel *ata_create(struct io_bus *bus, uint16_t base,
                               uint16_t base2, struct irq_line irq,
                               struct disk *master, struct disk *slave,
                               const struct dma_ram *ram)
{
    struct ata_channel *ch;

    if (slave && !master)
        return NULL;
    ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    ch->host = (struct ata_host){
        .bus = bus,
        .base = base,
        .irq = irq,
        .disk = {master, slave},
    };
    if (ram)
        ch->host.ram = *ram;
    ata_reset(ch);
    if (bus_register(bus, base, ATA_NPORTS, &ata_ops, ch, "ata") < 0) {
        free(ch);
        return NULL;
    }
    if (bus_register(bus, base2, 1, &ata_ctl_ops, ch, "ata-ctl") < 0)
        return NULL;
    return ch;
}

void ata_destroy(struct ata_channel *ch)
{
    free(ch);
}
