/* SPDX-License-Identifier: MIT */
/* Bus-master IDE after SFF-8038i and the PIIX3 datasheet's BMIDE part. */
#include "devices/bmdma.h"

/* Registers: offsets within a channel's eight */
#define BM_COMMAND 0
#define BM_STATUS  2
#define BM_PRDT    4 /* 4..7, dword aligned */

/* Commands: command register */
#define BM_CMD_START     0x01 /* start/stop bus master */
#define BM_CMD_TO_MEMORY 0x08 /* direction: 1 = the master writes memory */
#define BM_CMD_MASK      (BM_CMD_START | BM_CMD_TO_MEMORY)

/* Status: status register */
#define BM_ST_ACTIVE  0x01 /* PRD table not yet used up */
#define BM_ST_ERROR   0x02 /* the transfer hit a bus error (write 1 clears) */
#define BM_ST_INTR    0x04 /* INTRQ rose (write 1 clears) */
#define BM_ST_DMA_CAP 0x60 /* drive 0/1 DMA capable: scratch for firmware */
#define BM_ST_W1C     (BM_ST_ERROR | BM_ST_INTR)

/* A physical region descriptor: address, then count and EOT. */
#define PRD_SIZE       8
#define PRD_ADDR_MASK  0xFFFFFFFEu /* regions start on an even address */
#define PRD_COUNT_MASK 0xFFFEu     /* even byte count; 0 means 64 KiB */
#define PRD_MAX_COUNT  0x10000u
#define PRD_EOT        0x80000000u /* last descriptor of the table */
#define PRDT_MASK      0xFFFFFFFCu

static uint8_t bmdma_read_byte(const struct bmdma *bm, uint32_t reg)
{
    switch (reg) {
    case BM_COMMAND:
        return bm->cmd;
    case BM_STATUS:
        return bm->status;
    case BM_PRDT:
    case BM_PRDT + 1:
    case BM_PRDT + 2:
    case BM_PRDT + 3:
        return (uint8_t)(bm->prdt >> (8 * (reg - BM_PRDT)));
    default: /* device-specific and reserved bytes */
        return 0;
    }
}

/* Setting START arms the master (ACTIVE); clearing it abandons the table. */
static bool bmdma_write_command(struct bmdma *bm, uint8_t v)
{
    bool started = (v & BM_CMD_START) && !(bm->cmd & BM_CMD_START);

    bm->cmd = v & BM_CMD_MASK;
    if (!(v & BM_CMD_START))
        bm->status &= ~BM_ST_ACTIVE;
    else if (started)
        bm->status |= BM_ST_ACTIVE;
    return started;
}

static bool bmdma_write_byte(struct bmdma *bm, uint32_t reg, uint8_t v)
{
    unsigned shift = 8 * (reg - BM_PRDT);

    switch (reg) {
    case BM_COMMAND:
        return bmdma_write_command(bm, v);
    case BM_STATUS:
        bm->status &= ~(v & BM_ST_W1C);
        bm->status = (bm->status & ~BM_ST_DMA_CAP) | (v & BM_ST_DMA_CAP);
        return false;
    case BM_PRDT:
    case BM_PRDT + 1:
    case BM_PRDT + 2:
    case BM_PRDT + 3:
        bm->prdt &= ~(0xFFu << shift);
        bm->prdt |= (uint32_t)v << shift;
        bm->prdt &= PRDT_MASK;
        return false;
    default:
        return false;
    }
}

uint32_t bmdma_read(const struct bmdma *bm, uint32_t offset, unsigned size)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < size && offset + i < BMDMA_PORTS; i++)
        v |= (uint32_t)bmdma_read_byte(bm, offset + i) << (8 * i);
    return v;
}

bool bmdma_write(struct bmdma *bm, uint32_t offset, unsigned size,
                 uint32_t value)
{
    bool started = false;

    for (unsigned i = 0; i < size && offset + i < BMDMA_PORTS; i++)
        started |=
            bmdma_write_byte(bm, offset + i, (uint8_t)(value >> (8 * i)));
    return started;
}

bool bmdma_started(const struct bmdma *bm)
{
    return bm->cmd & BM_CMD_START;
}

bool bmdma_to_memory(const struct bmdma *bm)
{
    return bm->cmd & BM_CMD_TO_MEMORY;
}

/* PIIX3: the bit is set on an assertion edge of the IDE interrupt. */
void bmdma_interrupt(struct bmdma *bm)
{
    bm->status |= BM_ST_INTR;
}

struct prd_cursor bmdma_begin(const struct bmdma *bm)
{
    return (struct prd_cursor){.next = bm->prdt};
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Fetch the next descriptor. Returns -1 when it lies outside RAM. */
static int bmdma_fetch(const struct dma_ram *ram, struct prd_cursor *c)
{
    uint8_t prd[PRD_SIZE];
    uint32_t count;

    if (dma_read(ram, c->next, prd, PRD_SIZE) != 0)
        return -1;
    count = le32(prd + 4) & PRD_COUNT_MASK;
    c->addr = le32(prd) & PRD_ADDR_MASK;
    c->left = count ? count : PRD_MAX_COUNT;
    c->eot = le32(prd + 4) & PRD_EOT;
    c->next += PRD_SIZE;
    return 0;
}

int bmdma_move(const struct dma_ram *ram, struct prd_cursor *c, uint8_t *buf,
               uint32_t len, bool to_ram)
{
    while (len) {
        uint32_t n;
        int rc;

        if (!c->left && (c->eot || bmdma_fetch(ram, c) != 0))
            return -1;
        n = len < c->left ? len : c->left;
        rc = to_ram ? dma_write(ram, c->addr, buf, n)
                    : dma_read(ram, c->addr, buf, n);
        if (rc != 0)
            return -1;
        c->addr += n;
        c->left -= n;
        buf += n;
        len -= n;
    }
    return 0;
}

void bmdma_end(struct bmdma *bm, const struct prd_cursor *c, bool bus_error)
{
    if (bus_error || (c->eot && !c->left))
        bm->status &= ~BM_ST_ACTIVE;
    if (bus_error)
        bm->status |= BM_ST_ERROR;
}
