/* SPDX-License-Identifier: MIT */
/* IDENTIFY DEVICE data, word by word as ATA/ATAPI-6 section 8.15 lays out. */
#include "devices/ata_identify.h"

#include <string.h>

/* Registers: IDENTIFY DEVICE word numbers */
#define ID_CONFIG         0 /* general configuration */
#define ID_CYLS           1 /* default CHS translation */
#define ID_HEADS          3
#define ID_SECTORS        6
#define ID_SERIAL         10 /* 20 ASCII characters */
#define ID_FIRMWARE       23 /* 8 */
#define ID_MODEL          27 /* 40 */
#define ID_MAX_MULTIPLE   47
#define ID_CAPABILITY     49
#define ID_CAPABILITY2    50
#define ID_OLD_PIO        51 /* PIO timing mode (obsolete) */
#define ID_VALID          53 /* which later words are valid */
#define ID_CUR_CYLS       54 /* current CHS translation */
#define ID_CUR_HEADS      55
#define ID_CUR_SECTORS    56
#define ID_CUR_CAPACITY   57 /* 2 words */
#define ID_MULTIPLE       59
#define ID_LBA_CAPACITY   60 /* 2 words */
#define ID_MWDMA          63
#define ID_PIO_MODES      64 /* advanced PIO modes */
#define ID_CYCLE_TIMES    65 /* 65-68: minimum cycle times, ns */
#define ID_CYCLE_WORDS    4
#define ID_MAJOR          80
#define ID_CMDSET1        82 /* command sets supported */
#define ID_CMDSET2        83
#define ID_CMDSET_EXT     84
#define ID_CMDSET1_ON     85 /* command sets enabled */
#define ID_CMDSET2_ON     86
#define ID_CMDSET_DEFAULT 87
#define ID_LBA48_CAPACITY 100 /* 4 words */
#define ID_INTEGRITY      255
#define ID_WORDS          256
#define SERIAL_WORDS      10
#define FIRMWARE_WORDS    4
#define MODEL_WORDS       20

/* Status: bits of those words */
#define ID_CONFIG_FIXED     0x0040 /* fixed, not removable, ATA */
#define CAP_DMA             0x0100
#define CAP_LBA             0x0200
#define CAP_IORDY           0x0800
#define ID_WORD_VALID       0x4000 /* bits 15:14 = 01: word holds data */
#define VALID_CUR_CHS       0x0001 /* words 54-58 */
#define VALID_MODES         0x0002 /* words 64-70 */
#define MULTIPLE_VALID      0x0100 /* word 59: the setting in 7:0 is on */
#define MAX_MULTIPLE_TAG    0x8000 /* word 47 bits 15:8 are 80h in ATA-6 */
#define MWDMA_SUPPORTED     0x0007 /* modes 0-2 */
#define MWDMA_SELECTED      8      /* shift of the selected mode bits */
#define PIO_MODES_3_4       0x0003
#define OLD_PIO_MODE_2      0x0200
#define MAJOR_ATA_1_TO_6    0x007E
#define CMDSET_WCACHE       0x0020 /* words 82, 85 */
#define CMDSET_LBA48        0x0400 /* words 83, 86 */
#define CMDSET_FLUSH        0x1000
#define CMDSET_FLUSH_EXT    0x2000
#define INTEGRITY_SIGNATURE 0xA5 /* low byte of word 255 */
#define CYCLE_NS            120  /* PIO 4 and MWDMA 2 */

#define LBA28_MAX     0x0FFFFFFFu /* sectors an LBA28 capacity can say */
#define CHS_MAX_CYLS  16383
#define CHS_MAX_HEADS 16
#define CHS_MAX_SPT   63
#define MODEL         "bt386 HARDDISK"
#define FIRMWARE      BT386_VERSION

void ata_default_chs(uint64_t sectors, uint16_t *cyls, uint8_t *heads,
                     uint8_t *spt)
{
    uint64_t s = sectors < CHS_MAX_SPT ? sectors : CHS_MAX_SPT;
    uint64_t h = sectors / s < CHS_MAX_HEADS ? sectors / s : CHS_MAX_HEADS;
    uint64_t c = sectors / (h * s);

    *spt = (uint8_t)s;
    *heads = (uint8_t)h;
    *cyls = (uint16_t)(c < CHS_MAX_CYLS ? c : CHS_MAX_CYLS);
}

/* ATA strings: space padded, the first character of a pair in the high
 * byte of its word. */
static void id_string(uint16_t *id, unsigned word, const char *s,
                      unsigned words)
{
    size_t len = strlen(s);

    for (unsigned i = 0; i < 2 * words; i++) {
        uint16_t c = i < len ? (uint8_t)s[i] : ' ';

        id[word + i / 2] |= (i & 1) ? c : (uint16_t)(c << 8);
    }
}

static void id_put32(uint16_t *id, unsigned word, uint32_t v)
{
    id[word] = (uint16_t)v;
    id[word + 1] = (uint16_t)(v >> 16);
}

