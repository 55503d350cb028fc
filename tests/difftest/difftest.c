// SPDX-License-Identifier: MIT
/*
 * difftest: runs generated instruction sequences natively on the host CPU
 * and in bt386's translator, and compares registers, EIP, flags, exception,
 * FPU/SSE state and memory.
 *
 * The reference is the native runner as an i386 process. Where the host
 * cannot run 32-bit processes, cases whose bytes mean the same in 64-bit
 * mode run in the x86-64 build of the runner (still the host CPU), and the
 * rest under qemu-i386 if it is installed, else they are skipped.
 */
#include "tests/difftest/gen.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef DIFFTEST_NATIVE32
#define DIFFTEST_NATIVE32 "difftest-native32"
#endif
#ifndef DIFFTEST_NATIVE64
#define DIFFTEST_NATIVE64 "difftest-native64"
#endif

struct options {
    uint64_t seed;
    long cases;          /* per family (targeted) or sequences (random) */
    int length;          /* instructions per random sequence */
    const char *family;  /* NULL: all; "random": random mixes only */
    const char *mode;    /* all, targeted, random */
    const char *ref;     /* auto, native32, native64, qemu */
    uint64_t insns;      /* random: run until this many were executed */
    uint64_t case_seed;  /* with have_case_seed: run exactly this case */
    bool have_case_seed;
    bool verbose, list;
    int max_reports;     /* detailed reports per family */
    bool corrupt;        /* self-check: flip EAX in bt386's result */
    char *native32, *native64, *qemu;
};

struct driver {
    struct options opt;
    uint8_t baseline[DT_MEM_SIZE];
    struct runner bt, native32, native64, qemu;
    struct runner *ref32, *ref64; /* for cases that need i386 / the rest */
    uint64_t passed, failed, skipped, insns;
    int reports[128];
    long fails_by_family[128];
};

static struct dt_case cur, trunc_case;
static struct dt_outcome out_ref, out_bt;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *family_name(int fam)
{
    return fam < 0 ? "random" : gen_families[fam].name;
}

/* qemu-i386 reports no trap numbers; the native runner guesses #OF from
 * a 0xCE byte before EIP with OF set. Undo the guess unless an INTO
 * really ends there. */
static void qemu_fixup(const struct dt_case *c, struct dt_res *r)
{
    if (r->vector != 4)
        return;
    for (int i = 0; i < c->ninsns; i++) {
        const struct dt_insn *in = &c->insns[i];
        if (DT_CODE_BASE + in->off + in->len == r->eip && in->len == 1 &&
            c->code[in->off + in->len - 1] == 0xce)
            return;
    }
    if (r->eip == c->sentinel) {
        r->vector = DT_VEC_HLT;
        r->eip++;
    } else {
        r->vector = 13;
        r->error = 0;
    }
}

/* Run c on its reference and on bt386. Returns the reference used, or
 * NULL when none can run it (skipped). */
static struct runner *run_both(struct driver *d, const struct dt_case *c)
{
    struct runner *ref = c->needs32 ? d->ref32 : d->ref64;
    if (!ref)
        return NULL;
    if (ref->pid <= 0)
        runner_start(ref, d->baseline);
    if (d->bt.pid <= 0)
        runner_start(&d->bt, d->baseline);
    runner_send(ref, c);
    runner_send(&d->bt, c);
    runner_recv(ref, &out_ref, "a case");
    runner_recv(&d->bt, &out_bt, "a case");
    if (ref == &d->qemu)
        qemu_fixup(c, &out_ref.res);
    if (d->opt.corrupt)
        out_bt.res.regs[0] ^= 1;
    return ref;
}

/* The shortest prefix of c (ending in HLT) that still mismatches, in
 * trunc_case; false if none shorter than c does. */
