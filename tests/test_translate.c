// SPDX-License-Identifier: MIT
/* Translator tests: small guest programs (bytes with their assembly beside
 * them) run as real translated code; each checks one rewrite. */
#include "tests/harness/harness.h"
#include "dbt/dbt.h"
#include "monitor/vcpu.h"

#include "tests/check_main.h"

#include <check.h>
#include <string.h>

#define CODE 0x00100000u
#define DATA 0x00200000u
#define STACK 0x00308000u

static struct harness *h;
static struct harness_state st;
static struct harness_result res;

static void setup(void)
{
    h = harness_create(16);
    ck_assert_ptr_nonnull(h);
    memset(&st, 0, sizeof(st));
    st.eip = CODE;
    st.regs[R_ESP] = STACK;
    harness_default_fpu(h, st.fpu);
}

static void teardown(void)
{
    harness_destroy(h);
}

static void run(const uint8_t *code, size_t n)
{
    harness_write(h, CODE, code, n);
    harness_run(h, &st, &res);
}

static uint32_t rd32(uint32_t addr)
{
    uint32_t v;
    harness_read(h, addr, &v, 4);
    return v;
}

START_TEST(alu_and_flags_stay_in_rflags)
{
    static const uint8_t code[] = {
        0xb8, 0xff, 0xff, 0xff, 0xff, /* mov eax, 0xffffffff */
        0x83, 0xc0, 0x01,             /* add eax, 1   (CF=1, ZF=1) */
        0x0f, 0x92, 0xc3,             /* setb bl */
        0x0f, 0x94, 0xc7,             /* setz bh */
        0xf4,                         /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0);
    ck_assert_uint_eq(st.regs[R_EBX] & 0xffff, 0x0101);
    ck_assert_uint_eq(st.eip, CODE + sizeof(code));
    ck_assert(st.eflags & EFL_CF);
    ck_assert(st.eflags & EFL_ZF);
}
END_TEST

START_TEST(esp_renamed_to_its_host_register)
{
    static const uint8_t code[] = {
        0x89, 0xe0,             /* mov eax, esp */
        0x83, 0xec, 0x10,       /* sub esp, 16 */
        0x89, 0x24, 0x24,       /* mov [esp], esp */
        0x8b, 0x1c, 0x24,       /* mov ebx, [esp] */
        0x8d, 0x64, 0x24, 0x10, /* lea esp, [esp+16] */
        0xf4,                   /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_uint_eq(st.regs[R_EAX], STACK);
    ck_assert_uint_eq(st.regs[R_EBX], STACK - 16);
    ck_assert_uint_eq(st.regs[R_ESP], STACK);
    ck_assert_uint_eq(rd32(STACK - 16), STACK - 16);
}
END_TEST

START_TEST(push_pop_call_ret)
{
    static const uint8_t code[] = {
        0x68, 0x78, 0x56, 0x34, 0x12, /* push 0x12345678 */
        0xe8, 0x02, 0x00, 0x00, 0x00, /* call +2 */
        0x59,                         /* pop ecx     (after return) */
        0xf4,                         /* hlt */
        0x8b, 0x44, 0x24, 0x04,       /* mov eax, [esp+4] */
        0xc3,                         /* ret */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0x12345678);
    ck_assert_uint_eq(st.regs[R_ECX], 0x12345678);
    ck_assert_uint_eq(st.regs[R_ESP], STACK);
    ck_assert_uint_eq(rd32(STACK - 8), CODE + 10); /* the return address */
}
END_TEST

START_TEST(indirect_branches_use_the_jump_cache)
{
    /* A loop of 1000 indirect calls: the first misses, the rest hit. */
    static const uint8_t code[] = {
        0xb9, 0xe8, 0x03, 0x00, 0x00, /* mov ecx, 1000 */
        0xbe, 0x12, 0x00, 0x10, 0x00, /* mov esi, CODE+0x12 */
        0x31, 0xc0,                   /* xor eax, eax */
        0xff, 0xd6,                   /* l: call esi */
        0xe2, 0xfc,                   /* loop l */
        0xf4,                         /* hlt */
        0x90,                         /* (pad) */
        0x40,                         /* CODE+0x12: inc eax */
        0xc3,                         /* ret */
    };
    run(code, sizeof(code));
    ck_assert_uint_eq(st.regs[R_EAX], 1000);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
    ck_assert_uint_le(harness_vcpu(h)->stats.exits[EXIT_LOOKUP], 4);
}
END_TEST

START_TEST(high_byte_register_with_memory)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x20, 0x00, /* mov esi, DATA */
        0xc6, 0x06, 0x5a,             /* mov byte [esi], 0x5a */
        0x8a, 0x26,                   /* mov ah, [esi] */
        0x88, 0x7e, 0x01,             /* mov [esi+1], bh */
        0xf4,                         /* hlt */
    };
    st.regs[R_EBX] = 0xa500;
    run(code, sizeof(code));
    ck_assert_uint_eq((st.regs[R_EAX] >> 8) & 0xff, 0x5a);
    ck_assert_uint_eq(st.regs[R_ESI], DATA);
    ck_assert_uint_eq(rd32(DATA) & 0xffff, 0xa55a);
}
END_TEST

