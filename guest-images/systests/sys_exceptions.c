/* SPDX-License-Identifier: MIT */
/*
 * sys_exceptions: every exception software can raise on this machine, with
 * its vector, error code, pushed CS:EIP (a fault points at the instruction,
 * a trap after it) and EFLAGS.
 *
 * Needs: FPU; SSE and FXSR for the SSE checks (skipped otherwise).
 *
 * QEMU 7.2's TCG (the cross-check) departs from the SDM in these checks,
 * which follow the SDM and are listed as deviations of its QEMU run:
 *   db_int1        INT1 (F1) is compiled out (WANT_ICEBP) and raises #UD
 *   ss_limit, gp_data_limit, gp_null_ds_use
 *                  data accesses are not checked against segment limits or
 *                  a null selector
 *   ac_cpl3_misaligned  alignment checking is not implemented
 *   xm_divss, ud_unmasked_sse_without_osxmmexcpt
 *                  unmasked SSE exceptions only set MXCSR flags
 */
#include "lib/paging.h"
#include "lib/sys.h"

/* GDT entries of this kernel. */
#define GDT_SMALL_TSS  (GDT_FREE + 0) /* a TSS descriptor with limit < 0x67 */
#define GDT_NP_DATA    (GDT_FREE + 1) /* a not-present data segment */
#define GDT_EXEC_ONLY  (GDT_FREE + 2) /* an execute-only code segment */
#define GDT_SMALL_DATA (GDT_FREE + 3) /* data, base 0, limit 0xFFF */
#define GDT_STACK      (GDT_FREE + 4) /* stack, limit just above ESP */
#define GDT_NP_STACK   (GDT_FREE + 5) /* a not-present writable data segment */
#define SEL_BEYOND_GDT (GDT_ENTRIES * 8) /* first index past GDTR.limit */

#define VEC_NP_GATE 0x50 /* an IDT entry marked not present */

#define FCW_DEFAULT   0x037F /* all x87 exceptions masked */
#define FCW_ZM        0x0004 /* zero-divide mask */
#define FSW_ZE        0x0004 /* zero-divide flag */
#define FSW_ES        0x0080 /* error summary */
#define MXCSR_DEFAULT 0x1F80 /* all SSE exceptions masked */
#define MXCSR_ZM      0x0200

static struct tss small_tss;
static volatile uint32_t bounds[2] = {10, 20};
static volatile uint8_t misaligned[16] __attribute__((aligned(16)));
static volatile float one = 1.0f;

static void test_de(void)
{
    TRY("divl %%ecx", : : "a"(1), "d"(0), "c"(0) : "memory");
    check_trap("de_div_zero", VEC_DE, 0, try_at);
    /* INT32_MIN / -1 = 2^31 does not fit in a signed dword. (Not
     * 0x80000000_00000000 / -1: QEMU 7.2's TCG computes that with a host
     * 64-bit IDIV and dies of SIGFPE itself.) */
    TRY("idivl %%ecx",
        :
        : "a"(0x80000000u), "d"(0xFFFFFFFFu), "c"(-1)
        : "memory");
    check_trap("de_idiv_overflow", VEC_DE, 0, try_at);
    /* 0x1000 / 0x10 = 0x100 does not fit in AL. */
    TRY("divb %%cl", : : "a"(0x1000), "c"(0x10) : "memory");
    check_trap("de_div8_overflow", VEC_DE, 0, try_at);
}

static void test_db_bp_of(void)
{
    TRY(".byte 0xF1", : : : "memory"); /* INT1 / ICEBP: a trap */
    check_trap("db_int1", VEC_DB, 0, try_end);
    /* TF set by POPF takes effect after the next instruction. */
    TRY("pushfl\n\t"
        "orl $0x100, (%%esp)\n\t"
        "popfl\n\t"
        "nop",
        :
        :
        : "memory");
    check_trap_flags("db_single_step", VEC_DB, 0, try_end, try_flags | EFL_TF);
    TRY("int3", : : : "memory");
    check_trap("bp_int3", VEC_BP, 0, try_end);
    TRY("int $3", : : : "memory");
    check_trap("bp_int_3", VEC_BP, 0, try_end);
    TRY("pushfl\n\t"
        "orl $0x800, (%%esp)\n\t" /* OF */
        "popfl\n\t"
        "into",
        :
        :
        : "memory");
    check_trap_flags("of_into", VEC_OF, 0, try_end, try_flags | EFL_OF);
    TRY("pushfl\n\t"
        "andl $~0x800, (%%esp)\n\t"
        "popfl\n\t"
        "into",
        :
        :
        : "memory");
    check_no_trap("of_into_no_overflow");
}

