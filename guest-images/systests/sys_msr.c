/* SPDX-License-Identifier: MIT */
/*
 * sys_msr: model-specific registers that CPUID advertises. The TSC through
 * RDMSR/WRMSR 0x10 and CR4.TSD; SYSENTER_CS/ESP/EIP (0x174-0x176) and a
 * SYSENTER/SYSEXIT round trip from ring 3; RDMSR/WRMSR and SYSEXIT at CPL
 * 3, SYSENTER with SYSENTER_CS null, and an MSR that does not exist, all
 * #GP(0). A feature CPUID does not advertise is skipped, so the kernel is
 * correct on any CPU model.
 *
 * The unknown MSR is 0x40000000: the SDM reserves 0x40000000-0x400000FF
 * and promises no processor will implement an MSR there.
 *
 * QEMU 7.2's TCG (the cross-check) departs from the SDM in these checks,
 * listed as deviations of its QEMU run:
 *   rdmsr_tsc_between_rdtscs, wrmsr_tsc_sets_counter
 *                     MSR 0x10 is not implemented: RDMSR reads 0, WRMSR
 *                     is ignored
 *   rdmsr_unknown_gp, wrmsr_unknown_gp
 *                     an MSR it does not know reads as 0 and ignores
 *                     writes instead of raising #GP(0)
 */
#include "io.h"
#include "lib/sys.h"

#define MSR_TSC           0x10
#define MSR_SYSENTER_CS   0x174
#define MSR_SYSENTER_ESP  0x175
#define MSR_SYSENTER_EIP  0x176
#define MSR_UNIMPLEMENTED 0x40000000u
#define MSR_BIOS_SIGN_ID  0x8b
#define MSR_MISC_ENABLE   0x1a0
#define CR4_TSD           (1u << 2)

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

static uint32_t features;

static uint8_t sysenter_stack[1024] __attribute__((aligned(16)));

/* SYSENTER is real only from family 6 model 3 stepping 3 on (SDM,
 * SYSENTER: earlier P6 parts set the bit without the instruction). */
static bool sep_supported(void)
{
    uint32_t r[4];

    if (!(features & CPUID_SEP))
        return false;
    cpuid(1, r);
    uint32_t family = (r[0] >> 8) & 0xF, model = (r[0] >> 4) & 0xF;
    uint32_t stepping = r[0] & 0xF;
    return !(family == 6 && model < 3 && stepping < 3);
}

static void test_tsc(void)
{
    if (!(features & CPUID_TSC)) {
        check_skip("rdmsr_tsc", "TSC not advertised");
        return;
    }
    /* RDTSC is not ordered with other instructions: CPUID, which
     * serializes, keeps the three reads in program order. */
    uint32_t r[4];
    uint64_t t0 = rdtsc();
    cpuid(0, r);
    uint64_t m = rdmsr(MSR_TSC);
    cpuid(0, r);
    uint64_t t1 = rdtsc();
    check_true("rdmsr_tsc_between_rdtscs", t0 <= m && m <= t1,
               "RDMSR 0x10 outside [RDTSC, RDTSC]");

    /* A value below 2^32: P6-class parts write only the low 32 bits. */
    const uint64_t v = 0x40000000u;
    wrmsr(MSR_TSC, v);
    uint64_t t2 = rdtsc(), t3 = rdtsc();
    check_true("wrmsr_tsc_sets_counter", t2 >= v && t2 - v < 0x40000000u,
               "RDTSC after WRMSR 0x10 not just above the value written");
    check_true("tsc_counts_up_after_write", t3 > t2, "TSC did not advance");
}

USER_TRY(user_rdtsc, "rdtsc")
USER_TRY(user_rdmsr, "movl $0x10, %%ecx\n\t" TRY_MARK "rdmsr")
USER_TRY(user_wrmsr, "movl $0x174, %%ecx\n\txorl %%eax, %%eax\n\t"
                     "xorl %%edx, %%edx\n\t" TRY_MARK "wrmsr")
USER_TRY(user_sysexit, "sysexit")

static void test_cpl3(void)
{
    uint32_t cr4 = cr4_read();

    cr4_write(cr4 | CR4_TSD);
    user_call(user_rdtsc, 0, EFL_FIXED);
    check_trap("rdtsc_cpl3_tsd_gp", VEC_GP, 0, try_at);
    cr4_write(cr4 & ~CR4_TSD);
    user_call(user_rdtsc, 0, EFL_FIXED);
    check_no_trap("rdtsc_cpl3_allowed");
    cr4_write(cr4);
    user_call(user_rdmsr, 0, EFL_FIXED);
    check_trap("rdmsr_cpl3_gp", VEC_GP, 0, try_mark);
    user_call(user_wrmsr, 0, EFL_FIXED);
    check_trap("wrmsr_cpl3_gp", VEC_GP, 0, try_mark);
}

static void test_unknown(void)
{
    TRY("rdmsr", : : "c"(MSR_UNIMPLEMENTED) : "eax", "edx", "memory");
    check_trap("rdmsr_unknown_gp", VEC_GP, 0, try_at);
    TRY("wrmsr", : : "c"(MSR_UNIMPLEMENTED), "a"(0), "d"(0) : "memory");
    check_trap("wrmsr_unknown_gp", VEC_GP, 0, try_at);
}

/* IA32_BIOS_SIGN_ID: P6 parts load the microcode revision into its high
 * half on CPUID after software writes 0 (Linux does this at boot). */
