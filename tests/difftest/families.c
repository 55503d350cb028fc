// SPDX-License-Identifier: MIT
/* The difftest instruction families: name, template, and how it may run. */
#include "tests/difftest/gen.h"

#include <string.h>

#define N32 FAM_NEEDS32

const struct family gen_families[] = {
    {"alu", t_alu, 0},
    {"alu_imm", t_alu_imm, 0},
    {"alu_acc", t_alu_acc, 0},
    {"incdec", t_incdec, 0},
    {"incdec_short", t_incdec_short, N32},
    {"negnot", t_negnot, 0},
    {"test", t_test, 0},
    {"shift", t_shift, 0},
    {"shiftd", t_shiftd, 0},
    {"mul", t_mul, 0},
    {"imul", t_imul, 0},
    {"div", t_div, 0},
    {"bt", t_bt, 0},
    {"bsf", t_bsf, 0},
    {"bswap", t_bswap, 0},
    {"movx", t_movx, 0},
    {"cbw", t_cbw, 0},
    {"mov", t_mov, 0},
    {"xchg", t_xchg, 0},
    {"xadd", t_xadd, 0},
    {"cmpxchg", t_cmpxchg, 0},
    {"cmpxchg8b", t_cmpxchg8b, FAM_QEMUBAD},
    {"cmov", t_cmov, 0},
    {"setcc", t_setcc, 0},
    {"lahf", t_lahf, 0},
    {"flagop", t_flagop, 0},
    {"lea", t_lea, 0},
    {"lea16", t_lea16, N32},
    {"modrm32", t_modrm32, N32},
    {"lock", t_lock, 0},
    {"lock_bad", t_lock_bad, FAM_TERM | FAM_QEMUBAD},
    {"nop", t_nop, 0},
    {"ud2", t_ud2, FAM_TERM},
    {"int3", t_int3, FAM_TERM},
    {"bcd", t_bcd, N32},
    {"salc", t_salc, N32},
    {"bound", t_bound, N32 | FAM_TERM},
    {"into", t_into, N32 | FAM_TERM},
    {"esp", t_esp, 0},
    {"push_pop", t_push_pop, N32 | FAM_STACK},
    {"pusha", t_pusha, N32 | FAM_STACK},
    {"pushf", t_pushf, N32 | FAM_STACK},
    {"enter", t_enter, N32 | FAM_STACK},
    {"call", t_call, N32 | FAM_STACK | FAM_FLOW},
    {"jmp", t_jmp, FAM_FLOW},
    {"jcc", t_jcc, FAM_FLOW},
    {"jecxz", t_jecxz, FAM_FLOW},
    {"loop", t_loop, FAM_FLOW},
    {"counted", t_counted, FAM_FLOW},
    {"string", t_string, 0},
    {"xlat", t_xlat, 0},
    {"x87_ldst", t_x87_ldst, FAM_FP},
    {"x87_int", t_x87_int, FAM_FP},
    {"x87_arith", t_x87_arith, FAM_FP},
    {"x87_cmp", t_x87_cmp, FAM_FP},
    {"x87_misc", t_x87_misc, FAM_FP},
    {"mmx", t_mmx, FAM_FP},
    {"sse", t_sse, FAM_FP},
    {"sse_mxcsr", t_sse_mxcsr, FAM_FP},
    {"sse2", t_sse2, FAM_FP},
};

const int gen_nfamilies = (int)(sizeof(gen_families) / sizeof(gen_families[0]));

/* Index of the family called name, or -1. */
int gen_family_find(const char *name)
{
    for (int i = 0; i < gen_nfamilies; i++)
        if (strcmp(gen_families[i].name, name) == 0)
            return i;
    return -1;
}
