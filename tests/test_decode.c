// SPDX-License-Identifier: MIT
/* Decoder tests: raw guest bytes (assembly beside them) to our record. */
#include "dbt/decode.h"
#include "monitor/vcpu.h"

#include "tests/check_main.h"

#include <check.h>
#include <string.h>

static struct decoder *d;
static struct insn in;

static void setup(void)
{
    d = decoder_create();
    ck_assert_ptr_nonnull(d);
}

static void teardown(void)
{
    decoder_destroy(d);
}

static bool dec32(const uint8_t *b, size_t n)
{
    return decode_insn(d, b, n, 0x1000, true, &in);
}

START_TEST(register_only)
{
    static const uint8_t b[] = {0x01, 0xd8}; /* add eax, ebx */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert_uint_eq(in.len, 2);
    ck_assert(in.has_modrm);
    ck_assert(!in.has_mem);
    ck_assert_uint_eq(in.mod, 3);
    ck_assert(!in.esp_reg && !in.esp_rm);
}
END_TEST

START_TEST(sib_with_disp8)
{
    static const uint8_t b[] = {0x8b, 0x44, 0x8e, 0x10}; /* mov eax, [esi+ecx*4+0x10] */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(in.has_mem);
    ck_assert_int_eq(in.mem_base, R_ESI);
    ck_assert_int_eq(in.mem_index, R_ECX);
    ck_assert_int_eq(in.mem_scale, 4);
    ck_assert_int_eq(in.mem_disp, 0x10);
    ck_assert_int_eq(in.mem_seg, SEG_DS);
    ck_assert_uint_eq(in.imm_off, 4);
}
END_TEST

START_TEST(esp_base_no_disp_with_imm)
{
    /* mov dword [esp], 0x100dbb: no displacement, 4-byte immediate */
    static const uint8_t b[] = {0xc7, 0x04, 0x24, 0xbb, 0x0d, 0x10, 0x00};
    ck_assert(dec32(b, sizeof(b)));
    ck_assert_int_eq(in.mem_base, R_ESP);
    ck_assert_int_eq(in.mem_index, -1);
    ck_assert_int_eq(in.mem_disp, 0);
    ck_assert_int_eq(in.mem_seg, SEG_SS);
    ck_assert_uint_eq(in.imm_off, 3);
}
END_TEST

START_TEST(absolute_disp32)
{
    static const uint8_t b[] = {0xa1, 0x0c, 0x10, 0x10, 0x00}; /* mov eax, [0x10100c] */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(in.has_mem);
    ck_assert_int_eq(in.mem_base, -1);
    ck_assert_int_eq(in.mem_disp, 0x10100c);
    static const uint8_t c[] = {0x8b, 0x0d, 0x78, 0x56, 0x34, 0x12}; /* mov ecx, [0x12345678] */
    ck_assert(dec32(c, sizeof(c)));
    ck_assert_int_eq(in.mem_base, -1);
    ck_assert_int_eq(in.mem_disp, 0x12345678);
}
END_TEST

START_TEST(sixteen_bit_addressing)
{
    static const uint8_t b[] = {0x67, 0x8b, 0x42, 0xfe}; /* mov eax, [bp+si-2] */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(in.addr16);
    ck_assert_int_eq(in.mem_base, R_EBP);
    ck_assert_int_eq(in.mem_index, R_ESI);
    ck_assert_int_eq(in.mem_disp, -2);
    ck_assert_int_eq(in.mem_seg, SEG_SS);
    static const uint8_t c[] = {0x8b, 0x07}; /* 16-bit code: mov ax, [bx] */
    ck_assert(decode_insn(d, c, sizeof(c), 0x7c00, false, &in));
    ck_assert(in.op16 && in.addr16);
    ck_assert_int_eq(in.mem_base, R_EBX);
}
END_TEST