static void test_microcode_revision(void)
{
    uint32_t r[4];
    TRY("wrmsr", : : "c"(MSR_BIOS_SIGN_ID), "a"(0), "d"(0) : "memory");
    check_no_trap("wrmsr_bios_sign_id");
    cpuid(1, r);
    TRY("rdmsr", : : "c"(MSR_BIOS_SIGN_ID) : "eax", "edx", "memory");
    check_no_trap("rdmsr_bios_sign_id");
    check_true("bios_sign_id_low_half_zero",
               (uint32_t)rdmsr(MSR_BIOS_SIGN_ID) == 0,
               "the low half of IA32_BIOS_SIGN_ID is reserved (0)");
}

/* IA32_MISC_ENABLE: readable (Linux checks fast strings there) and
 * writable back with what was read. */
static void test_misc_enable(void)
{
    TRY("rdmsr", : : "c"(MSR_MISC_ENABLE) : "eax", "edx", "memory");
    check_no_trap("rdmsr_misc_enable");
    uint64_t v = rdmsr(MSR_MISC_ENABLE);
    TRY("wrmsr", : : "c"(MSR_MISC_ENABLE), "a"((uint32_t)v),
        "d"((uint32_t)(v >> 32)) : "memory");
    check_no_trap("wrmsr_misc_enable");
    check_true("misc_enable_reads_back", rdmsr(MSR_MISC_ENABLE) == v,
               "IA32_MISC_ENABLE changed after writing its own value");
}

/* ---------------------------------------------------------- SYSENTER */

/* What the ring-0 side of SYSENTER saw, and the ring-3 side after. */
volatile struct {
    uint32_t esp, eflags;
    uint16_t cs, ss, ds;
} enter_seen;
volatile struct {
    uint32_t esp_before, esp_after, ecx;
    uint16_t cs, ss;
} exit_seen;

void sysenter_entry(void);
/* Record, then SYSEXIT to EDX with ESP = ECX (still the caller's). */
__asm__(".text\n"
        "sysenter_entry:\n\t"
        "movl %esp, enter_seen\n\t"
        "pushfl\n\t"
        "popl enter_seen+4\n\t"
        "movw %cs, enter_seen+8\n\t"
        "movw %ss, enter_seen+10\n\t"
        "movw %ds, enter_seen+12\n\t"
        "sysexit\n");

static uint32_t user_sysenter(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("movl %%esp, exit_seen\n\t"
                     "movl %%esp, %%ecx\n\t"
                     "movl $1f, %%edx\n\t"
                     "sysenter\n"
                     "1:\n\t"
                     "movl %%esp, exit_seen+4\n\t"
                     "movw %%cs, exit_seen+12\n\t"
                     "movw %%ss, exit_seen+14"
                     :
                     :
                     : "ecx", "edx", "memory");
    return 0;
}

USER_TRY(user_sysenter_fault, "sysenter")

static void test_sysenter(void)
{
    uint32_t esp0 = (uint32_t)sysenter_stack + sizeof(sysenter_stack);

    if (!sep_supported()) {
        check_skip("sysenter_msrs", "SEP not advertised");
        return;
    }
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    wrmsr(MSR_SYSENTER_ESP, esp0);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
    check_eq("sysenter_cs_msr", SEL_KCODE, (uint32_t)rdmsr(MSR_SYSENTER_CS));
    check_eq("sysenter_esp_msr", esp0, (uint32_t)rdmsr(MSR_SYSENTER_ESP));
    check_eq("sysenter_eip_msr", (uint32_t)sysenter_entry,
             (uint32_t)rdmsr(MSR_SYSENTER_EIP));

    /* IF set at CPL 3 (the PICs are masked): SYSENTER must clear it. */
    user_call(user_sysenter, 0, EFL_FIXED | EFL_IF);
    check_eq("sysenter_cs", SEL_KCODE, enter_seen.cs);
    check_eq("sysenter_ss_is_cs_plus_8", SEL_KDATA, enter_seen.ss);
    check_eq("sysenter_esp_from_msr", esp0, enter_seen.esp);
    check_eq("sysenter_clears_if", 0, enter_seen.eflags & EFL_IF);
    check_eq("sysenter_keeps_ds", SEL_UDATA, enter_seen.ds);
    check_eq("sysexit_cs_is_cs_plus_16_rpl3", SEL_UCODE, exit_seen.cs);
    check_eq("sysexit_ss_is_cs_plus_24_rpl3", SEL_UDATA, exit_seen.ss);
    check_eq("sysexit_esp_from_ecx", exit_seen.esp_before, exit_seen.esp_after);

    user_call(user_sysexit, 0, EFL_FIXED);
    check_trap("sysexit_cpl3_gp", VEC_GP, 0, try_at);
    wrmsr(MSR_SYSENTER_CS, 0);
    user_call(user_sysenter_fault, 0, EFL_FIXED);
    check_trap("sysenter_null_cs_gp", VEC_GP, 0, try_at);
}

void test_main(void)
{
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
    features = cpuid_features();
    kprintf("info cpuid 1 edx %08x\n", features);
    if (!(features & CPUID_MSR)) {
        check_skip("rdmsr_wrmsr", "MSR not advertised");
        test_cpl3();
        return;
    }
    test_tsc();
    test_cpl3();
    test_unknown();
    test_microcode_revision();
    test_misc_enable();
    test_sysenter();
}