START_TEST(string_instructions)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x20, 0x00, /* mov esi, DATA */
        0xbf, 0x00, 0x10, 0x20, 0x00, /* mov edi, DATA+0x1000 */
        0xb9, 0x04, 0x00, 0x00, 0x00, /* mov ecx, 4 */
        0xf3, 0xa5,                   /* rep movsd */
        0xb0, 0x77,                   /* mov al, 0x77 */
        0xaa,                         /* stosb */
        0xf4,                         /* hlt */
    };
    uint32_t src[4] = {1, 2, 3, 4};
    harness_write(h, DATA, src, sizeof(src));
    run(code, sizeof(code));
    ck_assert_uint_eq(rd32(DATA + 0x100c), 4);
    ck_assert_uint_eq(rd32(DATA + 0x1010) & 0xff, 0x77);
    ck_assert_uint_eq(st.regs[R_ESI], DATA + 16);
    ck_assert_uint_eq(st.regs[R_EDI], DATA + 0x1011);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
}
END_TEST

START_TEST(sixteen_bit_addressing_wraps)
{
    static const uint8_t code[] = {
        0xbb, 0xff, 0xff, 0x00, 0x00, /* mov ebx, 0xffff */
        0xbe, 0x02, 0x00, 0x00, 0x00, /* mov esi, 2 */
        0x67, 0x8b, 0x00,             /* mov eax, [bx+si] = [0x0001] */
        0x67, 0x8d, 0x08,             /* lea ecx, [bx+si] = 1 */
        0xf4,                         /* hlt */
    };
    uint32_t v = 0xcafef00d;
    harness_write(h, 1, &v, 4);
    run(code, sizeof(code));
    ck_assert_uint_eq(st.regs[R_EAX], 0xcafef00d);
    ck_assert_uint_eq(st.regs[R_ECX], 1);
}
END_TEST

START_TEST(divide_error_is_precise)
{
    static const uint8_t code[] = {
        0xb8, 0x07, 0x00, 0x00, 0x00, /* mov eax, 7 */
        0x31, 0xc9,                   /* xor ecx, ecx */
        0xf7, 0xf1,                   /* div ecx  -> #DE */
        0xf4,                         /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, EXC_DE);
    ck_assert_uint_eq(st.eip, CODE + 7);
    ck_assert_uint_eq(st.regs[R_EAX], 7);
}
END_TEST

