// SPDX-License-Identifier: MIT
/* The virtual CPU: allocation, reset state, and kicks from other threads. */
#include "monitor/vcpu.h"
#include "mmu/window.h"

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

extern char bt_exit[];

_Static_assert(offsetof(struct vcpu, eip) == VCPU_OFF_EIP, "vcpu layout");
_Static_assert(offsetof(struct vcpu, phys_base) == VCPU_OFF_PHYS_BASE,
               "vcpu layout");
_Static_assert(offsetof(struct vcpu, seg_base) == VCPU_OFF_SEG_BASE,
               "vcpu layout");
_Static_assert(offsetof(struct vcpu, shadow_table) == VCPU_OFF_SHADOW,
               "vcpu layout");
_Static_assert(offsetof(struct vcpu, exit_resume) == VCPU_OFF_EXIT_RESUME,
               "vcpu layout");
_Static_assert(offsetof(struct vcpu, fpu_guest) == VCPU_OFF_FPU_GUEST,
               "vcpu layout");
_Static_assert(offsetof(struct vcpu, fpu_host) == VCPU_OFF_FPU_HOST,
               "vcpu layout");


struct vcpu *vcpu_create(void)
{
    void *p = mmap(NULL, sizeof(struct vcpu), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct vcpu *v = p;
    v->exit_fn = bt_exit;
    v->njc_used = JC_USED_MAX + 1; /* the first clear covers everything */
    vcpu_fpu_reset(v);
    v->test_event_vector = -1;
    v->deferred_vector = -1;
    vcpu_jc_clear(v);
    return v;
}

void vcpu_attach(struct vcpu *v, struct dbt *d, struct shadow *s,
                 const struct window *w)
{
    v->dbt = d;
    v->shadow = s;
    v->phys_base = (uint64_t)(uintptr_t)w->base;
    v->ram = w->ram;
    v->ram_size = w->ram_size;
}

void vcpu_destroy(struct vcpu *v)
{
    if (v)
        munmap(v, sizeof(*v));
}

/*
 * The guest's FPU starts as after FNINIT with MXCSR at its reset value;
 * the host's clean state (for the monitor's C code) is what it has now.
 */
void vcpu_fpu_reset(struct vcpu *v)
{
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("fxsave64 %0" : "=m"(v->fpu_host));
    __asm__ volatile("fninit\n\tldmxcsr %1\n\tfxsave64 %0"
                     : "=m"(v->fpu_guest) : "m"(mxcsr));
    __asm__ volatile("fxrstor64 %0" : : "m"(v->fpu_host));
}

/* Cleared on every CR3 load and mode change, so only the slots filled
 * since are touched (a full clear writes 512 KiB). */
void vcpu_jc_clear(struct vcpu *v)
{
    if (v->njc_used > JC_USED_MAX) {
        for (size_t i = 0; i < JC_SIZE; i++)
            v->jc_tag[i] = JC_INVALID_TAG;
    } else {
        for (uint32_t i = 0; i < v->njc_used; i++)
            v->jc_tag[v->jc_used[i]] = JC_INVALID_TAG;
    }
    v->njc_used = 0;
}

void vcpu_jc_clear_nonglobal(struct vcpu *v)
{
    if (v->njc_used > JC_USED_MAX) {
        vcpu_jc_clear(v);
        return;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < v->njc_used; i++) {
        uint32_t slot = v->jc_used[i];
        if (v->jc_tag[slot] != JC_INVALID_TAG && v->jc_global[slot])
            v->jc_used[kept++] = slot;
        else
            v->jc_tag[slot] = JC_INVALID_TAG;
    }
    v->njc_used = kept;
}

void vcpu_jc_clear_page(struct vcpu *v, uint32_t la)
{
    if (v->njc_used > JC_USED_MAX) {
        size_t first = (la & ~0xfffu) & (JC_SIZE - 1);
        for (size_t i = first; i < first + 4096; i++)
            v->jc_tag[i] = JC_INVALID_TAG;
        return;
    }
    for (uint32_t i = 0; i < v->njc_used; i++) {
        uint32_t slot = v->jc_used[i];
        uint32_t eip = v->jc_eip[slot];
        if (v->jc_tag[slot] != JC_INVALID_TAG && (eip >> 12) == (la >> 12))
            v->jc_tag[slot] = JC_INVALID_TAG;
    }
}

struct segment seg_flat(uint16_t sel, uint16_t type, int dpl)
{
    /* attr: type | S (0x10) | DPL | P (0x80) | D/B (0x400) | G (0x800) */
    return (struct segment){sel, 0, 0xffffffffu,
                            (uint16_t)(type | 0x10 | (dpl << 5) | 0x80 |
                                       0x400 | 0x800)};
}

void vcpu_set_flat32(struct vcpu *v, uint32_t eip)
{
    memset(v->regs, 0, sizeof(v->regs));
    for (int s = 0; s < SEG_COUNT; s++) {
        v->seg[s] = s == SEG_CS ? seg_flat(0x08, 0xb, 0) /* code, exec/read, accessed */
                                : seg_flat(0x10, 0x3, 0); /* data, read/write, accessed */
        v->seg_base[s] = 0;
    }
    v->eip = eip;
    v->eflags = EFL_FIXED;
    v->cr0 = CR0_PE | CR0_ET;
    v->cr2 = v->cr3 = v->cr4 = 0;
    memset(v->dr, 0, sizeof(v->dr));
    v->dr[6] = 0xffff0ff0u; /* reset values: reserved bits read as ones */
    v->dr[7] = 0x00000400u;
    v->misc_enable = MISC_ENABLE_RESET;
    v->gdtr.base = v->idtr.base = 0;
    v->gdtr.limit = v->idtr.limit = 0;
    v->cpl = 0;
    v->shadow_table = NULL;
    v->resume = false;
    v->slow.pending = false;
    v->halted = false;
    v->delivering = 0;
    v->intr_shadow = false;
    vcpu_fpu_reset(v);
    vcpu_jc_clear(v);
}

void vcpu_kick(struct vcpu *v)
{
    mprotect(v->poll_page, sizeof(v->poll_page), PROT_NONE);
}

void vcpu_unkick(struct vcpu *v)
{
    mprotect(v->poll_page, sizeof(v->poll_page), PROT_READ | PROT_WRITE);
}

void vcpu_request_stop(struct vcpu *v)
{
    v->stop_requested = true;
    vcpu_kick(v);
}
