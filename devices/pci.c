/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 and I/O BAR decoding, for bus 0 only. */
#include "devices/pci.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Registers: ports */
#define PCI_PORT_BASE  0xCF8
#define PCI_NPORTS     8
#define PORT_ADDRESS   0 /* 0xCF8: CONFIG_ADDRESS, 32-bit accesses only */
#define PORT_RESET_CTL 1 /* 0xCF9: reset control register (PIIX), bytes */
#define PORT_DATA      4 /* 0xCFC-0xCFF: CONFIG_DATA, any size */

/* Commands: CONFIG_ADDRESS */
#define ADDR_ENABLE      0x80000000u /* CONFIG_DATA makes config cycles */
#define ADDR_MASK        0x80FFFFFCu /* 30:24 reserved, 1:0 read as 0 */
#define ADDR_BUS_SHIFT   16
#define ADDR_BUS_MASK    0xFF
#define ADDR_DEVFN_SHIFT 8
#define ADDR_DEVFN_MASK  0xFF
#define ADDR_REG_MASK    0xFC

/* Commands: reset control register */
#define RCR_SYSTEM_RESET 0x02 /* hard reset (0: INIT only) */
#define RCR_RESET_CPU    0x04 /* setting it requests the reset */

#define PCI_MAX_DEVFN   256
#define PCI_MAX_WINDOWS 16       /* places BARs were ever decoded at */
#define PCI_IO_LIMIT    0x10000u /* x86 I/O space */
#define PCI_BAR_IO_MASK 0xFFFCu  /* I/O BAR address bits: 16 bits here */
#define PCI_BAR_MIN     4
#define PCI_BAR_MAX     256 /* PCI limits an I/O BAR to 256 bytes */

/* The header bits every function lets the guest change. */
#define CMD_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

/* An I/O BAR: where its registers are, host side. */
struct pci_bar {
    uint32_t size;            /* bytes; 0 when the BAR is not implemented */
    const struct io_ops *ops; /* the function's registers behind it */
    void *opaque;             /* passed to ops */
    uint16_t mapped;          /* I/O base it decodes at now; 0 for none */
};

struct pci_func {
    uint8_t config[PCI_CONFIG_SIZE]; /* configuration space (guest state) */
    uint8_t wmask[PCI_CONFIG_SIZE];  /* bits guest writes may change */
    uint8_t reset[PCI_CONFIG_SIZE];  /* configuration space after reset */
    struct pci_bar bar[PCI_NUM_BARS];
    struct pci_bus *bus; /* the bus we are on */
};

/* An I/O range claimed on the bus for one BAR at one base, kept for good:
 * it forwards only while the BAR decodes there. */
struct pci_window {
    struct pci_func *f; /* owner */
    unsigned bar;       /* which of its BARs */
    uint16_t base;      /* where */
};

struct pci_bus {
    uint32_t address;                     /* CONFIG_ADDRESS (guest state) */
    uint8_t reset_ctl;                    /* 0xCF9 (guest state) */
    struct pci_func *func[PCI_MAX_DEVFN]; /* by devfn; NULL when absent */
    struct io_bus *io;                    /* where BARs are claimed */
    struct pci_window window[PCI_MAX_WINDOWS];
    unsigned windows;                              /* window[] entries in use */
    void (*reset_request)(void *opaque, int hard); /* 0xCF9 bit 2 */
    void *reset_opaque;
};

/* All ones in the low size bytes: a master abort, an absent register. */
static uint32_t pci_ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

uint32_t pci_config_read(struct pci_func *f, unsigned offset, unsigned size)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
        v |= (uint32_t)f->config[offset + i] << (8 * i);
    return v;
}

static uint16_t pci_config_word(const struct pci_func *f, unsigned offset)
{
    return (uint16_t)(f->config[offset] | f->config[offset + 1] << 8);
}

/* ---- BAR decoding ---- */

static uint32_t pci_window_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pci_window *w = opaque;
    struct pci_bar *b = &w->f->bar[w->bar];

    if (b->mapped != w->base)
        return pci_ones(size); /* nobody decodes here now */
    return b->ops->read(b->opaque, offset, size);
}

static void pci_window_write(void *opaque, uint32_t offset, unsigned size,
                             uint32_t value)
{
    struct pci_window *w = opaque;
    struct pci_bar *b = &w->f->bar[w->bar];

    if (b->mapped == w->base)
        b->ops->write(b->opaque, offset, size, value);
}

static const struct io_ops pci_window_ops = {
    .read = pci_window_read,
    .write = pci_window_write,
};