static bool minimize(struct driver *d, const struct dt_case *c)
{
    for (int k = 1; k < c->ninsns - 1; k++) {
        trunc_case = *c;
        struct dt_case *t = &trunc_case;
        t->code_len = t->insns[k].off;
        t->sentinel = DT_CODE_BASE + t->code_len;
        t->code[t->code_len++] = 0xf4;
        t->insns[k] = (struct dt_insn){.off = (uint16_t)(t->code_len - 1), .len = 1};
        t->ninsns = k + 1;
        if (run_both(d, t) && !compare_outcomes(t, &out_ref, &out_bt, NULL))
            return true;
    }
    return false;
}

static void report(struct driver *d, const struct dt_case *c, struct runner *ref)
{
    int fam = c->family < 0 ? 127 : c->family;
    d->fails_by_family[fam]++;
    if (d->reports[fam]++ >= d->opt.max_reports)
        return;
    struct dt_report rep = {ref->name, family_name(c->family), d->baseline};
    struct dt_outcome *keep_ref = malloc(sizeof(*keep_ref));
    struct dt_outcome *keep_bt = malloc(sizeof(*keep_bt));
    *keep_ref = out_ref;
    *keep_bt = out_bt;
    if (minimize(d, c)) {
        printf("(shortest failing prefix: %d of %d instructions)\n",
               trunc_case.ninsns - 1, c->ninsns - 1);
        compare_print(&trunc_case, &out_ref, &out_bt, &rep);
    } else {
        compare_print(c, keep_ref, keep_bt, &rep);
    }
    printf("  reproduce: difftest --family %s --case-seed %" PRIu64
           " --ref %s --length %d\n\n", family_name(c->family), c->seed,
           d->opt.ref, d->opt.length);
    free(keep_ref);
    free(keep_bt);
    fflush(stdout);
}

/* Run one generated case and account for it. */
static void run_case(struct driver *d, const struct dt_case *c)
{
    struct runner *ref = run_both(d, c);
    if (!ref) {
        d->skipped++;
        return;
    }
    const char *what;
    bool ok = compare_outcomes(c, &out_ref, &out_bt, &what);
    d->insns += compare_count_insns(c, out_ref.res.eip);
    if (d->opt.verbose)
        printf("%-12s seed %-20" PRIu64 " %-4s %s\n", family_name(c->family),
               c->seed, ok ? "ok" : "FAIL", ok ? "" : what);
    if (ok) {
        d->passed++;
        return;
    }
    d->failed++;
    report(d, c, ref);
}

static bool ref_is_i386(const struct driver *d, const struct runner *r)
{
    return r == &d->native32 || r == &d->qemu;
}

/* The runner that will be the reference for family fam's cases. */
static struct runner *family_ref(const struct driver *d, int fam)
{
    return gen_families[fam].flags & FAM_NEEDS32 ? d->ref32 : d->ref64;
}

/* Under qemu-i386 the x87 control state is lost at the stopping signal,
 * so cases for it start from FNINIT's and carry no x87/SSE code. */
static void make_targeted(struct driver *d, int fam, uint64_t seed)
{
    bool all32 = ref_is_i386(d, d->ref64);
    gen_targeted(&cur, seed, fam, all32, family_ref(d, fam) != &d->qemu);
}

/* Random mixes: with an i386 reference for everything, any template;
 * otherwise odd seeds may use i386-only forms (reference: qemu-i386, so
 * without x87/SSE, whose emulation is not the host's), even seeds stay
 * with forms the x86-64 runner shares with i386. */
static void make_random(struct driver *d, uint64_t seed)
{
    if (d->ref64 == &d->qemu)
        gen_random(&cur, seed, d->opt.length, true, false);
    else if (ref_is_i386(d, d->ref64))
        gen_random(&cur, seed, d->opt.length, true, true);
    else if ((seed & 1) && d->ref32)
        gen_random(&cur, seed, d->opt.length, true, false);
    else
        gen_random(&cur, seed, d->opt.length, false, true);
}