static void test_br_ud(void)
{
    TRY("boundl %%eax, (%%edx)", : : "a"(21), "d"(bounds) : "memory");
    check_trap("br_bound_above", VEC_BR, 0, try_at);
    TRY("boundl %%eax, (%%edx)", : : "a"(9), "d"(bounds) : "memory");
    check_trap("br_bound_below", VEC_BR, 0, try_at);
    TRY("boundl %%eax, (%%edx)", : : "a"(20), "d"(bounds) : "memory");
    check_no_trap("br_bound_inside");
    TRY("ud2", : : : "memory");
    check_trap("ud_ud2", VEC_UD, 0, try_at);
    TRY(".byte 0xF0, 0x90", : : : "memory"); /* lock nop */
    check_trap("ud_lock_nop", VEC_UD, 0, try_at);
}

static void test_nm(void)
{
    uint32_t cr0 = cr0_read() & ~(CR0_TS | CR0_EM | CR0_MP);

    cr0_write(cr0 | CR0_TS | CR0_MP);
    TRY("fld1", : : : "memory");
    check_trap("nm_ts_fld1", VEC_NM, 0, try_at);
    TRY("fwait", : : : "memory");
    check_trap("nm_ts_mp_fwait", VEC_NM, 0, try_at);
    cr0_write(cr0 | CR0_TS);
    TRY("fwait", : : : "memory");
    check_no_trap("nm_ts_no_mp_fwait");
    cr0_write(cr0 | CR0_EM);
    TRY("fld1", : : : "memory");
    check_trap("nm_em_fld1", VEC_NM, 0, try_at);
    cr0_write(cr0 | CR0_TS | CR0_MP);
    clts();
    TRY("fninit\n\tfld1\n\tfstp %%st(0)", : : : "memory");
    check_no_trap("nm_after_clts");
    cr0_write(cr0 | CR0_MP);
}