START_TEST(loop_and_jecxz)
{
    static const uint8_t code[] = {
        0x31, 0xc0,                   /* xor eax, eax */
        0xb9, 0x05, 0x00, 0x00, 0x00, /* mov ecx, 5 */
        0x40,                         /* l: inc eax */
        0xe2, 0xfd,                   /* loop l */
        0xe3, 0x01,                   /* jecxz +1 (taken) */
        0x40,                         /* inc eax (skipped) */
        0xf4,                         /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_uint_eq(st.regs[R_EAX], 5);
}
END_TEST

START_TEST(undefined_opcode_raises_ud)
{
    static const uint8_t code[] = {
        0x90,       /* nop */
        0x0f, 0x0b, /* ud2 */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, EXC_UD);
    ck_assert_uint_eq(st.eip, CODE + 1);
}
END_TEST

START_TEST(tsx_instructions_raise_ud)
{
    /* The CPU model has no RTM: XBEGIN, XABORT, XEND and XTEST are #UD
     * even on a host that has them (a copied XBEGIN would send its abort
     * to a host address). */
    static const uint8_t xbegin[] = {
        0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00, /* xbegin +0 */
        0xf4,                               /* hlt */
    };
    static const uint8_t xabort[] = {0xc6, 0xf8, 0x01, 0xf4};
    static const uint8_t xend[] = {0x0f, 0x01, 0xd5, 0xf4};
    static const uint8_t xtest[] = {0x0f, 0x01, 0xd6, 0xf4};
    static const struct {
        const uint8_t *code;
        size_t len;
    } cases[] = {{xbegin, sizeof(xbegin)}, {xabort, sizeof(xabort)},
                 {xend, sizeof(xend)}, {xtest, sizeof(xtest)}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run(cases[i].code, cases[i].len);
        ck_assert_int_eq(res.vector, EXC_UD);
        ck_assert_uint_eq(st.eip, CODE);
    }
}
END_TEST

START_TEST(fpu_state_survives_monitor_exits)
{
    /* x87 and SSE registers hold values across CPUID (a monitor exit). */
    static const uint8_t code[] = {
        0xd9, 0xe8,                   /* fld1 */
        0xd9, 0xe8,                   /* fld1 */
        0xde, 0xc1,                   /* faddp: st0 = 2.0 */
        0x66, 0x0f, 0x6e, 0xc3,       /* movd xmm0, ebx */
        0x31, 0xc0,                   /* xor eax, eax */
        0x0f, 0xa2,                   /* cpuid */
        0xdb, 0x1d, 0x00, 0x00, 0x20, 0x00, /* fistp dword [DATA] */
        0x66, 0x0f, 0x7e, 0xc1,       /* movd ecx, xmm0 */
        0xf4,                         /* hlt */
    };
    st.regs[R_EBX] = 0x13572468;
    run(code, sizeof(code));
    ck_assert_uint_eq(rd32(DATA), 2);
    ck_assert_uint_eq(st.regs[R_ECX], 0x13572468);
}
END_TEST

START_TEST(blocks_end_at_branches_and_pages)
{
    struct vcpu *v = harness_vcpu(h);
    /* A straight line of NOPs across a page boundary: two blocks. */
    uint8_t code[64];
    memset(code, 0x90, sizeof(code));
    code[63] = 0xf4; /* hlt */
    st.eip = CODE + 0x1000 - 32;
    harness_write(h, st.eip, code, sizeof(code));
    harness_run(h, &st, &res);
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(v->stats.blocks_translated, 2);
}
END_TEST

START_TEST(self_modifying_next_instruction)
{
    /* The store rewrites the immediate of the very next instruction, in
     * the same block: the new value must be used. */
    static const uint8_t code[] = {
        0xc6, 0x05, 0x08, 0x00, 0x10, 0x00, 0x2a, /* mov byte [CODE+8], 42 */
        0xb0, 0x01,                               /* mov al, 1  (becomes 42) */
        0xf4,                                     /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX] & 0xff, 42);
    ck_assert_uint_ge(harness_vcpu(h)->stats.smc_flushes, 1);
}
END_TEST

