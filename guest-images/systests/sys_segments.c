/* SPDX-License-Identifier: MIT */
/*
 * sys_segments: protected-mode segmentation. Limit checks on data and
 * stack accesses, expand-down segments, a 16-bit code segment, conforming
 * code, null selectors, the type and privilege checks of segment loads,
 * not-present segments, the accessed bit, and LAR/LSL/VERR/VERW.
 *
 * QEMU 7.2's TCG (the cross-check) does not check data and stack accesses
 * against segment limits, null selectors or write permission (it only adds
 * the base). These checks follow the SDM and are listed as deviations of
 * the QEMU run: data_limit_read_gp, data_limit_dword_gp,
 * cpl3_stack_limit_push_ss, expand_down_below_limit_gp,
 * expand_down_dword_across_limit_gp, expand_down_16bit_bound_gp,
 * null_ds_use_gp, readonly_data_write_gp, code_segment_write_gp.
 * Nor does it set the accessed bit of a code segment's descriptor when a
 * far JMP/CALL loads CS (SDM 3.4.5.1: set on every load of a segment
 * register): accessed_set_by_cs_load.
 */
#include "lib/sys.h"

#define GDT_SMALL_DATA  (GDT_FREE + 0) /* base 0, limit 0xFFF */
#define GDT_USER_STACK  (GDT_FREE + 1) /* DPL 3 stack below the user ESP */
#define GDT_EXPDOWN     (GDT_FREE + 2) /* expand-down, B = 1 */
#define GDT_EXPDOWN16   (GDT_FREE + 3) /* expand-down, B = 0 */
#define GDT_CODE16      (GDT_FREE + 4) /* 16-bit code at code16_entry */
#define GDT_CONFORMING  (GDT_FREE + 5) /* conforming, DPL 0 */
#define GDT_CONFORMING3 (GDT_FREE + 6) /* conforming, DPL 3 */
#define GDT_EXEC_ONLY   (GDT_FREE + 7)
#define GDT_READ_ONLY   (GDT_FREE + 8) /* data, not writable */
#define GDT_NP_DATA     (GDT_FREE + 9)
#define GDT_FRESH_DATA  (GDT_FREE + 10) /* accessed bit clear */
#define GDT_FRESH_CODE  (GDT_FREE + 11)
#define GDT_INT_GATE    (GDT_FREE + 12) /* a gate type LAR/LSL reject */
#define GDT_CALL_GATE   (GDT_FREE + 13)
#define GDT_SMALL_CODE  (GDT_FREE + 14) /* code, limit just past here */

static volatile uint32_t buf[4] = {0x11111111, 0x22222222, 0x33333333,
                                   0x44444444};

/* Load ES from operand [sel], mark the next instruction, run INSN. */
#define WITH_ES(insn)                                                          \
    "movw %w[sel], %%es\n\t"                                                   \
    "movl $8882f, try_mark\n"                                                  \
    "8882:\n\t" insn

/* ------------------------------------------------------------- limits */

