/* SPDX-License-Identifier: MIT */
/* Intel 440FX host bridge and PIIX3 ISA/IDE functions, after their
 * datasheets (82441FX, 82371SB), as Linux's ata_piix drives them. */
#include "devices/piix.h"

#include <stdlib.h>

/* Registers: identity of the three functions */
#define VENDOR_INTEL      0x8086
#define DEVICE_82441FX    0x1237 /* 440FX PCI and memory controller */
#define DEVICE_PIIX3_ISA  0x7000
#define DEVICE_PIIX3_IDE  0x7010
#define REVISION_82441FX  0x02
#define CLASS_HOST_BRIDGE 0x060000
#define CLASS_ISA_BRIDGE  0x060100
/* prog-if 80h: bus master capable, both channels fixed in compatibility
 * (legacy) mode, so the ports and IRQs are the ISA ones whatever BAR0-3
 * say; the PIIX3 implements no BAR0-3 at all. */
#define CLASS_IDE_LEGACY 0x010180
#define DEVFN_HOST       PCI_DEVFN(0, 0)
#define DEVFN_ISA        PCI_DEVFN(1, 0)
#define DEVFN_IDE        PCI_DEVFN(1, 1)

/* Registers: header values the datasheets give */
#define STATUS_FAST_B2B      0x0080
#define STATUS_DEVSEL_MEDIUM 0x0200
#define STATUS_DEFAULT       (STATUS_FAST_B2B | STATUS_DEVSEL_MEDIUM)
#define HOST_COMMAND         (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
#define ISA_COMMAND          (HOST_COMMAND | PCI_COMMAND_IO) /* fixed on */
#define IDE_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MASTER)

/* Registers: PIIX3 ISA function */
#define ISA_PIRQRC      0x60 /* PIRQ[A-D] route control, 4 bytes */
#define PIRQRC_DISABLED 0x80 /* not routed to an ISA IRQ */
#define PIRQRC_WRITABLE 0x8F /* IRQRC (routing disable) and the IRQ */
#define PIRQRC_COUNT    4
#define ISA_DLC         0x82 /* deterministic latency control */
#define DLC_WRITABLE    0x0F

/* Registers: PIIX3 IDE function */
#define IDE_BAR_BMIBA  4    /* bus master interface base address */
#define IDE_BMIBA_SIZE 16   /* two channels of ATA_BMDMA_PORTS */
#define IDE_IDETIM_PRI 0x40 /* IDE timing, primary channel, 16 bits */
#define IDE_IDETIM_SEC 0x42 /* secondary channel */
#define IDE_SIDETIM    0x44 /* slave IDE timing */
/* IDETIM bit 15: the channel decodes its ports. ata_piix refuses a channel
 * without it ("port disabled"); firmware sets it for each channel. */
#define IDETIM_IDE_DECODE 0x8000
#define IDETIM_WRITABLE   0xF3FF /* 11:10 reserved */
#define SIDETIM_WRITABLE  0xFF

/* Host side only: the chipset's guest state lives in the PCI functions
 * and the ATA channels. */
struct piix {
    struct pci_bus *pci;            /* bus 0 */
    struct pci_func *ide;           /* 00:01.1 */
    struct ata_channel *channel[2]; /* primary, secondary */
};

/* BAR4: the primary channel's eight registers, then the secondary's. */
static uint32_t piix_bmide_read(void *opaque, uint32_t offset, unsigned size)
{
    struct piix *p = opaque;
    uint32_t v = 0;

    if (offset / ATA_BMDMA_PORTS == (offset + size - 1) / ATA_BMDMA_PORTS)
        return ata_bmdma_read(p->channel[offset / ATA_BMDMA_PORTS],
                              offset % ATA_BMDMA_PORTS, size);
    for (unsigned i = 0; i < size; i++)
        v |= piix_bmide_read(p, offset + i, 1) << (8 * i);
    return v;
}