START_TEST(self_modifying_translated_routine)
{
    /* Call a routine on another page, patch it, call it again. */
    static const uint8_t code[] = {
        0xe8, 0xfb, 0x0f, 0x00, 0x00,             /* call CODE+0x1000 */
        0x89, 0xc3,                               /* mov ebx, eax */
        0xc6, 0x05, 0x01, 0x10, 0x10, 0x00, 0x07, /* mov byte [CODE+0x1001], 7 */
        0xe8, 0xed, 0x0f, 0x00, 0x00,             /* call CODE+0x1000 */
        0xf4,                                     /* hlt */
    };
    static const uint8_t routine[] = {
        0xb8, 0x05, 0x00, 0x00, 0x00, /* mov eax, 5 */
        0xc3,                         /* ret */
    };
    harness_write(h, CODE + 0x1000, routine, sizeof(routine));
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 5);
    ck_assert_uint_eq(st.regs[R_EAX], 7);
}
END_TEST

START_TEST(rep_movs_over_code)
{
    /* REP MOVSB copies a new routine over one that already ran. */
    static const uint8_t code[] = {
        0xe8, 0xfb, 0x0f, 0x00, 0x00, /* call CODE+0x1000 */
        0x89, 0xc3,                   /* mov ebx, eax */
        0xbe, 0x00, 0x00, 0x20, 0x00, /* mov esi, DATA */
        0xbf, 0x00, 0x10, 0x10, 0x00, /* mov edi, CODE+0x1000 */
        0xb9, 0x06, 0x00, 0x00, 0x00, /* mov ecx, 6 */
        0xf3, 0xa4,                   /* rep movsb */
        0xe8, 0xe3, 0x0f, 0x00, 0x00, /* call CODE+0x1000 */
        0xf4,                         /* hlt */
    };
    static const uint8_t old_r[] = {0xb8, 1, 0, 0, 0, 0xc3}; /* mov eax,1; ret */
    static const uint8_t new_r[] = {0xb8, 9, 0, 0, 0, 0xc3}; /* mov eax,9; ret */
    harness_write(h, CODE + 0x1000, old_r, sizeof(old_r));
    harness_write(h, DATA, new_r, sizeof(new_r));
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 1);
    ck_assert_uint_eq(st.regs[R_EAX], 9);
}
END_TEST

START_TEST(bit_offset_reaches_far_dword)
{
    /* BTS with a register offset addresses [base + (offset >> 5) * 4]:
     * 0x1000 bits past DATA is the dword at DATA + 0x200; -1 is the top
     * bit of the dword before DATA. */
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x20, 0x00, /* mov esi, DATA */
        0xbd, 0x05, 0x10, 0x00, 0x00, /* mov ebp, 0x1005 */
        0x0f, 0xab, 0x2e,             /* bts [esi], ebp */
        0xbd, 0xff, 0xff, 0xff, 0xff, /* mov ebp, -1 */
        0x0f, 0xab, 0x2e,             /* bts [esi], ebp */
        0x0f, 0xa3, 0x2e,             /* bt [esi], ebp  (CF = 1 now) */
        0x0f, 0x92, 0xc0,             /* setb al */
        0xf4,                         /* hlt */
    };
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(rd32(DATA + 0x200), 1u << 5);
    ck_assert_uint_eq(rd32(DATA - 4), 0x80000000u);
    ck_assert_uint_eq(st.regs[R_EAX] & 0xff, 1);
}
END_TEST

START_TEST(maskmovq_stores_selected_bytes)
{
    static const uint8_t code[] = {
        0xbf, 0x00, 0x00, 0x20, 0x00, /* mov edi, DATA */
        0xb8, 0x44, 0x33, 0x22, 0x11, /* mov eax, 0x11223344 */
        0x0f, 0x6e, 0xc0,             /* movd mm0, eax */
        0xb8, 0x00, 0x80, 0x00, 0x80, /* mov eax, 0x80008000 */
        0x0f, 0x6e, 0xc8,             /* movd mm1, eax */
        0x0f, 0xf7, 0xc1,             /* maskmovq mm0, mm1 */
        0x0f, 0x77,                   /* emms */
        0xf4,                         /* hlt */
    };
    uint32_t fill = 0xaaaaaaaa;
    harness_write(h, DATA, &fill, 4);
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(rd32(DATA), 0x11aa33aa);
    ck_assert_uint_eq(st.regs[R_EDI], DATA);
}
END_TEST

