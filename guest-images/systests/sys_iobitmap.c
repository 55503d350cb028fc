/* SPDX-License-Identifier: MIT */
/*
 * sys_iobitmap: the TSS I/O permission bitmap at CPL 3 with IOPL 0. IN,
 * OUT, INS and OUTS of bytes, words and dwords on allowed and denied ports
 * (an access is allowed only if the bits of all its ports are clear), IOPL
 * 3 and CPL 0 bypassing the bitmap, and a bitmap cut short by the TSS
 * limit or placed beyond it.
 *
 * The ports (0x300-0x30F, 0x80) have no device on QEMU's PC or bt386's
 * board except the POST port, so the allowed accesses are harmless.
 */
#include <stddef.h>

#include "lib/sys.h"

#define PORT_BASE 0x300

static volatile uint8_t io_buf[8];

/* Clear (allow) or set (deny) the bitmap bit of one port. */
static void iomap_allow(unsigned port, bool allow)
{
    if (allow)
        tss_main.iomap[port / 8] &= (uint8_t) ~(1u << (port % 8));
    else
        tss_main.iomap[port / 8] |= (uint8_t)(1u << (port % 8));
}

/* Ports 0x300-0x30F: allowed except 0x301, 0x305, 0x30C and 0x30F. */
static void iomap_setup(void)
{
    for (unsigned p = PORT_BASE; p < PORT_BASE + 16; p++)
        iomap_allow(p, true);
    iomap_allow(0x301, false);
    iomap_allow(0x305, false);
    iomap_allow(0x30C, false);
    iomap_allow(0x30F, false);
    iomap_allow(0x80, true);
}

#define DX(port) "movw $" #port ", %%dx\n\t" TRY_MARK
#define STR(port)                                                              \
    "movl $io_buf, %%esi\n\tmovl $io_buf, %%edi\n\tcld\n\t" DX(port)

USER_TRY(in_b_allowed, DX(0x300) "inb %%dx, %%al")
USER_TRY(in_b_denied, DX(0x301) "inb %%dx, %%al")
USER_TRY(out_b_allowed, DX(0x300) "outb %%al, %%dx")
USER_TRY(out_b_denied, DX(0x301) "outb %%al, %%dx")
USER_TRY(in_w_allowed, DX(0x302) "inw %%dx, %%ax")
USER_TRY(in_w_high_denied, DX(0x304) "inw %%dx, %%ax") /* 0x305 denied */
USER_TRY(in_w_low_denied, DX(0x305) "inw %%dx, %%ax")  /* 0x305 denied */
USER_TRY(out_w_allowed, DX(0x306) "outw %%ax, %%dx")
USER_TRY(out_w_high_denied, DX(0x304) "outw %%ax, %%dx")
USER_TRY(in_l_allowed, DX(0x308) "inl %%dx, %%eax")     /* 0x308-0x30B */
USER_TRY(in_l_last_denied, DX(0x309) "inl %%dx, %%eax") /* 0x30C denied */
USER_TRY(out_l_allowed, DX(0x308) "outl %%eax, %%dx")
USER_TRY(out_l_first_denied, DX(0x30C) "outl %%eax, %%dx")
USER_TRY(in_imm_allowed, TRY_MARK "inb $0x80, %%al")
USER_TRY(out_imm_allowed, TRY_MARK "outb %%al, $0x80")
USER_TRY(out_imm_denied, TRY_MARK "outb %%al, $0x81")
USER_TRY(ins_b_allowed, STR(0x300) "insb")
USER_TRY(ins_b_denied, STR(0x301) "insb")
USER_TRY(outs_w_allowed, STR(0x302) "outsw")
USER_TRY(outs_w_denied, STR(0x304) "outsw")
USER_TRY(rep_outs_b_allowed, "movl $4, %%ecx\n\t" STR(0x300) "rep outsb")
USER_TRY(rep_ins_l_denied, "movl $2, %%ecx\n\t" STR(0x30C) "rep insl")

