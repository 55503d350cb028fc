/* SPDX-License-Identifier: MIT */
/* The IDENTIFY DEVICE page of an emulated ATA hard disk (ATA/ATAPI-6). */
#ifndef BT386_DEVICES_ATA_IDENTIFY_H
#define BT386_DEVICES_ATA_IDENTIFY_H

#include <stdbool.h>
#include <stdint.h>

#define ATA_IDENTIFY_SIZE 512
#define ATA_MAX_MULTIPLE  16 /* sectors per READ/WRITE MULTIPLE block */
#define ATA_LBA48_MAX     (1ull << 48) /* sectors 48-bit commands reach */

/* What the page says: the disk and its current settings. */
struct ata_identity {
    uint64_t sectors;   /* capacity, at most ATA_LBA48_MAX */
    uint16_t cyls;      /* current CHS translation: cylinders, */
    uint8_t heads;      /* heads, */
    uint8_t spt;        /* sectors per track */
    uint8_t mult;       /* multiple mode block, 0 when off */
    int mwdma;          /* selected multiword DMA mode, -1 for none */
    bool dma;           /* multiword DMA 0-2 offered (a bus master exists) */
    bool wcache;        /* volatile write cache enabled */
    const char *serial; /* serial number, up to 20 characters */
};

/* Fill page with the 256 little-endian words, checksum included. */
void ata_identify_page(const struct ata_identity *who,
                       uint8_t page[ATA_IDENTIFY_SIZE]);

/*
 * The default CHS translation for a capacity: 16 heads of 63 sectors with
 * cylinders capped at 16383 (8.4 GB), as ATA-6 describes; an image smaller
 * than one cylinder gets fewer heads and sectors, never more than it has.
 */
void ata_default_chs(uint64_t sectors, uint16_t *cyls, uint8_t *heads,
                     uint8_t *spt);

#endif