/* A fake INTR line: one request for vector 0x40. */
static int intr_left;
static bool fake_pending(void *opaque)
{
    return intr_left > 0;
}
static int fake_ack(void *opaque)
{
    intr_left--;
    return 0x40;
}

/* GDT (flat code 0x08, data 0x10) at 0x2000, IDT at 0x1000 with an
 * interrupt gate for vector 0x40 to `handler`, and their descriptors. */
static void setup_tables(uint32_t handler)
{
    uint64_t gdt[3] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
    uint64_t gate = (handler & 0xffff) | (uint64_t)0x08 << 16 |
                    (uint64_t)0x8e00 << 32 | (uint64_t)(handler >> 16) << 48;
    uint8_t idtr[6] = {0xff, 0x07, 0x00, 0x10, 0, 0};
    uint8_t gdtr[6] = {0x17, 0x00, 0x00, 0x20, 0, 0};
    harness_write(h, 0x2000, gdt, sizeof(gdt));
    harness_write(h, 0x1000 + 0x40 * 8, &gate, 8);
    harness_write(h, DATA + 0x100, idtr, 6);
    harness_write(h, DATA + 0x108, gdtr, 6);
}

START_TEST(interrupt_waits_for_sti_shadow)
{
    static const uint8_t code[] = {
        0x0f, 0x01, 0x15, 0x08, 0x01, 0x20, 0x00, /* lgdt [DATA+0x108] */
        0x0f, 0x01, 0x1d, 0x00, 0x01, 0x20, 0x00, /* lidt [DATA+0x100] */
        0xfb,                                     /* sti */
        0xb8, 0x07, 0x00, 0x00, 0x00,             /* mov eax, 7 (shadow) */
        0xb8, 0x08, 0x00, 0x00, 0x00,             /* mov eax, 8 */
        0xf4,                                     /* hlt */
    };
    static const uint8_t handler[] = {
        0xa3, 0x00, 0x00, 0x20, 0x00, /* mov [DATA], eax */
        0xcf,                         /* iret */
    };
    setup_tables(CODE + 0x100);
    harness_write(h, CODE + 0x100, handler, sizeof(handler));
    harness_deliver_exceptions(h, 1);
    intr_left = 1;
    harness_set_intr(h, fake_pending, fake_ack, NULL);
    run(code, sizeof(code));
    ck_assert_int_eq(intr_left, 0);
    ck_assert_uint_eq(rd32(DATA), 7); /* taken after the shadowed mov */
    ck_assert_uint_eq(st.regs[R_EAX], 8);
    ck_assert_uint_eq(harness_vcpu(h)->stats.interrupts, 1);
}
END_TEST

START_TEST(interrupt_held_while_if_clear)
{
    static const uint8_t code[] = {
        0x0f, 0x01, 0x15, 0x08, 0x01, 0x20, 0x00, /* lgdt [DATA+0x108] */
        0x0f, 0x01, 0x1d, 0x00, 0x01, 0x20, 0x00, /* lidt [DATA+0x100] */
        0xb8, 0x07, 0x00, 0x00, 0x00,             /* mov eax, 7 */
        0xf4,                                     /* hlt */
    };
    setup_tables(CODE + 0x100);
    harness_deliver_exceptions(h, 1);
    intr_left = 1;
    harness_set_intr(h, fake_pending, fake_ack, NULL);
    run(code, sizeof(code));
    ck_assert_int_eq(intr_left, 1); /* never acknowledged */
    ck_assert_uint_eq(rd32(DATA), 0);
}
END_TEST

START_TEST(ring3_paging_start_is_user_mode)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x20, 0x00, /* mov eax, [DATA] (through paging) */
        0xfa,                         /* cli: #GP(0) at CPL 3, IOPL 0 */
        0xf4,                         /* hlt */
    };
    uint32_t v = 0x600df00d;
    harness_write(h, DATA, &v, 4);
    harness_set_start(h, HARNESS_RING3 | HARNESS_PAGING);
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, EXC_GP);
    ck_assert_int_eq(res.error, 0);
    ck_assert_uint_eq(st.eip, CODE + 5);
    ck_assert_uint_eq(st.regs[R_EAX], 0x600df00d);
    ck_assert_int_eq(harness_vcpu(h)->cpl, 3);
    ck_assert(harness_vcpu(h)->cr0 & CR0_PG);
    ck_assert_uint_ge(harness_vcpu(h)->stats.shadow_fills, 1);
}
END_TEST

