/* SPDX-License-Identifier: MIT */
/*
 * pg_smc: self-modifying code with paging on. Code is written, run,
 * rewritten and run again: through the linear address it runs at, through
 * a second linear alias of the same frame and through the identity alias;
 * by itself within its page and from code on another page; by REP MOVSB;
 * and replaced by remapping its page to another frame. The SDM's rule for
 * self-modifying code (8.1.3): store the new code, then jump to it (every
 * change here is followed by a CALL or JMP); the caches snoop by physical
 * address, so writes through any alias count.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define CODE  0x40000000u /* frame f */
#define CODE2 0x40001000u /* frame f2: code that patches CODE */
#define ALIAS 0x40400000u /* frame f again */
#define PWU   (PTE_P | PTE_W | PTE_U)

#define SELF 0x100 /* offset in CODE of the self-modifying routine */

static uint32_t *pd, *f, *f2, *g;

static void put32(volatile uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* B8 imm32 / C3: mov eax, value; ret */
static void emit_return(volatile uint8_t *p, uint32_t value)
{
    p[0] = 0xB8;
    put32(p + 1, value);
    p[5] = 0xC3;
}

/* At CODE + SELF, a routine that patches its own later instruction:
 *   C6 05 <CODE+SELF+10> <b>   mov byte [imm's low byte], b
 *   EB 00                      jmp $+2
 *   B8 <0x12345600>            mov eax, 0x12345600
 *   C3                         ret                                      */
static void emit_self(volatile uint8_t *p, uint8_t b)
{
    p[0] = 0xC6;
    p[1] = 0x05;
    put32(p + 2, CODE + SELF + 10);
    p[6] = b;
    p[7] = 0xEB;
    p[8] = 0x00;
    p[9] = 0xB8;
    put32(p + 10, 0x12345600);
    p[14] = 0xC3;
}

/* At CODE2: patch CODE's immediate, then jump to CODE.
 *   C7 05 <CODE+1> <value>     mov dword [CODE+1], value
 *   B9 <CODE>                  mov ecx, CODE
 *   FF E1                      jmp ecx                                  */
static void emit_patcher(volatile uint8_t *p, uint32_t value)
{
    p[0] = 0xC7;
    p[1] = 0x05;
    put32(p + 2, CODE + 1);
    put32(p + 6, value);
    p[10] = 0xB9;
    put32(p + 11, CODE);
    p[15] = 0xFF;
    p[16] = 0xE1;
}

static uint32_t run(uint32_t linear)
{
    uint32_t v;
    __asm__ volatile("call *%1"
                     : "=a"(v)
                     : "r"(linear)
                     : "ecx", "edx", "memory");
    return v;
}

static void test_aliases(void)
{
    emit_return((volatile uint8_t *)CODE, 0x1111);
    check_eq("smc_first_run", 0x1111, run(CODE));
    put32((volatile uint8_t *)CODE + 1, 0x2222);
    check_eq("smc_write_same_linear", 0x2222, run(CODE));
    put32((volatile uint8_t *)ALIAS + 1, 0x3333);
    check_eq("smc_write_other_linear_alias", 0x3333, run(CODE));
    put32((volatile uint8_t *)f + 1, 0x4444);
    check_eq("smc_write_identity_alias", 0x4444, run(CODE));
    check_eq("smc_run_alias", 0x4444, run(ALIAS));
    put32((volatile uint8_t *)CODE + 1, 0x5555);
    check_eq("smc_run_alias_after_write", 0x5555, run(ALIAS));
}

static void test_self(void)
{
    emit_self((volatile uint8_t *)CODE + SELF, 0xAA);
    check_eq("smc_same_page_patches_next_insn", 0x123456AA, run(CODE + SELF));
    ((volatile uint8_t *)CODE)[SELF + 6] = 0xBB; /* the byte it stores */
    check_eq("smc_same_page_patch_patched", 0x123456BB, run(CODE + SELF));
}

static void test_cross_page(void)
{
    emit_return((volatile uint8_t *)CODE, 0x6666);
    check_eq("smc_cross_page_before", 0x6666, run(CODE));
    emit_patcher((volatile uint8_t *)CODE2, 0x7777);
    check_eq("smc_cross_page_patch_then_jump", 0x7777, run(CODE2));
    check_eq("smc_cross_page_after", 0x7777, run(CODE));
}

static void test_rep_movs(void)
{
    static uint8_t fresh[6];
    const uint8_t *src = fresh;
    uint32_t dst = CODE, n = sizeof(fresh);

    emit_return(fresh, 0x8888);
    __asm__ volatile("cld\n\trep movsb"
                     : "+S"(src), "+D"(dst), "+c"(n)
                     :
                     : "memory");
    check_eq("smc_rep_movsb", 0x8888, run(CODE));
}

static void test_remap(void)
{
    volatile uint32_t *pte = pg_pte(pd, CODE);

    emit_return((volatile uint8_t *)g, 0x600D);
    *pte = (uint32_t)g | PWU;
    invlpg(CODE);
    check_eq("remap_runs_new_frame", 0x600D, run(CODE));
    *pte = (uint32_t)f | PWU;
    invlpg(CODE);
    check_eq("remap_back_runs_old_frame", 0x8888, run(CODE));
}

void test_main(void)
{
    pd = pg_dir_new();
    f = pg_alloc();
    f2 = pg_alloc();
    g = pg_alloc();
    pg_map(pd, CODE, (uint32_t)f, PWU);
    pg_map(pd, CODE2, (uint32_t)f2, PWU);
    pg_map(pd, ALIAS, (uint32_t)f, PWU);
    pg_enable(pd);
    test_aliases();
    test_self();
    test_cross_page();
    test_rep_movs();
    test_remap();
    pg_disable();
}