/* A window for BAR bar of f at base: the one claimed before, or a new one.
 * False when the table is full or the bus refuses the range. */
static bool pci_window_claim(struct pci_func *f, unsigned bar, uint16_t base)
{
    struct pci_bus *pci = f->bus;
    struct pci_window *w;

    for (unsigned i = 0; i < pci->windows; i++) {
        w = &pci->window[i];
        if (w->f == f && w->bar == bar && w->base == base)
            return true;
    }
    if (pci->windows == PCI_MAX_WINDOWS)
        return false;
    w = &pci->window[pci->windows];
    *w = (struct pci_window){f, bar, base};
    if (bus_register(pci->io, base, f->bar[bar].size, &pci_window_ops, w,
                     "pci-bar") < 0)
        return false;
    pci->windows++;
    return true;
}

/* Decode each I/O BAR where the configuration space now says, if at all. */
static void pci_update_bars(struct pci_func *f)
{
    bool io_on = pci_config_word(f, PCI_COMMAND) & PCI_COMMAND_IO;

    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *b = &f->bar[i];
        uint32_t reg = pci_config_read(f, PCI_BAR0 + 4 * i, 4);
        uint16_t base = (uint16_t)(reg & PCI_BAR_IO_MASK);

        if (!b->size)
            continue;
        b->mapped = 0;
        if (io_on && base && base + b->size <= PCI_IO_LIMIT &&
            pci_window_claim(f, i, base))
            b->mapped = base;
    }
}

/* ---- Configuration space ---- */

void pci_config_write(struct pci_func *f, unsigned offset, unsigned size,
                      uint32_t value)
{
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++) {
        uint8_t m = f->wmask[offset + i], b = (uint8_t)(value >> (8 * i));

        f->config[offset + i] = (f->config[offset + i] & ~m) | (b & m);
    }
    pci_update_bars(f);
}

void pci_config_init(struct pci_func *f, unsigned offset, unsigned size,
                     uint32_t value, uint32_t wmask)
{
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++) {
        f->config[offset + i] = (uint8_t)(value >> (8 * i));
        f->reset[offset + i] = (uint8_t)(value >> (8 * i));
        f->wmask[offset + i] = (uint8_t)(wmask >> (8 * i));
    }
    pci_update_bars(f);
}

struct pci_func *pci_add(struct pci_bus *pci, unsigned devfn,
                         const struct pci_ident *id)
{
    struct pci_func *f;

    if (devfn >= PCI_MAX_DEVFN || pci->func[devfn])
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->bus = pci;
    pci_config_init(f, PCI_VENDOR_ID, 2, id->vendor, 0);
    pci_config_init(f, PCI_DEVICE_ID, 2, id->device, 0);
    pci_config_init(f, PCI_REVISION_ID, 1, id->revision, 0);
    pci_config_init(f, PCI_CLASS_PROG, 3, id->class_code, 0);
    pci_config_init(f, PCI_HEADER_TYPE, 1, id->header_type, 0);
    pci_config_init(f, PCI_COMMAND, 2, 0, CMD_WRITABLE);
    pci_config_init(f, PCI_LATENCY_TIMER, 1, 0, 0xFF);
    pci_config_init(f, PCI_INTERRUPT_LINE, 1, 0, 0xFF);
    pci->func[devfn] = f;
    return f;
}

/*
 * I/O BARs: bit 0 reads 1 and the bits below the size read 0, so writing
 * all ones reads back the size mask, as sizing code expects. Addresses
 * stop at 16 bits, the x86 I/O space (as on the PIIX's BMIBA).
 */
int pci_add_io_bar(struct pci_func *f, unsigned bar, uint32_t size,
                   uint16_t base, const struct io_ops *ops, void *opaque)
{
    uint32_t mask = ~(size - 1) & PCI_BAR_IO_MASK;

    if (bar >= PCI_NUM_BARS || size < PCI_BAR_MIN || size > PCI_BAR_MAX ||
        (size & (size - 1)) || !ops)
        return -1;
    f->bar[bar] = (struct pci_bar){.size = size, .ops = ops, .opaque = opaque};
    pci_config_init(f, PCI_BAR0 + 4 * bar, 4, (base & mask) | PCI_BAR_IO, mask);
    return 0;
}

/* ---- Ports ---- */

/* The function CONFIG_ADDRESS points at, or NULL (no cycle, other bus,
 * nobody there: all master aborts). */
static struct pci_func *pci_target(struct pci_bus *pci)
{
    uint32_t a = pci->address;

