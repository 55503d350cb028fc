/* SPDX-License-Identifier: MIT */
/* Translator internals shared by the files of dbt/ (not by the monitor). */
#ifndef BT386_DBT_INTERNAL_H
#define BT386_DBT_INTERNAL_H

#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "dbt/emit.h"

/* Host registers that hold bt386 state while translated code runs. */
#define HR_ESP   H_R12 /* guest ESP */
#define HR_VCPU  H_R14 /* struct vcpu * */
#define HR_PBASE H_R15 /* host address of guest physical 0 */
/* With paging on, translated code reaches memory only through the shadow
 * tables, and R15 holds the shift count 12 for SHRX (bt_enter loads it). */
#define HR_PAGE_SHIFT H_R15
/* Scratch registers, free inside one guest instruction's code. */
#define HR_T0 H_R8
#define HR_T1 H_R9
#define HR_T2 H_R10
#define HR_ADDR H_R11 /* guest linear address of the memory operand */

/* A vCPU field as a host memory operand, through R14. */
#define VOFF(field) ((int32_t)offsetof(struct vcpu, field))
#define VCPU_MEM(off) hmem_bd(HR_VCPU, (off))

#define BLOCK_MAX_INSNS 64
#define BLOCK_MAX_HOST 8192 /* host bytes one block may take, stubs included */
#define HASH_BITS 16
#define DECODED_SLOTS 256

struct dbt {
    struct decoder *dec;
    uint8_t *code;          /* code cache (RWX) */
    size_t code_size;
    size_t code_used;
    struct block *blocks;   /* in host-address order */
    size_t nblocks, max_blocks;
    struct pcmap *pcmaps;   /* arena for all blocks' pcmaps */
    size_t npcmap, max_pcmap;
    uint64_t generation;    /* bumped by every flush */
    /* Self-modifying code (paging off): guest pages holding translated code
     * are read-only in the window; code_page[] marks them, protected[]
     * lists them so a flush can open them again. */
    uint8_t *code_page;     /* CODE_PAGE_* */
    uint32_t *page_blocks;  /* per page: first block on it (index + 1) */
    uint32_t *protected;
    size_t nprotected, npages;
    /* Window pages of data breakpoints (paging off): PROT_NONE, so that
     * every access faults (FAULT_WATCH); watch_open lifts that for one
     * instruction. */
    uint32_t watch_page[4];
    int nwatch;
    bool watch_open;
    bool single_step;       /* next block: one instruction, uncached */
    bool single_cached;     /* next block: one instruction, cached */
    bool esp_unaligned;     /* next lookup: the MODE_ESP_UNALIGNED variant */
    bool past_breakpoint;   /* next block: uncached, runs the instruction
                               at an instruction breakpoint (EFLAGS.RF) */
    bool seg_unchecked;     /* next block: uncached, the instruction the
                               monitor checked for EXIT_SEGCHECK */
    /* Decoded instructions for the monitor (EXIT_EMULATE re-reads the
     * instruction it stopped at); dropped with the translations. */
    struct decoded {
        uint32_t linear, phys, mode;
        uint64_t generation;
        struct insn in;
    } decoded[DECODED_SLOTS];
    bool bounce_step;       /* ... and its memory operand is the bounce buffer */
    bool bounce_stack;      /* ... or its stack slot (PUSH/POP-like) is */
    struct block *hash[1u << HASH_BITS];
    /* The first bytes of the cache: where a stale block's entry calls. */
    size_t code_reserved;
};

/* code_page[] states. A page is listed in protected[] from its first
 * translation until the next flush, whether or not it is protected now. */
enum { CODE_PAGE_NONE, CODE_PAGE_PROTECTED, CODE_PAGE_LISTED };

/* Map a guest register number to the host register that holds it. */
static inline int host_reg(int guest)
{
    return guest == 4 ? HR_ESP : guest;
}

/*
 * Translate the block at v->eip in `mode` into e, filling b (and its pcmap
 * from pcm, which has room for BLOCK_MAX_INSNS records), with at most
 * max_insns guest instructions. A block ends before an instruction
 * breakpoint; one that starts at one only leaves with EXIT_BREAKPOINT,
 * unless ONCE_PAST_BP (EFLAGS.RF lets the instruction run). With
 * ONCE_UNCHECKED, accesses through restricted segments (MODE_SEGCHK) run
 * without leaving for EXIT_SEGCHECK: the monitor has checked them.
 */
#define ONCE_PAST_BP 0x1
#define ONCE_UNCHECKED 0x2
#define ONCE_BOUNCE_STACK 0x4 /* with bounce: the stack slot, not the operand */
void translate_block(struct dbt *d, struct vcpu *v, uint32_t mode,
                     struct emitter *e, struct block *b, struct pcmap *pcm,
                     uint32_t max_insns, bool bounce, unsigned once);

/* Physical address of code at linear la, for a fetch at the current
 * privilege (through the page tables when paging is on); false if the
 * fetch faults. */
bool dbt_code_phys(struct vcpu *v, uint32_t la, uint32_t *pa);

/* Up to 15 guest code bytes at linear la copied into buf (through the
 * page tables); returns how many are readable. */
size_t guest_code(struct vcpu *v, uint32_t la, uint8_t *buf);

#endif