START_TEST(esp_fields)
{
    static const uint8_t a[] = {0x89, 0xe5}; /* mov ebp, esp */
    ck_assert(dec32(a, sizeof(a)));
    ck_assert(in.esp_reg && !in.esp_rm);
    static const uint8_t b[] = {0x83, 0xec, 0x1c}; /* sub esp, 0x1c */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(!in.esp_reg && in.esp_rm);
    static const uint8_t c[] = {0xbc, 0, 0x80, 0, 0}; /* mov esp, 0x8000 */
    ck_assert(dec32(c, sizeof(c)));
    ck_assert(in.esp_opreg);
    static const uint8_t e[] = {0x88, 0xe0}; /* mov al, ah: not ESP */
    ck_assert(dec32(e, sizeof(e)));
    ck_assert(!in.esp_reg && !in.esp_rm && in.high_byte);
    static const uint8_t f[] = {0x0f, 0xb6, 0xe4}; /* movzx esp, ah */
    ck_assert(dec32(f, sizeof(f)));
    ck_assert(in.esp_reg && !in.esp_rm && in.high_byte);
}
END_TEST

START_TEST(implicit_stack_use)
{
    static const uint8_t a[] = {0x50}; /* push eax */
    ck_assert(dec32(a, sizeof(a)));
    ck_assert(in.implicit_esp);
    static const uint8_t b[] = {0x01, 0xc0}; /* add eax, eax */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(!in.implicit_esp);
}
END_TEST

START_TEST(prefixes)
{
    static const uint8_t a[] = {0x64, 0x66, 0x89, 0x03}; /* mov fs:[ebx], ax */
    ck_assert(dec32(a, sizeof(a)));
    ck_assert_uint_eq(in.npfx, 2);
    ck_assert(in.op16);
    ck_assert_int_eq(in.seg_override, SEG_FS);
    ck_assert_int_eq(in.mem_seg, SEG_FS);
    static const uint8_t b[] = {0xf3, 0xa5}; /* rep movsd */
    ck_assert(dec32(b, sizeof(b)));
    ck_assert(in.rep && !in.repne);
    static const uint8_t c[] = {0xf0, 0x0f, 0xc1, 0x03}; /* lock xadd [ebx], eax */
    ck_assert(dec32(c, sizeof(c)));
    ck_assert(in.lock);
    ck_assert_uint_eq(in.op_len, 2);
}
END_TEST

START_TEST(invalid_and_truncated)
{
    static const uint8_t a[] = {0x0f, 0x04}; /* undefined opcode */
    ck_assert(!dec32(a, sizeof(a)));
    static const uint8_t b[] = {0x8b, 0x44}; /* mov eax, [esp+..] cut short */
    ck_assert(!dec32(b, sizeof(b)));
    static const uint8_t c[16] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                  0x66, 0x90}; /* 16 bytes: too long */
    ck_assert(!dec32(c, sizeof(c)));
}
END_TEST

/* Every instruction that consumes a flag must say so: the liveness pass
 * lets a memory lookup clobber flags nobody reads. */
START_TEST(flag_readers)
{
    static const struct {
        uint8_t b[4];
        uint8_t n;
        uint32_t reads;
    } cases[] = {
        {{0x13, 0x78, 0x10}, 3, EFL_CF},       /* adc edi, [eax+0x10] */
        {{0x83, 0xd2, 0xff}, 3, EFL_CF},       /* adc edx, -1 */
        {{0x1b, 0x45, 0xe0}, 3, EFL_CF},       /* sbb eax, [ebp-0x20] */
        {{0xd1, 0x10}, 2, EFL_CF},             /* rcl dword [eax], 1 */
        {{0xc1, 0x18, 0x02}, 3, EFL_CF},       /* rcr dword [eax], 2 */
        {{0xf5}, 1, EFL_CF},                   /* cmc */
        {{0x9f}, 1, EFL_CF | EFL_ZF | EFL_SF}, /* lahf (and PF, AF) */
        {{0x0f, 0x42, 0x00}, 3, EFL_CF},       /* cmovb eax, [eax] */
        {{0x66, 0x0f, 0x5c, 0xc2}, 4, EFL_CF | EFL_ZF}, /* subpd (#XM) */
        {{0x01, 0x00}, 2, 0},                  /* add [eax], eax */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert(dec32(cases[i].b, cases[i].n));
        ck_assert_msg((in.flags_read & cases[i].reads) == cases[i].reads,
                      "case %zu reads 0x%x, wants 0x%x", i, in.flags_read,
                      cases[i].reads);
        if (!cases[i].reads)
            ck_assert_uint_eq(in.flags_read, 0);
    }
}
END_TEST

