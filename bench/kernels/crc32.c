/* SPDX-License-Identifier: MIT */
/* crc32: table-driven CRC-32 (IEEE 802.3, reflected), one byte per step. */
#include "kernels.h"

#define CRC_BUF_BYTES (256 * 1024) /* fits in L2: this measures the ALU */
#define CRC_PASSES    160

static uint8_t crc_buf[CRC_BUF_BYTES];
static uint32_t crc_table[256];

/* The table for polynomial 0xEDB88320, bit by bit: itself a shift/xor loop. */
static void crc_table_fill(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; bit++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint32_t len)
{
    uint32_t crc = 0xFFFFFFFFu;

    while (len--)
        crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xff];
    return ~crc;
}

uint32_t bench_crc32(void)
{
    uint32_t seed = 1, sum = 0;

    crc_table_fill();
    for (uint32_t i = 0; i < CRC_BUF_BYTES; i++)
        crc_buf[i] = (uint8_t)(bench_lcg(&seed) >> 24);
    for (int pass = 0; pass < CRC_PASSES; pass++) {
        crc_buf[pass] ^= 0x5a; /* a different message every pass */
        sum = bench_mix(sum, crc32(crc_buf, CRC_BUF_BYTES));
    }
    return sum;
}
