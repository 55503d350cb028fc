// SPDX-License-Identifier: MIT
/* Encoder tests: every emitted form is disassembled with Capstone (64-bit)
 * and compared with the instruction it was meant to be. */
#include "dbt/emit.h"

#include <capstone/capstone.h>
#include "tests/check_main.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static uint8_t buf[256];
static struct emitter e;
static csh cs;

/* Start a new emitted sequence in the same buffer. */
static void restart(void)
{
    memset(buf, 0xcc, sizeof(buf));
    emit_init(&e, buf, sizeof(buf));
}

static void setup(void)
{
    restart();
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
}

static void teardown(void)
{
    cs_close(&cs);
}

/* Disassemble exactly one instruction from the emitted bytes. */
static void expect_one(const char *text)
{
    cs_insn *insn;
    size_t len = emit_offset(&e);
    size_t n = cs_disasm(cs, buf, len, 0x1000, 0, &insn);
    ck_assert_msg(n == 1, "expected one insn for '%s', got %zu", text, n);
    ck_assert_uint_eq(insn[0].size, len);
    char got[400];
    snprintf(got, sizeof(got), "%s %s", insn[0].mnemonic, insn[0].op_str);
    ck_assert_str_eq(got, text);
    cs_free(insn, n);
}

START_TEST(alu_cmov_shift_and_stack_forms)
{
    /* The forms of the paged REP string loop and the stale-entry stub. */
    emit_alu_rr(&e, false, 0x39, H_R9, H_R11);
    expect_one("cmp r9d, r11d");
    restart();
    emit_alu_rr(&e, true, 0x29, H_RSI, H_R8);
    expect_one("sub rsi, r8");
    restart();
    emit_alu_rr(&e, false, 0x85, H_RCX, H_RCX);
    expect_one("test ecx, ecx");
    restart();
    emit_cmov_r32_r32(&e, CC_B, H_R9, H_R11);
    expect_one("cmovb r9d, r11d");
    restart();
    emit_cmov_r32_r32(&e, CC_A, H_R11, H_RCX);
    expect_one("cmova r11d, ecx");
    restart();
    emit_shr_r32_imm8(&e, H_R11, 12);
    expect_one("shr r11d, 0xc");
    restart();
    emit_pop_m64(&e, hmem_bd(H_R14, 0x40));
    expect_one("pop qword ptr [r14 + 0x40]");
    restart();
    emit_push_m64(&e, hmem_bd(H_R14, 0x600));
    expect_one("push qword ptr [r14 + 0x600]");
    restart();
    emit_cmp_r64_m64(&e, H_R10, hmem_bi(H_R13, H_R11, 8, 0x800008));
    expect_one("cmp r10, qword ptr [r13 + r11*8 + 0x800008]");
    restart();
    emit_cmov_r64_m64(&e, CC_A, H_R9, hmem_bd(H_R14, 0x608));
    expect_one("cmova r9, qword ptr [r14 + 0x608]");
}
END_TEST

START_TEST(mov_loads_and_stores)
{
    emit_mov_r32_m32(&e, H_RAX, hmem_bd(H_R14, 0x20));
    expect_one("mov eax, dword ptr [r14 + 0x20]");
    restart();
    emit_mov_m32_r32(&e, hmem_bi(H_R15, H_R11, 1, 0), H_RDX);
    expect_one("mov dword ptr [r15 + r11], edx");
    restart();
    emit_mov_r64_m64(&e, H_R10, hmem_bi(H_R14, H_R9, 8, 0x1000));
    expect_one("mov r10, qword ptr [r14 + r9*8 + 0x1000]");
    restart();
    emit_mov_m64_r64(&e, hmem_bd(H_R14, 0x40), H_R8);
    expect_one("mov qword ptr [r14 + 0x40], r8");
}
END_TEST

START_TEST(special_bases)
{
    /* RBP/R13 as base need a displacement; RSP/R12 need a SIB byte. */
    emit_mov_r32_m32(&e, H_RCX, hmem_bd(H_RBP, 0));
    expect_one("mov ecx, dword ptr [rbp]");
    restart();
    emit_mov_r32_m32(&e, H_RCX, hmem_bd(H_R13, 0));
    expect_one("mov ecx, dword ptr [r13]");
    restart();
    emit_mov_r32_m32(&e, H_RCX, hmem_bd(H_R12, 0));
    expect_one("mov ecx, dword ptr [r12]");
    restart();
    emit_mov_r32_m32(&e, H_RCX, hmem_bd(H_RSP, -8));
    expect_one("mov ecx, dword ptr [rsp - 8]");
    restart();
    emit_lea_r32(&e, H_R11, (struct hmem){H_NONE, H_RSI, 4, 0x10});
    expect_one("lea r11d, [rsi*4 + 0x10]");
    restart();
    emit_lea_r32(&e, H_R11, (struct hmem){H_NONE, H_NONE, 1, 0x1234});
    expect_one("lea r11d, [0x1234]");
}
END_TEST