static void run_targeted(struct driver *d)
{
    for (int fam = 0; fam < gen_nfamilies; fam++) {
        if (d->opt.family && strcmp(d->opt.family, gen_families[fam].name))
            continue;
        if ((gen_families[fam].flags & FAM_FP) && family_ref(d, fam) == &d->qemu) {
            d->skipped += (uint64_t)d->opt.cases;
            continue;
        }
        for (long i = 0; i < d->opt.cases; i++) {
            make_targeted(d, fam, mix64(d->opt.seed * 1000003u + (uint64_t)fam * 7919u + (uint64_t)i));
            run_case(d, &cur);
        }
    }
}

static void run_random(struct driver *d)
{
    for (long i = 0;; i++) {
        if (d->opt.insns ? d->insns >= d->opt.insns : i >= d->opt.cases)
            break;
        make_random(d, mix64(d->opt.seed ^ 0x5eed0000u ^ (uint64_t)i << 20));
        run_case(d, &cur);
    }
}

static void run_one(struct driver *d)
{
    const char *f = d->opt.family ? d->opt.family : "random";
    int fam = gen_family_find(f);
    if (fam < 0 && strcmp(f, "random") != 0) {
        fprintf(stderr, "difftest: unknown family %s\n", f);
        exit(2);
    }
    if (fam < 0)
        make_random(d, d->opt.case_seed);
    else
        make_targeted(d, fam, d->opt.case_seed);
    d->opt.verbose = true;
    disasm_print(cur.code, cur.code_len, DT_CODE_BASE, "    ");
    run_case(d, &cur);
}

/* Pick the references: i386 natively if the host runs it, else x86-64
 * natively plus qemu-i386 (when present) for the i386-only cases. */
static void choose_refs(struct driver *d)
{
    const char *r = d->opt.ref;
    bool any = !strcmp(r, "auto");
    if ((any || !strcmp(r, "native32")) && runner_probe(&d->native32, d->baseline)) {
        d->ref32 = d->ref64 = &d->native32;
        return;
    }
    if ((any || !strcmp(r, "native64")) && runner_probe(&d->native64, d->baseline))
        d->ref64 = &d->native64;
    if ((any || !strcmp(r, "qemu")) && runner_probe(&d->qemu, d->baseline)) {
        d->ref32 = &d->qemu;
        if (!d->ref64)
            d->ref64 = &d->qemu;
    }
    if (!d->ref64) {
        fprintf(stderr, "difftest: no reference runner works (--ref %s)\n", r);
        exit(2);
    }
}

static void usage(void)
{
    printf("usage: difftest [--seed N] [--cases N] [--length N] [--family NAME|random]\n"
           "                [--mode all|targeted|random] [--insns N] [--list] [--verbose]\n"
           "                [--ref auto|native32|native64|qemu] [--case-seed N]\n"
           "                [--native32 PATH] [--native64 PATH] [--qemu PATH]\n"
           "                [--max-reports N] [--corrupt] [--paging]\n");
}

static void parse_options(struct options *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"seed", 1, 0, 's'}, {"cases", 1, 0, 'c'}, {"length", 1, 0, 'l'},
        {"family", 1, 0, 'f'}, {"mode", 1, 0, 'm'}, {"ref", 1, 0, 'r'},
        {"insns", 1, 0, 'i'}, {"case-seed", 1, 0, 'C'}, {"verbose", 0, 0, 'v'},
        {"list", 0, 0, 'L'}, {"max-reports", 1, 0, 'M'}, {"corrupt", 0, 0, 'X'},
        {"native32", 1, 0, '3'}, {"native64", 1, 0, '6'}, {"qemu", 1, 0, 'q'},
        {"paging", 0, 0, 'P'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 's': o->seed = strtoull(optarg, NULL, 0); break;
        case 'c': o->cases = strtol(optarg, NULL, 0); break;
        case 'l': o->length = atoi(optarg); break;
        case 'f': o->family = optarg; break;
        case 'm': o->mode = optarg; break;
        case 'r': o->ref = optarg; break;
        case 'i': o->insns = strtoull(optarg, NULL, 0); break;
        case 'C': o->case_seed = strtoull(optarg, NULL, 0); o->have_case_seed = true; break;
        case 'v': o->verbose = true; break;
        case 'L': o->list = true; break;
        case 'M': o->max_reports = atoi(optarg); break;
        case 'X': o->corrupt = true; break;
        case 'P': worker_paging = true; break;
        case '3': o->native32 = optarg; break;
        case '6': o->native64 = optarg; break;
        case 'q': o->qemu = optarg; break;
        default: usage(); exit(ch == 'h' ? 0 : 2);
        }
    }
}