/* With paging on, each memory operand is looked up in the shadow table;
 * the lookup must leave alone a carry that a later instruction reads or
 * that survives to the end. */
START_TEST(carry_survives_paged_lookups)
{
    static const uint8_t code[] = {
        0x31, 0xc9,                         /* xor ecx, ecx */
        0xf9,                               /* stc */
        0xf0, 0xff, 0x44, 0xcc, 0x2a,       /* lock inc dword [esp+ecx*8+0x2a] */
        0x13, 0x05, 0x00, 0x00, 0x20, 0x00, /* adc eax, [DATA] */
        0xf9,                               /* stc */
        0xff, 0x05, 0x04, 0x00, 0x20, 0x00, /* inc dword [DATA+4] */
        0x0f, 0x92, 0xc3,                   /* setb bl */
        0xf4,                               /* hlt */
    };
    uint32_t v = 41;
    harness_write(h, DATA, &v, 4);
    harness_set_start(h, HARNESS_PAGING);
    st.regs[R_ESP] = STACK - 0x100;
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 42); /* 0 + 41 + CF */
    ck_assert_uint_eq(st.regs[R_EBX] & 0xff, 1);
    ck_assert_uint_eq(rd32(DATA + 4), 1);
}
END_TEST

/* PAUSE (F3 90) is a NOP with a hint, whatever CR4.OSFXSR says: Linux
 * spins on it in udelay before it turns SSE on. */
START_TEST(pause_is_a_nop)
{
    static const uint8_t code[] = {
        0xf3, 0x90,                               /* pause (a block start) */
        0x64, 0xff, 0x0d, 0x00, 0x00, 0x20, 0x00, /* dec dword fs:[DATA] */
        0xf3, 0x90,                               /* pause */
        0x64, 0xff, 0x05, 0x00, 0x00, 0x20, 0x00, /* inc dword fs:[DATA] */
        0xf4,                                     /* hlt */
    };
    harness_set_start(h, HARNESS_PAGING | HARNESS_NO_SSE);
    run(code, sizeof(code));
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.eip, CODE + sizeof(code));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translate");
    TCase *tc = tcase_create("programs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, alu_and_flags_stay_in_rflags);
    tcase_add_test(tc, carry_survives_paged_lookups);
    tcase_add_test(tc, pause_is_a_nop);
    tcase_add_test(tc, esp_renamed_to_its_host_register);
    tcase_add_test(tc, push_pop_call_ret);
    tcase_add_test(tc, indirect_branches_use_the_jump_cache);
    tcase_add_test(tc, high_byte_register_with_memory);
    tcase_add_test(tc, string_instructions);
    tcase_add_test(tc, sixteen_bit_addressing_wraps);
    tcase_add_test(tc, divide_error_is_precise);
    tcase_add_test(tc, loop_and_jecxz);
    tcase_add_test(tc, undefined_opcode_raises_ud);
    tcase_add_test(tc, tsx_instructions_raise_ud);
    tcase_add_test(tc, fpu_state_survives_monitor_exits);
    tcase_add_test(tc, blocks_end_at_branches_and_pages);
    tcase_add_test(tc, self_modifying_next_instruction);
    tcase_add_test(tc, self_modifying_translated_routine);
    tcase_add_test(tc, rep_movs_over_code);
    tcase_add_test(tc, bit_offset_reaches_far_dword);
    tcase_add_test(tc, maskmovq_stores_selected_bytes);
    tcase_add_test(tc, interrupt_waits_for_sti_shadow);
    tcase_add_test(tc, interrupt_held_while_if_clear);
    tcase_add_test(tc, ring3_paging_start_is_user_mode);
    suite_add_tcase(s, tc);
    return check_run(s);
}