START_TEST(immediates_and_regs)
{
    emit_mov_m32_imm32(&e, hmem_bd(H_R14, 0x20), 0xdeadbeef);
    expect_one("mov dword ptr [r14 + 0x20], 0xdeadbeef");
    restart();
    emit_mov_m64_imm32(&e, hmem_bd(H_R14, 0x38), 3);
    expect_one("mov qword ptr [r14 + 0x38], 3");
    restart();
    emit_mov_r32_r32(&e, H_R12, H_RBP);
    expect_one("mov r12d, ebp");
    restart();
    emit_mov_r32_imm32(&e, H_R11, 0x100000);
    expect_one("mov r11d, 0x100000");
    restart();
    emit_mov_r64_imm64(&e, H_R9, 0x123456789abcull);
    expect_one("movabs r9, 0x123456789abc");
    restart();
    emit_movzx_r32_r16(&e, H_R11, H_RCX);
    expect_one("movzx r11d, cx");
    restart();
    emit_xchg_r64_r64(&e, H_R10, H_RCX);
    expect_one("xchg rcx, r10"); /* 87 /r: r/m first */
    restart();
    emit_mov_r8_m8(&e, H_R8, hmem_bd(H_RAX, 1));
    expect_one("mov r8b, byte ptr [rax + 1]");
}
END_TEST

START_TEST(lea_forms)
{
    emit_lea_r32(&e, H_R12, hmem_bd(H_R12, -4));
    expect_one("lea r12d, [r12 - 4]");
    restart();
    emit_lea_r64(&e, H_RSI, hmem_bi(H_R15, H_RSI, 1, 0));
    expect_one("lea rsi, [r15 + rsi]");
    restart();
    emit_lea_r64_rip(&e, H_R8, buf + 0x40);
    expect_one("lea r8, [rip + 0x39]");
}
END_TEST

START_TEST(branches)
{
    size_t f = emit_jmp_rel32(&e, buf + 0x80);
    ck_assert_uint_eq(f, 1);
    expect_one("jmp 0x1080");
    restart();
    f = emit_jcc_rel32(&e, CC_NE, buf + 0x10);
    ck_assert_uint_eq(f, 2);
    expect_one("jne 0x1010");
    restart();
    f = emit_jmp_rel32(&e, buf);
    emit_patch_rel32(buf + f, buf + 0x100);
    expect_one("jmp 0x1100");
    restart();
    emit_jmp_m64(&e, hmem_bd(H_R14, 0x50));
    expect_one("jmp qword ptr [r14 + 0x50]");
}
END_TEST

START_TEST(paging_lookup_forms)
{
    emit_shrx_r32(&e, H_R10, H_R11, H_R9);
    expect_one("shrx r10d, r11d, r9d");
    restart();
    emit_shrx_r32(&e, H_RAX, H_RCX, H_RDX);
    expect_one("shrx eax, ecx, edx");
    restart();
    emit_shlx_r32(&e, H_R8, H_RBP, H_R9);
    expect_one("shlx r8d, ebp, r9d");
    restart();
    emit_sarx_r32(&e, H_R10, H_RDX, H_R9);
    expect_one("sarx r10d, edx, r9d");
    restart();
    emit_not_r32(&e, H_R9);
    expect_one("not r9d");
    restart();
    emit_test_r64_r64(&e, H_R10, H_R10);
    expect_one("test r10, r10");
    restart();
    emit_test_r32_imm32(&e, H_R9, 0xfffff000);
    expect_one("test r9d, 0xfffff000");
    restart();
    emit_xor_r32_r32(&e, H_R9, H_R11);
    expect_one("xor r9d, r11d");
}
END_TEST

START_TEST(rel8_binding)
{
    size_t f = emit_jrcxz_rel8(&e);
    emit_u8(&e, 0x90);
    emit_u8(&e, 0x90);
    emit_bind_rel8(&e, f);
    ck_assert_uint_eq(buf[0], 0xe3);
    ck_assert_uint_eq(buf[1], 2);
}
END_TEST

START_TEST(overflow_is_detected)
{
    uint8_t small[4];
    struct emitter t;
    emit_init(&t, small, sizeof(small));
    emit_mov_r64_imm64(&t, H_RAX, 1);
    ck_assert(t.overflow);
    ck_assert_uint_eq(emit_offset(&t), 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emit");
    TCase *tc = tcase_create("forms");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mov_loads_and_stores);
    tcase_add_test(tc, alu_cmov_shift_and_stack_forms);
    tcase_add_test(tc, special_bases);
    tcase_add_test(tc, immediates_and_regs);
    tcase_add_test(tc, lea_forms);
    tcase_add_test(tc, branches);
    tcase_add_test(tc, paging_lookup_forms);
    tcase_add_test(tc, rel8_binding);
    tcase_add_test(tc, overflow_is_detected);
    suite_add_tcase(s, tc);
    return check_run(s);
}