static void test_tss_np_ss(void)
{
    uint16_t sel;

    /* A task switch to a TSS whose limit is below 0x67: #TS(selector),
     * reported in the old task at the JMP (before the commit point). */
    sel = gdt_set(GDT_SMALL_TSS,
                  desc_seg((uint32_t)&small_tss, 0x60, ACC_P | TYPE_TSS32, 0));
    TRY("ljmp $%c0, $0", : : "i"(GDT_SMALL_TSS * 8) : "memory");
    check_trap("ts_tss_limit", VEC_TS, sel, try_at);

    sel = gdt_set(GDT_NP_DATA,
                  desc_seg(0, 0xFFFFF, ACC_DATA(0) & ~ACC_P, FLG_G | FLG_DB));
    TRY_FIX("movw %w0, %%ds", "movw %w1, %%ds",
            :
            : "r"(sel), "r"(SEL_KDATA)
            : "memory");
    check_trap("np_data_segment", VEC_NP, sel, try_at);

    /* A not-present gate: error code = vector * 8 + 2 (IDT). */
    idt_set(VEC_NP_GATE, idt[VEC_NP_GATE] & ~((uint64_t)ACC_P << 40));
    TRY("int %0", : : "i"(VEC_NP_GATE) : "memory");
    check_trap("np_idt_gate", VEC_NP, VEC_NP_GATE * 8 + 2, try_at);
    idt_set_default(VEC_NP_GATE, 0);

    sel = gdt_set(GDT_NP_STACK,
                  desc_seg(0, 0xFFFFF, ACC_DATA(0) & ~ACC_P, FLG_G | FLG_DB));
    TRY_FIX("movw %w0, %%ss", "movw %w1, %%ss",
            :
            : "r"(sel), "r"(SEL_KDATA)
            : "memory");
    check_trap("ss_not_present", VEC_SS, sel, try_at);

    /* A stack segment whose limit covers ESP (so the exception frame
     * fits) but not ESP + 1 MiB. */
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    sel = gdt_set(GDT_STACK,
                  desc_seg(0, (esp >> 12) + 1, ACC_DATA(0), FLG_G | FLG_DB));
    TRY_FIX("movw %w0, %%ss\n\t"
            "movl $8882f, try_mark\n"
            "8882:\n\t"
            "movl (%%esp, %1), %%eax",
            "movw %w2, %%ss",
            :
            : "r"(sel), "r"(0x100000), "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("ss_limit", VEC_SS, 0, try_mark);
}

static void test_gp(void)
{
    uint16_t sel;

    sel = gdt_set(GDT_EXEC_ONLY, desc_seg(0, 0xFFFFF, ACC_P | ACC_S | TYPE_CODE,
                                          FLG_G | FLG_DB));
    TRY_FIX("movw %w0, %%ds", "movw %w1, %%ds",
            :
            : "r"(sel), "r"(SEL_KDATA)
            : "memory");
    check_trap("gp_exec_only_into_ds", VEC_GP, sel, try_at);

    TRY_FIX("movw %w0, %%ds", "movw %w1, %%ds",
            :
            : "r"(SEL_BEYOND_GDT), "r"(SEL_KDATA)
            : "memory");
    check_trap("gp_beyond_gdt_limit", VEC_GP, SEL_BEYOND_GDT, try_at);

    sel = gdt_set(GDT_SMALL_DATA, desc_seg(0, 0xFFF, ACC_DATA(0), FLG_DB));
    TRY_FIX("movw %w0, %%es\n\t"
            "movl $8882f, try_mark\n"
            "8882:\n\t"
            "movl %%es:0xFFD, %%eax", /* bytes 0xFFD..0x1000 */
            "movw %w1, %%es",
            :
            : "r"(sel), "r"(SEL_KDATA)
            : "eax", "memory");
    check_trap("gp_data_limit", VEC_GP, 0, try_mark);
    TRY_FIX("movw %w0, %%es\n\t"
            "movl %%es:0xFFC, %%eax",
            "movw %w1, %%es",
            :
            : "r"(sel), "r"(SEL_KDATA)
            : "eax", "memory");
    check_no_trap("gp_data_limit_last_dword");

    TRY_FIX("movw %w0, %%ds\n\t"
            "movl $8882f, %%ss:try_mark\n"
            "8882:\n\t"
            "movl (%%ebx), %%eax",
            "movw %w1, %%ds",
            :
            : "r"(0), "r"(SEL_KDATA), "b"(&one)
            : "eax", "memory");
    check_trap("gp_null_ds_use", VEC_GP, 0, try_mark);
}

static void test_pf(void)
{
    uint32_t *pd = pg_dir_new();
    const uint32_t page = 0x40000000;

    pg_map(pd, page, 0, 0); /* not present */
    pg_enable(pd);
    TRY("movl (%0), %%eax", : : "r"(page + 0x123) : "eax", "memory");
    check_trap("pf_read_not_present", VEC_PF, 0, try_at);
    check_eq("pf_read_cr2", page + 0x123, caught.cr2);
    TRY("movl %%eax, (%0)", : : "r"(page + 0x456) : "memory");
    check_trap("pf_write_not_present", VEC_PF, PF_W, try_at);
    check_eq("pf_write_cr2", page + 0x456, caught.cr2);
    pg_disable();
}

/* CPL 3: one misaligned dword read; returns the number of exceptions. */
static uint32_t user_misaligned_read(uint32_t addr)
{
    TRY("movl (%0), %%eax", : : "r"(addr) : "eax", "memory");
    return caught.count;
}

/* Alignment check: CR0.AM and EFLAGS.AC at CPL 3, #AC(0) at the access,
 * and no check at CPL 0 or with either bit clear. */
static void test_ac(void)
{
    uint32_t cr0 = cr0_read();
    uint32_t addr = (uint32_t)&misaligned[1];

    cr0_write(cr0 | CR0_AM);
    user_call(user_misaligned_read, addr, EFL_FIXED | EFL_AC);
    check_trap("ac_cpl3_misaligned", VEC_AC, 0, try_at);
    user_call(user_misaligned_read, addr, EFL_FIXED);
    check_no_trap("ac_cpl3_ac_clear");
    eflags_write(eflags_read() | EFL_AC);
    user_misaligned_read(addr);
    eflags_write(eflags_read() & ~EFL_AC);
    check_no_trap("ac_cpl0_not_checked");
    cr0_write(cr0 & ~CR0_AM);
    user_call(user_misaligned_read, addr, EFL_FIXED | EFL_AC);
    check_no_trap("ac_cpl3_am_clear");
    cr0_write(cr0);
}

/* x87: with CR0.NE an unmasked exception is reported as #MF at the next
 * waiting x87 instruction, which the pushed EIP points at. */
static void test_mf(void)
{
    uint16_t fcw = FCW_DEFAULT & ~FCW_ZM;
    uint32_t env[7];

    cr0_write((cr0_read() | CR0_NE | CR0_MP) & ~(CR0_TS | CR0_EM));
    TRY("fninit\n\t"
        "fldcw %0\n\t"
        "fldz\n\t"
        "fld1\n\t"
        "movl $8882f, try_mark\n\t"
        "fdiv %%st(1), %%st\n\t" /* D8 F1: 1 / 0, unmasked: pending */
        "8882:\n\t"
        "fwait",
        :
        : "m"(fcw)
        : "memory");
    check_trap("mf_fwait", VEC_MF, 0, try_mark);
    __asm__ volatile("fnstenv %0" : "=m"(env));
    check_eq("mf_fsw_ze_es", FSW_ZE | FSW_ES, env[1] & (FSW_ZE | FSW_ES));
    check_eq("mf_fip_at_fdiv", try_mark - 2, env[3]);
    __asm__ volatile("fnclex\n\tfninit");
}

static void test_sse(void)
{
    uint32_t mxcsr = MXCSR_DEFAULT & ~MXCSR_ZM;
    uint32_t cr0 = cr0_read() & ~(CR0_TS | CR0_EM), cr4 = cr4_read();

    if ((cpuid_features() & (CPUID_SSE | CPUID_FXSR)) !=
        (CPUID_SSE | CPUID_FXSR)) {
        check_skip("xm_divss", "SSE not advertised");
        return;
    }
    cr4_write(cr4 & ~(CR4_OSFXSR | CR4_OSXMMEXCPT));
    TRY("xorps %%xmm0, %%xmm0", : : : "memory");
    check_trap("ud_sse_without_osfxsr", VEC_UD, 0, try_at);

    cr4_write(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cr0_write(cr0 | CR0_TS);
    TRY("xorps %%xmm0, %%xmm0", : : : "memory");
    check_trap("nm_sse_ts", VEC_NM, 0, try_at);
    cr0_write(cr0 | CR0_EM);
    TRY("xorps %%xmm0, %%xmm0", : : : "memory");
    check_trap("ud_sse_em", VEC_UD, 0, try_at);
    cr0_write(cr0);

    __asm__ volatile("ldmxcsr %0\n\t"
                     "movss %1, %%xmm0\n\t"
                     "xorps %%xmm1, %%xmm1"
                     :
                     : "m"(mxcsr), "m"(one)
                     : "memory");
    TRY("divss %%xmm1, %%xmm0", : : : "memory");
    check_trap("xm_divss", VEC_XM, 0, try_at);

    cr4_write((cr4 | CR4_OSFXSR) & ~CR4_OSXMMEXCPT);
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr) : "memory");
    TRY("divss %%xmm1, %%xmm0", : : : "memory");
    check_trap("ud_unmasked_sse_without_osxmmexcpt", VEC_UD, 0, try_at);
    mxcsr = MXCSR_DEFAULT;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr) : "memory");
    cr4_write(cr4);
}

void test_main(void)
{
    test_de();
    test_db_bp_of();
    test_br_ud();
    test_nm();
    test_tss_np_ss();
    test_gp();
    test_pf();
    test_ac();
    test_mf();
    test_sse();
}