/* Which memory operands are written, and how wide, for forms Capstone 4
 * describes wrongly (a write taken for a read skips the write check). */
START_TEST(memory_access)
{
    static const struct {
        uint8_t b[8];
        uint8_t n;
        bool write;
        uint16_t size;
    } cases[] = {
        {{0x0f, 0x90, 0x00}, 3, true, 1},        /* seto [eax] */
        {{0xd1, 0x10}, 2, true, 4},              /* rcl dword [eax], 1 */
        {{0x0f, 0xb1, 0x00}, 3, true, 4},        /* cmpxchg [eax], eax */
        {{0x0f, 0xc7, 0x08}, 3, true, 8},        /* cmpxchg8b [eax] */
        {{0x0f, 0x11, 0x00}, 3, true, 16},       /* movups [eax], xmm0 */
        {{0x0f, 0x7f, 0x00}, 3, true, 8},        /* movq [eax], mm0 */
        {{0xf3, 0x0f, 0x7e, 0x00}, 4, false, 8}, /* movq xmm0, [eax] */
        {{0x66, 0x0f, 0x7e, 0x00}, 4, true, 4},  /* movd [eax], xmm0 */
        {{0xdd, 0x18}, 2, true, 8},              /* fstp qword [eax] */
        {{0xd9, 0x38}, 2, true, 2},              /* fnstcw [eax] */
        {{0xdd, 0x38}, 2, true, 2},              /* fnstsw [eax] */
        {{0x0f, 0xae, 0x00}, 3, true, 512},      /* fxsave [eax] */
        {{0x0f, 0xae, 0x08}, 3, false, 512},     /* fxrstor [eax] */
        {{0xdd, 0x30}, 2, true, 108},            /* fnsave [eax] */
        {{0xd9, 0x20}, 2, false, 28},            /* fldenv [eax] */
        {{0xa3, 0, 0, 0x10, 0}, 5, true, 4},     /* mov [0x100000], eax */
        {{0x39, 0x00}, 2, false, 4},             /* cmp [eax], eax */
        {{0x80, 0x38, 0x01}, 3, false, 1},       /* cmp byte [eax], 1 */
        {{0xf7, 0x00, 1, 0, 0, 0}, 6, false, 4}, /* test dword [eax], 1 */
        {{0xf7, 0x18}, 2, true, 4},              /* neg dword [eax] */
        {{0xd9, 0x00}, 2, false, 4},             /* fld dword [eax] */
        {{0x0f, 0xa3, 0x00}, 3, false, 4},       /* bt [eax], eax */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(dec32(cases[i].b, cases[i].n), "case %zu decodes", i);
        ck_assert_msg(in.has_mem, "case %zu has memory", i);
        ck_assert_msg(in.mem_write == cases[i].write, "case %zu write %d", i,
                      in.mem_write);
        ck_assert_msg(in.mem_size == cases[i].size, "case %zu size %u", i,
                      in.mem_size);
    }
}
END_TEST

START_TEST(every_x87_escape_is_x87)
{
    /*
     * All of D8-DF, register and memory forms, must be x87 (for CR0.TS/EM
     * and for liveness): Capstone leaves FLDL2T and others out of its FPU
     * group. Only FCOMI/FUCOMI(P) write EFLAGS. All count as reading the
     * arithmetic flags, register forms too: any of them may raise #MF,
     * whose frame must hold the guest's flags, so no lookup or entry
     * test before one may clobber them.
     */
    const uint32_t arith = EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF;
    int checked = 0;
    for (int op = 0xd8; op <= 0xdf; op++)
        for (int modrm = 0; modrm < 256; modrm++) {
            uint8_t b[8] = {(uint8_t)op, (uint8_t)modrm, 0, 0, 0, 0, 0, 0};
            if (!dec32(b, sizeof(b)))
                continue;
            checked++;
            ck_assert_msg(in.groups & IG_X87, "%02x %02x (%s) not x87", op,
                          modrm, in.text);
            bool comi = (op == 0xdb || op == 0xdf) && modrm >= 0xe8 &&
                        modrm < 0xf8;
            ck_assert_msg(comi || in.flags_written == 0,
                          "%s writes EFLAGS %#x", in.text, in.flags_written);
            ck_assert_msg((in.flags_read & arith) == arith,
                          "%s reads EFLAGS %#x only", in.text, in.flags_read);
        }
    ck_assert_int_gt(checked, 1500);
}
END_TEST