static void list_families(void)
{
    for (int i = 0; i < gen_nfamilies; i++) {
        unsigned f = gen_families[i].flags;
        printf("%-14s%s%s%s\n", gen_families[i].name,
               f & FAM_NEEDS32 ? " i386-only" : "", f & FAM_FP ? " fpu" : "",
               f & FAM_TERM ? " exception" : "");
    }
    printf("random\n");
}

static void setup(struct driver *d)
{
    struct rng r = {mix64(d->opt.seed) | 1};
    for (size_t i = 0; i < DT_MEM_SIZE; i += 4) {
        uint32_t v = (uint32_t)(rng_next(&r) >> 32);
        memcpy(d->baseline + i, &v, 4);
    }
    static char *argv32[2], *argv64[2], *argvq[3];
    argv32[0] = d->opt.native32;
    argv64[0] = d->opt.native64;
    argvq[0] = d->opt.qemu;
    argvq[1] = d->opt.native32;
    d->bt = (struct runner){.name = "bt386", .pid = -1};
    d->native32 = (struct runner){.name = "native-i386", .argv = argv32, .pid = -1};
    d->native64 = (struct runner){.name = "native-x86-64", .argv = argv64, .pid = -1};
    d->qemu = (struct runner){.name = "qemu-i386", .argv = argvq, .pid = -1};
    choose_refs(d);
}

static void summary(struct driver *d, double t0)
{
    printf("difftest: reference: %s for i386-only cases, %s for the rest\n",
           d->ref32 ? d->ref32->name : "none (skipped)", d->ref64->name);
    printf("difftest: %" PRIu64 " instructions executed in %" PRIu64
           " cases, %.1f s\n", d->insns, d->passed + d->failed,
           now_s() - t0);
    for (int f = 0; f < 128; f++)
        if (d->fails_by_family[f])
            printf("difftest: family %-12s %ld failed\n",
                   f == 127 ? "random" : gen_families[f].name, d->fails_by_family[f]);
    printf("difftest: %" PRIu64 " passed, %" PRIu64 " failed", d->passed, d->failed);
    if (d->skipped)
        printf(", %" PRIu64 " skipped", d->skipped);
    printf("\n");
}

int main(int argc, char **argv)
{
    static struct driver d;
    d.opt = (struct options){.seed = 1, .cases = 100, .length = 24,
                             .mode = "all", .ref = "auto", .max_reports = 3,
                             .native32 = DIFFTEST_NATIVE32,
                             .native64 = DIFFTEST_NATIVE64, .qemu = "qemu-i386"};
    parse_options(&d.opt, argc, argv);
    if (d.opt.list) {
        list_families();
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    setup(&d);
    double t0 = now_s();
    bool random_only = d.opt.family && !strcmp(d.opt.family, "random");
    if (d.opt.have_case_seed)
        run_one(&d);
    else if (d.opt.insns || random_only || !strcmp(d.opt.mode, "random"))
        run_random(&d);
    else if (!strcmp(d.opt.mode, "targeted") || d.opt.family)
        run_targeted(&d);
    else {
        run_targeted(&d);
        run_random(&d);
    }
    summary(&d, t0);
    runner_stop(&d.bt);
    runner_stop(&d.native32);
    runner_stop(&d.native64);
    runner_stop(&d.qemu);
    return d.failed ? 1 : 0;
}