    if (!(a & ADDR_ENABLE) || ((a >> ADDR_BUS_SHIFT) & ADDR_BUS_MASK) != 0)
        return NULL;
    return pci->func[(a >> ADDR_DEVFN_SHIFT) & ADDR_DEVFN_MASK];
}

static uint32_t pci_data_read(struct pci_bus *pci, unsigned byte, unsigned size)
{
    struct pci_func *f = pci_target(pci);

    if (!f)
        return pci_ones(size);
    return pci_config_read(f, (pci->address & ADDR_REG_MASK) + byte, size);
}

static void pci_data_write(struct pci_bus *pci, unsigned byte, unsigned size,
                           uint32_t value)
{
    struct pci_func *f = pci_target(pci);

    if (f)
        pci_config_write(f, (pci->address & ADDR_REG_MASK) + byte, size, value);
}

/* 0xCF9: setting RCPU asks the board for a reset (Linux's reboot=pci
 * writes 02h then 06h). */
static void pci_reset_ctl_write(struct pci_bus *pci, uint8_t v)
{
    pci->reset_ctl = v & RCR_SYSTEM_RESET;
    if ((v & RCR_RESET_CPU) && pci->reset_request)
        pci->reset_request(pci->reset_opaque, (v & RCR_SYSTEM_RESET) != 0);
}

/*
 * Only a 32-bit access at 0xCF8 is CONFIG_ADDRESS and only a byte at 0xCF9
 * is the PIIX reset control register; other accesses to 0xCF8-0xCFB are
 * not for the chipset (on a PC they reach the ISA bus and float).
 * CONFIG_DATA takes any size at any of its four bytes. An access that
 * straddles 0xCFB and 0xCFC goes by bytes.
 */
static uint32_t pci_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pci_bus *pci = opaque;
    uint32_t v = 0;

    if (offset == PORT_ADDRESS && size == 4)
        return pci->address;
    if (offset == PORT_RESET_CTL && size == 1)
        return pci->reset_ctl;
    if (offset >= PORT_DATA)
        return pci_data_read(pci, offset - PORT_DATA, size);
    for (unsigned i = 0; i < size; i++) {
        uint32_t b = offset + i < PORT_DATA
                         ? pci_ones(1)
                         : pci_data_read(pci, offset + i - PORT_DATA, 1);

        v |= b << (8 * i);
    }
    return v;
}

static void pci_io_write(void *opaque, uint32_t offset, unsigned size,
                         uint32_t value)
{
    struct pci_bus *pci = opaque;

    if (offset == PORT_ADDRESS && size == 4) {
        pci->address = value & ADDR_MASK;
    } else if (offset == PORT_RESET_CTL && size == 1) {
        pci_reset_ctl_write(pci, (uint8_t)value);
    } else if (offset >= PORT_DATA) {
        pci_data_write(pci, offset - PORT_DATA, size, value);
    } else {
        for (unsigned i = 0; i < size; i++)
            if (offset + i >= PORT_DATA)
                pci_data_write(pci, offset + i - PORT_DATA, 1,
                               (value >> (8 * i)) & 0xFF);
    }
}

static const struct io_ops pci_ops = {
    .read = pci_io_read,
    .write = pci_io_write,
};

struct pci_bus *pci_create(struct io_bus *io)
{
    struct pci_bus *pci = calloc(1, sizeof(*pci));

    if (!pci)
        return NULL;
    pci->io = io;
    if (bus_register(io, PCI_PORT_BASE, PCI_NPORTS, &pci_ops, pci, "pci") < 0) {
        free(pci);
        return NULL;
    }
    return pci;
}

/* The bus keeps pointing at pci and its windows: free only after it. */
void pci_destroy(struct pci_bus *pci)
{
    if (!pci)
        return;
    for (unsigned i = 0; i < PCI_MAX_DEVFN; i++)
        free(pci->func[i]);
    free(pci);
}

void pci_reset(struct pci_bus *pci)
{
    pci->address = 0;
    pci->reset_ctl = 0;
    for (unsigned i = 0; i < PCI_MAX_DEVFN; i++) {
        struct pci_func *f = pci->func[i];

        if (!f)
            continue;
        memcpy(f->config, f->reset, sizeof(f->config));
        pci_update_bars(f);
    }
}

void pci_set_reset_handler(struct pci_bus *pci,
                           void (*request)(void *opaque, int hard),
                           void *opaque)
{
    pci->reset_request = request;
    pci->reset_opaque = opaque;
}