START_TEST(bit_tests_leave_zf_alone)
{
    /* BT/BTS/BTR/BTC define CF only and leave ZF as it was: liveness must
     * not take them for writing ZF (Capstone 4 lists it as undefined). */
    static const uint8_t cases[][5] = {
        {0x0f, 0xba, 0xe0, 0x03},       /* bt eax, 3 */
        {0x0f, 0xab, 0xc8},             /* bts eax, ecx */
        {0x0f, 0xba, 0x7c, 0x24, 0xe5}, /* btc dword [esp-0x1b], imm8 */
        {0x0f, 0xb3, 0x08},             /* btr [eax], ecx */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[8] = {0};
        memcpy(b, cases[i], sizeof(cases[i]));
        b[5] = 0x1b;
        ck_assert(dec32(b, sizeof(b)));
        ck_assert_msg(in.flags_written & EFL_CF, "%s: CF", in.text);
        ck_assert_msg(!(in.flags_written & EFL_ZF), "%s writes ZF", in.text);
    }
}
END_TEST

START_TEST(general_registers_read_and_written)
{
    /* The translator follows loaded values through registers by these
     * masks (bit n: guest register n), implicit operands included. */
    static const struct {
        uint8_t b[4];
        uint8_t read, written;
    } cases[] = {
        {{0x8b, 0x0b}, 1u << R_EBX, 1u << R_ECX},             /* mov ecx, [ebx] */
        {{0x32, 0x50, 0xff}, 1u << R_EAX | 1u << R_EDX,       /* xor dl, [eax-1] */
         1u << R_EDX},
        {{0x0f, 0xb6, 0xd2}, 1u << R_EDX, 1u << R_EDX},       /* movzx edx, dl */
        {{0x5e}, 1u << R_ESP, 1u << R_ESP | 1u << R_ESI},     /* pop esi */
        {{0x89, 0x0f}, 1u << R_ECX | 1u << R_EDI, 0},         /* mov [edi], ecx */
        {{0x86, 0xe0}, 1u << R_EAX, 1u << R_EAX},             /* xchg al, ah */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[8] = {0};
        memcpy(b, cases[i].b, sizeof(cases[i].b));
        ck_assert(dec32(b, sizeof(b)));
        ck_assert_msg(in.gprs_read == cases[i].read, "%s: read %02x",
                      in.text, in.gprs_read);
        ck_assert_msg(in.gprs_written == cases[i].written,
                      "%s: written %02x", in.text, in.gprs_written);
    }
}
END_TEST

START_TEST(loops_are_jumps)
{
    /* LOOP, LOOPE, LOOPNE and JECXZ transfer control: the liveness pass
     * must stop at them (Capstone 4 files only JECXZ as a jump). */
    static const uint8_t cases[][2] = {
        {0xe0, 0xf6}, {0xe1, 0xf6}, {0xe2, 0xf6}, {0xe3, 0xf6}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[8] = {cases[i][0], cases[i][1]};
        ck_assert(dec32(b, sizeof(b)));
        ck_assert_msg(in.groups & IG_JUMP, "%s is not a jump", in.text);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("layout");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, register_only);
    tcase_add_test(tc, sib_with_disp8);
    tcase_add_test(tc, esp_base_no_disp_with_imm);
    tcase_add_test(tc, absolute_disp32);
    tcase_add_test(tc, sixteen_bit_addressing);
    tcase_add_test(tc, esp_fields);
    tcase_add_test(tc, implicit_stack_use);
    tcase_add_test(tc, prefixes);
    tcase_add_test(tc, invalid_and_truncated);
    tcase_add_test(tc, flag_readers);
    tcase_add_test(tc, memory_access);
    tcase_add_test(tc, every_x87_escape_is_x87);
    tcase_add_test(tc, bit_tests_leave_zf_alone);
    tcase_add_test(tc, loops_are_jumps);
    tcase_add_test(tc, general_registers_read_and_written);
    suite_add_tcase(s, tc);
    return check_run(s);
}