/* Default and current CHS translation, and both capacities. */
static void id_geometry(uint16_t *id, const struct ata_identity *who)
{
    uint64_t total = who->sectors;
    uint64_t cur = (uint64_t)who->cyls * who->heads * who->spt;
    uint16_t cyls;
    uint8_t heads, spt;

    ata_default_chs(total, &cyls, &heads, &spt);
    id[ID_CYLS] = cyls;
    id[ID_HEADS] = heads;
    id[ID_SECTORS] = spt;
    id[ID_CUR_CYLS] = who->cyls;
    id[ID_CUR_HEADS] = who->heads;
    id[ID_CUR_SECTORS] = who->spt;
    id_put32(id, ID_CUR_CAPACITY, (uint32_t)(cur < total ? cur : total));
    id_put32(id, ID_LBA_CAPACITY,
             (uint32_t)(total < LBA28_MAX ? total : LBA28_MAX));
    id_put32(id, ID_LBA48_CAPACITY, (uint32_t)total);
    id_put32(id, ID_LBA48_CAPACITY + 2, (uint32_t)(total >> 32));
}

/* Transfer modes: PIO 0-4 with IORDY, multiword DMA 0-2 if offered. */
static void id_modes(uint16_t *id, const struct ata_identity *who)
{
    id[ID_CAPABILITY] = CAP_LBA | CAP_IORDY | (who->dma ? CAP_DMA : 0);
    id[ID_CAPABILITY2] = ID_WORD_VALID;
    id[ID_OLD_PIO] = OLD_PIO_MODE_2;
    id[ID_VALID] = VALID_CUR_CHS | VALID_MODES;
    id[ID_MAX_MULTIPLE] = MAX_MULTIPLE_TAG | ATA_MAX_MULTIPLE;
    id[ID_MULTIPLE] = who->mult ? MULTIPLE_VALID | who->mult : 0;
    if (who->dma) {
        id[ID_MWDMA] = MWDMA_SUPPORTED;
        if (who->mwdma >= 0)
            id[ID_MWDMA] |= (uint16_t)(1 << (MWDMA_SELECTED + who->mwdma));
    }
    id[ID_PIO_MODES] = PIO_MODES_3_4;
    for (unsigned i = 0; i < ID_CYCLE_WORDS; i++)
        id[ID_CYCLE_TIMES + i] = CYCLE_NS;
}

/*
 * Feature sets: write cache, FLUSH CACHE (EXT) and 48-bit addressing.
 * libata trusts words 83 and 84 only with bits 15:14 = 01, and reads the
 * write cache state from word 85 only when word 87 is valid too; with the
 * cache reported on, sd sends SYNCHRONIZE CACHE, which arrives as FLUSH.
 * The major version stays at ATA-6: from ATA-8 on, libata reads the
 * General Purpose Log, which we do not have.
 */
static void id_features(uint16_t *id, const struct ata_identity *who)
{
    uint16_t set2 = CMDSET_LBA48 | CMDSET_FLUSH | CMDSET_FLUSH_EXT;

    id[ID_MAJOR] = MAJOR_ATA_1_TO_6;
    id[ID_CMDSET1] = CMDSET_WCACHE;
    id[ID_CMDSET2] = ID_WORD_VALID | set2;
    id[ID_CMDSET_EXT] = ID_WORD_VALID;
    id[ID_CMDSET1_ON] = who->wcache ? CMDSET_WCACHE : 0;
    id[ID_CMDSET2_ON] = set2;
    id[ID_CMDSET_DEFAULT] = ID_WORD_VALID;
}

/* Word 255: signature A5h, then the byte that makes all 512 sum to 0. */
static void id_checksum(uint16_t *id)
{
    uint8_t sum = INTEGRITY_SIGNATURE;

    for (unsigned i = 0; i < ID_INTEGRITY; i++)
        sum += (uint8_t)(id[i] + (id[i] >> 8));
    id[ID_INTEGRITY] = (uint16_t)((uint8_t)-sum << 8 | INTEGRITY_SIGNATURE);
}

void ata_identify_page(const struct ata_identity *who,
                       uint8_t page[ATA_IDENTIFY_SIZE])
{
    uint16_t id[ID_WORDS] = {0};

    id[ID_CONFIG] = ID_CONFIG_FIXED;
    id_string(id, ID_SERIAL, who->serial, SERIAL_WORDS);
    id_string(id, ID_FIRMWARE, FIRMWARE, FIRMWARE_WORDS);
    id_string(id, ID_MODEL, MODEL, MODEL_WORDS);
    id_geometry(id, who);
    id_modes(id, who);
    id_features(id, who);
    id_checksum(id);
    for (unsigned i = 0; i < ID_WORDS; i++) {
        page[2 * i] = (uint8_t)id[i];
        page[2 * i + 1] = (uint8_t)(id[i] >> 8);
    }
}