static void test_data_limits(void)
{
    uint16_t sel =
        gdt_set(GDT_SMALL_DATA, desc_seg(0, 0xFFF, ACC_DATA(0), FLG_DB));
    TRY_FIX(WITH_ES("movb %%es:0xFFF, %%al"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_no_trap("data_limit_last_byte");
    TRY_FIX(WITH_ES("movb %%es:0x1000, %%al"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("data_limit_read_gp", VEC_GP, 0, try_mark);
    TRY_FIX(WITH_ES("movl %%eax, %%es:0xFFE"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("data_limit_dword_gp", VEC_GP, 0, try_mark);

    /* Far jump to an offset past CS's limit (which ends below this
     * function): #GP(0) at the JMP. */
    uint32_t here = (uint32_t)test_data_limits;
    sel = gdt_set(GDT_SMALL_CODE,
                  desc_seg(0, (here >> 12) - 1, ACC_CODE(0), FLG_G | FLG_DB));
    TRY("ljmp $%c0, $8883f\n"
        "8883:",
        :
        : "i"(GDT_SMALL_CODE * 8)
        : "memory");
    check_trap("cs_limit_far_jmp_gp", VEC_GP, 0, try_at);
}

/* CPL 3: switch to a stack segment whose limit is below ESP and push. */
static uint32_t user_push_beyond_limit(uint32_t sel)
{
    TRY_FIX("movl %%esp, %%ebx\n\t"
            "movw %w0, %%ss\n\t"
            "movl $8882f, try_mark\n"
            "8882:\n\t"
            "pushl %%eax",
            "movw $0x23, %%ax\n\t"
            "movw %%ax, %%ss\n\t"
            "movl %%ebx, %%esp",
            :
            : "r"(sel)
            : "eax", "ebx", "memory");
    return 0;
}

static void test_stack_limit(void)
{
    /* Limit two pages below the top of the user stack (4 KiB units). */
    uint32_t limit = ((uint32_t)ustack_top >> 12) - 2;
    uint16_t sel = gdt_set(GDT_USER_STACK,
                           desc_seg(0, limit, ACC_DATA(3), FLG_G | FLG_DB));
    user_call(user_push_beyond_limit, sel | 3, EFL_FIXED);
    check_trap("cpl3_stack_limit_push_ss", VEC_SS, 0, try_mark);
}

/* Expand-down: offsets limit+1 .. 0xFFFFFFFF (B = 1) or 0xFFFF (B = 0). */
static void test_expand_down(void)
{
    uint32_t v = 0;
    uint8_t acc = ACC_DATA(0) | TYPE_DATA_E;
    uint16_t sel = gdt_set(
        GDT_EXPDOWN, desc_seg((uint32_t)buf - 0x1000, 0xFFF, acc, FLG_DB));

    TRY_FIX(WITH_ES("movl %%es:0x1004, %%eax"), "movw %w[kd], %%es",
            : "=a"(v)
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "memory");
    check_no_trap("expand_down_above_limit_ok");
    check_eq("expand_down_above_limit_reads_base_plus_offset", buf[1], v);
    TRY_FIX(WITH_ES("movb %%es:0xFFF, %%al"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("expand_down_below_limit_gp", VEC_GP, 0, try_mark);
    TRY_FIX(WITH_ES("movl %%es:0xFFE, %%eax"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("expand_down_dword_across_limit_gp", VEC_GP, 0, try_mark);

    sel =
        gdt_set(GDT_EXPDOWN16, desc_seg((uint32_t)buf - 0xFFF0, 0xFFF, acc, 0));
    TRY_FIX(WITH_ES("movl %%es:0xFFFC, %%eax"), "movw %w[kd], %%es",
            : "=a"(v)
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "memory");
    check_no_trap("expand_down_16bit_top_dword_ok");
    check_eq("expand_down_16bit_top_dword_value", buf[3], v);
    TRY_FIX(WITH_ES("movl %%es:0xFFFE, %%eax"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel), [kd] "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("expand_down_16bit_bound_gp", VEC_GP, 0, try_mark);
}

/* ------------------------------------------------------ 16-bit code */

/*
 * 16-bit code, entered by a 32-bit far call at offset 0 of a segment based
 * at code16_entry. Returns EAX with only AX written, EDX = bytes a PUSH AX
 * took, EBX = the IP a near CALL pushed (an offset in this segment).
 */
void code16_entry(void);
extern const uint8_t code16_ret[];
__asm__(".text\n"
        ".code16\n"
        "code16_entry:\n\t"
        "movw $0x1234, %ax\n\t" /* B8 34 12: a 16-bit immediate */
        "movl %esp, %edx\n\t"
        "pushw %ax\n\t"
        "subl %esp, %edx\n\t"
        "popw %cx\n\t"
        "call 1f\n"
        "code16_ret:\n"
        "1:\n\t"
        "popw %bx\n\t"
        "lretl\n\t" /* 66 CB: back to the 32-bit caller */
        ".code32\n");

static void test_code16(void)
{
    uint32_t a = 0xAAAA0000u, d, b = 0xBBBB0000u;
    uint32_t base = (uint32_t)code16_entry;

    gdt_set(GDT_CODE16, desc_seg(base, 0xFFFF, ACC_CODE(0), 0));
    TRY("lcall $%c3, $0",
        : "+a"(a), "=d"(d), "+b"(b)
        : "i"(GDT_CODE16 * 8)
        : "ecx", "memory");
    check_no_trap("code16_far_call_and_back");
    check_eq("code16_mov_ax_keeps_high_eax", 0xAAAA1234u, a);
    check_eq("code16_push_is_2_bytes", 2, d);
    check_eq("code16_call_pushes_ip",
             0xBBBB0000u | ((uint32_t)code16_ret - base), b);
}

/* ------------------------------------------------------- conforming */

void conforming_func(void);
/* Returns the CS it ran with in EAX. */
__asm__(".text\n"
        "conforming_func:\n\t"
        "xorl %eax, %eax\n\t"
        "movw %cs, %ax\n\t"
        "lret\n");

static volatile struct {
    uint32_t offset;
    uint16_t sel;
} __attribute__((packed)) far_target;

/* Far call conforming_func through selector sel; returns the CS it saw. */
static uint32_t user_far_call(uint32_t sel)
{
    uint32_t cs = 0;

    far_target.offset = (uint32_t)conforming_func;
    far_target.sel = (uint16_t)sel;
    TRY("lcall *far_target", : "+a"(cs) : : "memory");
    return cs;
}

static void test_conforming(void)
{
    uint8_t conf = ACC_CODE(0) | TYPE_CODE_C;
    uint16_t sel =
        gdt_set(GDT_CONFORMING, desc_seg(0, 0xFFFFF, conf, FLG_G | FLG_DB));
    uint16_t sel3 =
        gdt_set(GDT_CONFORMING3,
                desc_seg(0, 0xFFFFF, conf | ACC_DPL(3), FLG_G | FLG_DB));
    uint32_t cs;

    cs = user_call(user_far_call, sel | 3, EFL_FIXED);
    check_no_trap("conforming_dpl0_from_cpl3");
    check_eq("conforming_keeps_cpl3", sel | 3, cs);
    cs = user_far_call(sel);
    check_no_trap("conforming_dpl0_from_cpl0");
    check_eq("conforming_cpl0_cs", sel, cs);
    user_far_call(sel3);
    check_trap("conforming_dpl3_from_cpl0_gp", VEC_GP, sel3, try_at);
    user_call(user_far_call, SEL_KCODE | 3, EFL_FIXED);
    check_trap("nonconforming_dpl0_from_cpl3_gp", VEC_GP, SEL_KCODE, try_at);
}

/* ----------------------------------------------------- segment loads */

#define LOAD_DS(sel)                                                           \
    TRY_FIX("movw %w0, %%ds", "movw %w1, %%ds",                                \
            :                                                                  \
            : "r"(sel), "r"(SEL_KDATA)                                         \
            : "memory")
#define LOAD_SS(sel)                                                           \
    TRY_FIX("movw %w0, %%ss", "movw %w1, %%ss",                                \
            :                                                                  \
            : "r"(sel), "r"(SEL_KDATA)                                         \
            : "memory")

static uint32_t user_load_ds(uint32_t sel)
{
    TRY_FIX("movw %w0, %%ds", "movw $0x23, %%ax\n\tmovw %%ax, %%ds",
            :
            : "r"(sel)
            : "eax", "memory");
    return 0;
}

static uint32_t user_load_ss(uint32_t sel)
{
    TRY_FIX("movw %w0, %%ss", "movw $0x23, %%ax\n\tmovw %%ax, %%ss",
            :
            : "r"(sel)
            : "eax", "memory");
    return 0;
}

static void test_null(void)
{
    LOAD_DS(0);
    check_no_trap("null_ds_load_allowed");
    TRY_FIX("movw %w0, %%ds\n\t"
            "movl $8882f, %%ss:try_mark\n"
            "8882:\n\t"
            "movl (%2), %%eax",
            "movw %w1, %%ds",
            :
            : "r"(0), "r"(SEL_KDATA), "r"(buf)
            : "eax", "memory");
    check_trap("null_ds_use_gp", VEC_GP, 0, try_mark);
    LOAD_SS(0);
    check_trap("null_ss_load_cpl0_gp", VEC_GP, 0, try_at);
    user_call(user_load_ss, 3, EFL_FIXED);
    check_trap("null_ss_load_cpl3_gp", VEC_GP, 0, try_at);
}

static uint16_t sel_exec_only, sel_read_only, sel_not_present;

/* The descriptor types and privilege a segment load checks. */
static void test_load_checks(void)
{
    LOAD_SS(SEL_KCODE);
    check_trap("code_into_ss_gp", VEC_GP, SEL_KCODE, try_at);
    LOAD_SS(sel_read_only);
    check_trap("readonly_data_into_ss_gp", VEC_GP, sel_read_only, try_at);
    LOAD_SS(SEL_KDATA | 3);
    check_trap("ss_rpl_not_cpl_gp", VEC_GP, SEL_KDATA, try_at);
    LOAD_SS(SEL_UDATA & ~3);
    check_trap("ss_dpl_not_cpl_gp", VEC_GP, SEL_UDATA & ~3, try_at);
    LOAD_DS(sel_exec_only);
    check_trap("exec_only_code_into_ds_gp", VEC_GP, sel_exec_only, try_at);
    LOAD_DS(SEL_KCODE);
    check_no_trap("readable_code_into_ds_ok");
    LOAD_DS(sel_read_only);
    check_no_trap("readonly_data_into_ds_ok");
    user_call(user_load_ds, SEL_KDATA | 3, EFL_FIXED);
    check_trap("cpl3_dpl0_data_into_ds_gp", VEC_GP, SEL_KDATA, try_at);
    user_call(user_load_ds, SEL_KCODE | 3, EFL_FIXED);
    check_trap("cpl3_dpl0_code_into_ds_gp", VEC_GP, SEL_KCODE, try_at);
    TRY("ljmp $%c0, $0", : : "i"(SEL_KDATA) : "memory");
    check_trap("data_into_cs_gp", VEC_GP, SEL_KDATA, try_at);
}

/* Not-present segments, and writes the segment type forbids. */
static void test_presence_and_writes(void)
{
    uint16_t np = sel_not_present;

    LOAD_DS(np);
    check_trap("not_present_ds_np", VEC_NP, np, try_at);
    TRY_FIX("movw %w0, %%fs", "movw %w1, %%fs",
            :
            : "r"(np), "r"(SEL_KDATA)
            : "memory");
    check_trap("not_present_fs_np", VEC_NP, np, try_at);
    LOAD_SS(np);
    check_trap("not_present_ss_ss", VEC_SS, np, try_at);

    TRY_FIX(WITH_ES("movl %%eax, %%es:(%[p])"), "movw %w[kd], %%es",
            :
            : [sel] "r"(sel_read_only), [kd] "r"(SEL_KDATA), [p] "r"(buf)
            : "memory");
    check_trap("readonly_data_write_gp", VEC_GP, 0, try_mark);
    TRY("movl %%eax, %%cs:(%0)", : : "r"(buf) : "memory");
    check_trap("code_segment_write_gp", VEC_GP, 0, try_at);
}

/* ----------------------------------------------------- accessed bit */

static void test_accessed(void)
{
    gdt_set(GDT_FRESH_DATA, desc_seg(0, 0xFFFFF, ACC_DATA(0), FLG_G | FLG_DB));
    gdt_set(GDT_FRESH_CODE, desc_seg(0, 0xFFFFF, ACC_CODE(0), FLG_G | FLG_DB));
    check_eq("accessed_clear_before", 0,
             (gdt_access(GDT_FRESH_DATA) | gdt_access(GDT_FRESH_CODE)) &
                 TYPE_A);
    TRY_FIX("movw %w0, %%es", "movw %w1, %%es",
            :
            : "r"(GDT_FRESH_DATA * 8), "r"(SEL_KDATA)
            : "memory");
    check_eq("accessed_set_by_es_load", TYPE_A,
             gdt_access(GDT_FRESH_DATA) & TYPE_A);
    TRY("ljmp $%c0, $8883f\n"
        "8883:\n\t"
        "ljmp $0x08, $8884f\n"
        "8884:",
        :
        : "i"(GDT_FRESH_CODE * 8)
        : "memory");
    check_eq("accessed_set_by_cs_load", TYPE_A,
             gdt_access(GDT_FRESH_CODE) & TYPE_A);
}

/* ------------------------------------------------- LAR LSL VERR VERW */

/* Run INSN on selector sel; *zf = ZF afterwards, returns the output. */
#define SEL_OP(insn)                                                           \
    static uint32_t op_##insn(uint32_t sel, bool *zf)                          \
    {                                                                          \
        uint32_t out = 0xFFFF0000u;                                            \
        uint8_t z;                                                             \
        __asm__ volatile(#insn " %2, %0\n\tsetz %1"                            \
                         : "+r"(out), "=q"(z)                                  \
                         : "r"(sel)                                            \
                         : "cc");                                              \
        *zf = z;                                                               \
        return out;                                                            \
    }
SEL_OP(lar)
SEL_OP(lsl)

static bool op_verr(uint32_t sel)
{
    uint8_t z;
    __asm__ volatile("verr %w1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}

static bool op_verw(uint32_t sel)
{
    uint8_t z;
    __asm__ volatile("verw %w1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}

/* LAR's result: descriptor bits 8-15 and 20-23 of the high dword (bits
 * 16-19 are undefined, so masked). */
#define LAR_MASK 0x00F0FF00u
static uint32_t lar_expected(int index)
{
    return (uint32_t)(gdt[index] >> 32) & LAR_MASK;
}

static void check_lar(const char *name, uint16_t sel, bool want_zf)
{
    bool zf;
    uint32_t v = op_lar(sel, &zf);

    if (zf != want_zf) {
        check_fail(name);
        kprintf("expected ZF=%d got ZF=%d\n", want_zf, zf);
        return;
    }
    if (want_zf)
        check_eq(name, lar_expected(sel >> 3), v & LAR_MASK);
    else
        check_eq(name, 0xFFFF0000u, v); /* destination unchanged */
}

static void check_lsl(const char *name, uint16_t sel, bool want_zf,
                      uint32_t want)
{
    bool zf;
    uint32_t v = op_lsl(sel, &zf);

    if (zf != want_zf) {
        check_fail(name);
        kprintf("expected ZF=%d got ZF=%d\n", want_zf, zf);
        return;
    }
    check_eq(name, want_zf ? want : 0xFFFF0000u, v);
}

static volatile struct {
    bool lar_kdata, verr_kdata, verw_kdata, lar_conf, verr_conf;
} seen3;

static uint32_t user_access_checks(uint32_t arg)
{
    bool zf;

    (void)arg;
    op_lar(SEL_KDATA | 3, &zf);
    seen3.lar_kdata = zf;
    seen3.verr_kdata = op_verr(SEL_KDATA | 3);
    seen3.verw_kdata = op_verw(SEL_KDATA | 3);
    op_lar(GDT_CONFORMING * 8 + 3, &zf);
    seen3.lar_conf = zf;
    seen3.verr_conf = op_verr(GDT_CONFORMING * 8 + 3);
    return 0;
}

static void test_access_rights(void)
{
    uint16_t igate =
        gdt_set(GDT_INT_GATE, desc_gate(SEL_KCODE, 0, TYPE_INT_GATE, 0, 0));
    uint16_t cgate =
        gdt_set(GDT_CALL_GATE, desc_gate(SEL_KCODE, 0, TYPE_CALL_GATE, 3, 0));

    check_lar("lar_kernel_code", SEL_KCODE, true);
    check_lar("lar_user_data", SEL_UDATA, true);
    check_lar("lar_busy_tss", SEL_TSS, true);
    check_lar("lar_call_gate", cgate, true);
    check_lar("lar_interrupt_gate_rejected", igate, false);
    check_lar("lar_null_rejected", 0, false);
    check_lar("lar_beyond_gdt_rejected", GDT_ENTRIES * 8, false);

    check_lsl("lsl_flat_4g", SEL_KDATA, true, 0xFFFFFFFFu);
    check_lsl("lsl_byte_limit", GDT_SMALL_DATA * 8, true, 0xFFF);
    check_lsl("lsl_tss", SEL_TSS, true, sizeof(tss_main) - 1);
    check_lsl("lsl_call_gate_rejected", cgate, false, 0);

    check_true("verr_readable_code", op_verr(SEL_KCODE), "ZF=0");
    check_true("verr_exec_only_code", !op_verr(GDT_EXEC_ONLY * 8), "ZF=1");
    check_true("verr_data", op_verr(SEL_KDATA), "ZF=0");
    check_true("verw_data", op_verw(SEL_KDATA), "ZF=0");
    check_true("verw_readonly_data", !op_verw(GDT_READ_ONLY * 8), "ZF=1");
    check_true("verw_code", !op_verw(SEL_KCODE), "ZF=1");

    user_call(user_access_checks, 0, EFL_FIXED);
    check_true("cpl3_lar_dpl0_data_rejected", !seen3.lar_kdata, "ZF=1");
    check_true("cpl3_verr_dpl0_data_rejected", !seen3.verr_kdata, "ZF=1");
    check_true("cpl3_verw_dpl0_data_rejected", !seen3.verw_kdata, "ZF=1");
    check_true("cpl3_lar_conforming_dpl0_ok", seen3.lar_conf, "ZF=0");
    check_true("cpl3_verr_conforming_dpl0_ok", seen3.verr_conf, "ZF=0");
}

void test_main(void)
{
    sel_exec_only =
        gdt_set(GDT_EXEC_ONLY, desc_seg(0, 0xFFFFF, ACC_P | ACC_S | TYPE_CODE,
                                        FLG_G | FLG_DB));
    sel_read_only =
        gdt_set(GDT_READ_ONLY, desc_seg(0, 0xFFFFF, ACC_P | ACC_S | ACC_DPL(0),
                                        FLG_G | FLG_DB));
    sel_not_present =
        gdt_set(GDT_NP_DATA,
                desc_seg(0, 0xFFFFF, ACC_DATA(0) & ~ACC_P, FLG_G | FLG_DB));
    test_data_limits();
    test_stack_limit();
    test_expand_down();
    test_code16();
    test_conforming();
    test_null();
    test_load_checks();
    test_presence_and_writes();
    test_accessed();
    test_access_rights();
}
