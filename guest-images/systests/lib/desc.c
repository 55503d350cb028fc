/* SPDX-License-Identifier: MIT */
/* System tests: the GDT, IDT and kernel TSS every test kernel starts with. */
#include <stddef.h>

#include "kstring.h"
#include "sys.h"

#define VEC_USER_RETURN 0x81 /* user_call()'s way back, DPL 3 */

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
uint64_t idt[256] __attribute__((aligned(8)));
struct tss_io tss_main __attribute__((aligned(128)));

extern const uint32_t isr_table[256]; /* entry.asm */
void isr_user_return(void);

uint64_t desc_seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
           (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

uint64_t desc_gate(uint16_t sel, uint32_t offset, uint8_t type, int dpl,
                   int params)
{
    uint8_t access = (uint8_t)(ACC_P | ACC_DPL(dpl) | type);
    return (uint64_t)(offset & 0xFFFF) | (uint64_t)sel << 16 |
           (uint64_t)(params & 0x1F) << 32 | (uint64_t)access << 40 |
           (uint64_t)(offset >> 16) << 48;
}

uint64_t desc_task_gate(uint16_t tss_sel, int dpl)
{
    return desc_gate(tss_sel, 0, TYPE_TASK_GATE, dpl, 0);
}

uint16_t gdt_set(int index, uint64_t desc)
{
    gdt[index] = desc;
    return (uint16_t)(index * 8);
}

uint8_t gdt_access(int index)
{
    return ((volatile uint8_t *)&gdt[index])[5];
}

uint32_t isr_addr(int vec)
{
    return isr_table[vec];
}

void idt_set(int vec, uint64_t gate)
{
    idt[vec] = gate;
}

void idt_set_default(int vec, int dpl)
{
    idt[vec] = desc_gate(SEL_KCODE, isr_table[vec], TYPE_INT_GATE, dpl, 0);
}

/* The kernel task: ring-0 stack for entries from CPL 3, every port denied
 * to CPL 3 with IOPL 0 (the tests open the ones they need). */
static void tss_init(void)
{
    memset(&tss_main, 0, sizeof(tss_main));
    tss_main.t.ss0 = SEL_KDATA;
    tss_main.t.esp0 = (uint32_t)istack_top;
    tss_main.t.iomap_base = offsetof(struct tss_io, iomap);
    memset(tss_main.iomap, 0xFF, sizeof(tss_main.iomap));
}

/* Load GDTR and reload every segment register from the new table. */
static void gdt_load(void)
{
    struct dtr d = {sizeof(gdt) - 1, (uint32_t)gdt};

    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "movw %w2, %%ds\n\t"
                     "movw %w2, %%es\n\t"
                     "movw %w2, %%fs\n\t"
                     "movw %w2, %%gs\n\t"
                     "movw %w2, %%ss"
                     :
                     : "m"(d), "i"(SEL_KCODE), "r"(SEL_KDATA)
                     : "memory");
}

void sys_init(void)
{
    struct dtr d = {sizeof(idt) - 1, (uint32_t)idt};

    kprintf("\n"); /* the firmware's last line may lack its newline */
    gdt_set(0, 0);
    gdt_set(1, desc_seg(0, 0xFFFFF, ACC_CODE(0), FLG_G | FLG_DB));
    gdt_set(2, desc_seg(0, 0xFFFFF, ACC_DATA(0), FLG_G | FLG_DB));
    gdt_set(3, desc_seg(0, 0xFFFFF, ACC_CODE(3), FLG_G | FLG_DB));
    gdt_set(4, desc_seg(0, 0xFFFFF, ACC_DATA(3), FLG_G | FLG_DB));
    tss_init();
    gdt_set(5, desc_seg((uint32_t)&tss_main, sizeof(tss_main) - 1,
                        ACC_P | TYPE_TSS32, 0));
    gdt_load();

    for (int v = 0; v < 256; v++)
        idt_set_default(v, 0);
    idt_set(VEC_USER_RETURN, desc_gate(SEL_KCODE, (uint32_t)isr_user_return,
                                       TYPE_INT_GATE, 3, 0));
    __asm__ volatile("lidt %0" : : "m"(d) : "memory");
    /* The IDT is live: a CPU without LTR reports it and the checks that
     * need no task register still run. */
    TRY("ltr %w0", : : "r"(SEL_TSS) : "memory");
    if (caught.count) {
        check_fail("ltr_kernel_tss");
        kprintf("LTR raised vector %u (error %x)\n", caught.vector,
                caught.error);
    }
    /* A known CR0: no task-switched, emulation, alignment or write-protect
     * bits left over from the loader (paging is off under Multiboot). */
    cr0_write(cr0_read() & ~(CR0_TS | CR0_EM | CR0_AM | CR0_WP | CR0_PG));
}
