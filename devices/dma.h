/* SPDX-License-Identifier: MIT */
/* Guest RAM as a bus master reaches it: a device's DMA port to memory. */
#ifndef BT386_DEVICES_DMA_H
#define BT386_DEVICES_DMA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * RAM from guest physical 0 to size; a bus master reaching past it gets a
 * master abort, never host memory. The device writes through the monitor's
 * own mapping of RAM, which translated-code write protection does not
 * cover, so written(opaque, pa, len) is told of every range a device wrote
 * and can drop translations there (NULL when nothing needs telling).
 */
struct dma_ram {
    uint8_t *base; /* host address of guest physical 0 */
    uint64_t size; /* bytes of RAM */
    void (*written)(void *opaque, uint32_t pa, uint32_t len);
    void *opaque; /* passed to written */
};

/* True when [pa, pa + len) is all RAM. */
static inline bool dma_in_ram(const struct dma_ram *m, uint64_t pa,
                              uint64_t len)
{
    return m->base && len <= m->size && pa <= m->size - len;
}

/* Copy from guest RAM. Returns 0, or -1 (nothing copied) outside RAM. */
static inline int dma_read(const struct dma_ram *m, uint64_t pa, void *buf,
                           uint32_t len)
{
    if (!dma_in_ram(m, pa, len))
        return -1;
    memcpy(buf, m->base + pa, len);
    return 0;
}

/* Copy into guest RAM and report it. Returns 0, or -1 outside RAM. */
static inline int dma_write(const struct dma_ram *m, uint64_t pa,
                            const void *buf, uint32_t len)
{
    if (!dma_in_ram(m, pa, len))
        return -1;
    memcpy(m->base + pa, buf, len);
    if (m->written)
        m->written(m->opaque, (uint32_t)pa, len);
    return 0;
}

#endif