static void piix_bmide_write(void *opaque, uint32_t offset, unsigned size,
                             uint32_t value)
{
    struct piix *p = opaque;

    if (offset / ATA_BMDMA_PORTS == (offset + size - 1) / ATA_BMDMA_PORTS) {
        ata_bmdma_write(p->channel[offset / ATA_BMDMA_PORTS],
                        offset % ATA_BMDMA_PORTS, size, value);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        piix_bmide_write(p, offset + i, 1, (value >> (8 * i)) & 0xFF);
}

static const struct io_ops piix_bmide_ops = {
    .read = piix_bmide_read,
    .write = piix_bmide_write,
};

static struct pci_func *piix_add_host(struct pci_bus *pci)
{
    static const struct pci_ident id = {
        VENDOR_INTEL, DEVICE_82441FX, CLASS_HOST_BRIDGE, REVISION_82441FX, 0,
    };
    struct pci_func *f = pci_add(pci, DEVFN_HOST, &id);

    if (f) {
        pci_config_init(f, PCI_COMMAND, 2, HOST_COMMAND, 0);
        pci_config_init(f, PCI_STATUS, 2, STATUS_DEFAULT, 0);
    }
    return f;
}

static struct pci_func *piix_add_isa(struct pci_bus *pci)
{
    static const struct pci_ident id = {
        VENDOR_INTEL,
        DEVICE_PIIX3_ISA,
        CLASS_ISA_BRIDGE,
        0,
        PCI_HEADER_MULTIFUNCTION,
    };
    struct pci_func *f = pci_add(pci, DEVFN_ISA, &id);

    if (!f)
        return NULL;
    pci_config_init(f, PCI_COMMAND, 2, ISA_COMMAND, 0);
    pci_config_init(f, PCI_STATUS, 2, STATUS_DEFAULT, 0);
    for (unsigned i = 0; i < PIRQRC_COUNT; i++)
        pci_config_init(f, ISA_PIRQRC + i, 1, PIRQRC_DISABLED, PIRQRC_WRITABLE);
    pci_config_init(f, ISA_DLC, 1, 0, DLC_WRITABLE);
    return f;
}

/* The IDE function as firmware leaves it: I/O and bus mastering on, BAR4
 * assigned (only with DMA), both channels decoding. */
static struct pci_func *piix_add_ide(struct piix *p, bool dma)
{
    static const struct pci_ident id = {
        VENDOR_INTEL, DEVICE_PIIX3_IDE, CLASS_IDE_LEGACY, 0, 0,
    };
    struct pci_func *f = pci_add(p->pci, DEVFN_IDE, &id);
    uint16_t command = PCI_COMMAND_IO | (dma ? PCI_COMMAND_MASTER : 0);

    if (!f)
        return NULL;
    pci_config_init(f, PCI_STATUS, 2, STATUS_DEFAULT, 0);
    pci_config_init(f, IDE_IDETIM_PRI, 2, IDETIM_IDE_DECODE, IDETIM_WRITABLE);
    pci_config_init(f, IDE_IDETIM_SEC, 2, IDETIM_IDE_DECODE, IDETIM_WRITABLE);
    pci_config_init(f, IDE_SIDETIM, 1, 0, SIDETIM_WRITABLE);
    if (dma && pci_add_io_bar(f, IDE_BAR_BMIBA, IDE_BMIBA_SIZE, PIIX_BMIDE_BASE,
                              &piix_bmide_ops, p) != 0)
        return NULL;
    pci_config_init(f, PCI_COMMAND, 2, command, IDE_COMMAND_WRITABLE);
    return f;
}

/*
 * The bus has no unregister: once a range is claimed it keeps pointing at
 * what was created, so on a later failure that is left allocated and NULL
 * returned.
 */
struct piix *piix_create(struct io_bus *io, struct irq_line irq14,
                         struct irq_line irq15,
                         struct disk *const disks[PIIX_DRIVES],
                         const struct dma_ram *ram)
{
    struct piix *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->pci = pci_create(io);
    if (!p->pci) {
        free(p);
        return NULL;
    }
    p->channel[0] =
        ata_create(io, ATA_PRIMARY_BASE, ATA_PRIMARY_CTL, irq14,
                   disks[PIIX_PRIMARY_MASTER], disks[PIIX_PRIMARY_SLAVE], ram);
    p->channel[1] = ata_create(io, ATA_SECONDARY_BASE, ATA_SECONDARY_CTL, irq15,
                               disks[PIIX_SECONDARY_MASTER],
                               disks[PIIX_SECONDARY_SLAVE], ram);
    if (!p->channel[0] || !p->channel[1] || !piix_add_host(p->pci) ||
        !piix_add_isa(p->pci))
        return NULL;
    p->ide = piix_add_ide(p, ram && ram->base);
    return p->ide ? p : NULL;
}

void piix_destroy(struct piix *p)
{
    if (!p)
        return;
    ata_destroy(p->channel[0]);
    ata_destroy(p->channel[1]);
    pci_destroy(p->pci);
    free(p);
}

void piix_reset(struct piix *p)
{
    pci_reset(p->pci);
    ata_reset(p->channel[0]);
    ata_reset(p->channel[1]);
}

struct pci_bus *piix_pci(struct piix *p)
{
    return p->pci;
}