static const struct io_case {
    const char *name;
    uint32_t (*fn)(uint32_t);
    bool denied;
} cases[] = {
    {"in_byte_allowed", in_b_allowed, false},
    {"in_byte_denied", in_b_denied, true},
    {"out_byte_allowed", out_b_allowed, false},
    {"out_byte_denied", out_b_denied, true},
    {"in_word_allowed", in_w_allowed, false},
    {"in_word_second_port_denied", in_w_high_denied, true},
    {"in_word_first_port_denied", in_w_low_denied, true},
    {"out_word_allowed", out_w_allowed, false},
    {"out_word_second_port_denied", out_w_high_denied, true},
    {"in_dword_allowed", in_l_allowed, false},
    {"in_dword_last_port_denied", in_l_last_denied, true},
    {"out_dword_allowed", out_l_allowed, false},
    {"out_dword_first_port_denied", out_l_first_denied, true},
    {"in_imm8_allowed", in_imm_allowed, false},
    {"out_imm8_allowed", out_imm_allowed, false},
    {"out_imm8_denied", out_imm_denied, true},
    {"insb_allowed", ins_b_allowed, false},
    {"insb_denied", ins_b_denied, true},
    {"outsw_allowed", outs_w_allowed, false},
    {"outsw_second_port_denied", outs_w_denied, true},
    {"rep_outsb_allowed", rep_outs_b_allowed, false},
    {"rep_insl_denied", rep_ins_l_denied, true},
};

/* Run one case at CPL 3 with eflags; denied ones must raise #GP(0) at
 * the I/O instruction (try_mark). */
static void io_run(const char *name, uint32_t (*fn)(uint32_t), bool denied,
                   uint32_t eflags)
{
    user_call(fn, 0, eflags);
    if (denied)
        check_trap(name, VEC_GP, 0, try_mark);
    else
        check_no_trap(name);
}

static void test_bitmap(void)
{
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        io_run(cases[i].name, cases[i].fn, cases[i].denied, EFL_FIXED);

    /* A denied INS must not have stored anything. */
    io_buf[0] = 0x5A;
    user_call(ins_b_denied, 0, EFL_FIXED);
    check_eq("insb_denied_stores_nothing", 0x5A, io_buf[0]);
}

static void test_bypass(void)
{
    /* CPL <= IOPL: no bitmap check at all. */
    io_run("iopl3_in_byte_denied_port_ok", in_b_denied, false,
           EFL_FIXED | EFL_IOPL3);
    io_run("iopl3_out_dword_denied_port_ok", out_l_first_denied, false,
           EFL_FIXED | EFL_IOPL3);
    in_b_denied(0); /* at CPL 0 */
    check_no_trap("cpl0_in_byte_denied_port_ok");
}

/* Reload TR after changing the TSS descriptor's limit (LTR needs it not
 * busy). */
static void tss_reload(uint32_t limit)
{
    gdt_set(SEL_TSS / 8,
            desc_seg((uint32_t)&tss_main, limit, ACC_P | TYPE_TSS32, 0));
    ltr(SEL_TSS);
}

static void test_limits(void)
{
    uint16_t base = tss_main.t.iomap_base;

    /* Bitmap base at or beyond the TSS limit: no bitmap, all denied. */
    tss_main.t.iomap_base = 0xFFFF;
    io_run("no_bitmap_in_byte_denied", in_b_allowed, true, EFL_FIXED);
    io_run("no_bitmap_out_imm8_denied", out_imm_allowed, true, EFL_FIXED);
    tss_main.t.iomap_base = base;

    /* A limit that ends the bitmap before port 0x300's byte (0x60)
     * but well after port 0x80's (0x10). */
    tss_reload(base + 0x40 - 1);
    io_run("truncated_bitmap_port_beyond_denied", in_b_allowed, true,
           EFL_FIXED);
    io_run("truncated_bitmap_port_inside_allowed", out_imm_allowed, false,
           EFL_FIXED);
    tss_reload(sizeof(tss_main) - 1);
    io_run("full_bitmap_again_allowed", in_b_allowed, false, EFL_FIXED);
}

void test_main(void)
{
    iomap_setup();
    test_bitmap();
    test_bypass();
    test_limits();
}
