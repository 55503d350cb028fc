// SPDX-License-Identifier: MIT
/* Difftest comparison: which state must agree, and how a mismatch is shown
 * (bytes and Capstone disassembly, initial state, every difference). */
#include "tests/difftest/difftest.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const char *const reg_names[8] = {"eax", "ecx", "edx", "ebx",
                                         "esp", "ebp", "esi", "edi"};

/* FXSAVE image fields that are compared: FCW FSW FTW, MXCSR, ST0-7 (ten
 * bytes each), XMM0-7. FOP, FIP/FCS and FDP/FDS are not. */
struct fpu_field {
    const char *name;
    int off, len;
};

static const struct fpu_field fpu_fields[] = {
    {"fcw", 0, 2}, {"fsw", 2, 2}, {"ftw", 4, 1}, {"mxcsr", 24, 4},
    {"st0", 32, 10}, {"st1", 48, 10}, {"st2", 64, 10}, {"st3", 80, 10},
    {"st4", 96, 10}, {"st5", 112, 10}, {"st6", 128, 10}, {"st7", 144, 10},
    {"xmm0", 160, 16}, {"xmm1", 176, 16}, {"xmm2", 192, 16},
    {"xmm3", 208, 16}, {"xmm4", 224, 16}, {"xmm5", 240, 16},
    {"xmm6", 256, 16}, {"xmm7", 272, 16},
};
#define NFPU_FIELDS (int)(sizeof(fpu_fields) / sizeof(fpu_fields[0]))

static bool vector_has_error(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* Is instruction i executed before the case stopped at stop_eip? (Faults
 * stop at the instruction, traps and HLT after it.) */
static bool insn_done(const struct dt_case *c, int i, uint32_t stop_eip)
{
    return DT_CODE_BASE + c->insns[i].off < stop_eip;
}

/* The EFLAGS bits to compare: arithmetic flags and DF, less the flags
 * the SDM leaves undefined after the instructions that ran. */
uint32_t compare_flag_mask(const struct dt_case *c, uint32_t stop_eip)
{
    uint32_t undef = 0;
    for (int i = 0; i < c->ninsns && insn_done(c, i, stop_eip); i++) {
        const struct dt_insn *in = &c->insns[i];
        if (in->skippable)
            undef |= in->undef;
        else
            undef = (undef & ~in->defs) | in->undef;
    }
    return F_COMPARED & ~undef;
}

/* Instructions surely executed (a lower bound: skippable code and repeat
 * counts are not counted). */
uint64_t compare_count_insns(const struct dt_case *c, uint32_t stop_eip)
{
    uint64_t n = 0;
    for (int i = 0; i < c->ninsns && insn_done(c, i, stop_eip); i++)
        n += !c->insns[i].skippable;
    return n;
}

static bool chunks_equal(const struct dt_outcome *a, const struct dt_outcome *b)
{
    if (a->nchunks != b->nchunks)
        return false;
    return memcmp(a->chunks, b->chunks, a->nchunks * sizeof(a->chunks[0])) == 0;
}

static bool fpu_equal(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < NFPU_FIELDS; i++)
        if (memcmp(a + fpu_fields[i].off, b + fpu_fields[i].off,
                   (size_t)fpu_fields[i].len) != 0)
            return false;
    return true;
}

/* Do the reference and bt386 agree? *first_diff names the first thing
 * that differs (for counting by kind). */
bool compare_outcomes(const struct dt_case *c, const struct dt_outcome *ref,
                      const struct dt_outcome *bt, const char **first_diff)
{
    const struct dt_res *a = &ref->res, *b = &bt->res;
    const char *d = NULL;
    uint32_t mask = compare_flag_mask(c, a->eip);
    if (ref->died || bt->died)
        d = ref->died ? (ref->hung ? "reference hung" : "reference died")
                      : (bt->hung ? "bt386 hung" : "bt386 died");
    else if (b->status != 0)
        d = "machine stopped";
    else if (a->vector != b->vector)
        d = "vector";
    else if (vector_has_error(a->vector) && a->error != b->error)
        d = "error code";
    else if (a->eip != b->eip)
        d = "eip";
    else if (memcmp(a->regs, b->regs, sizeof(a->regs)) != 0)
        d = "registers";
    else if ((a->eflags ^ b->eflags) & mask)
        d = "eflags";
    else if (!fpu_equal(a->fpu, b->fpu))
        d = "fpu";
    else if (!chunks_equal(ref, bt))
        d = "memory";
    if (first_diff)
        *first_diff = d;
    return d == NULL;
}

/* Print code with Capstone, one instruction a line: address, bytes, text. */
void disasm_print(const uint8_t *code, uint32_t len, uint32_t addr,
                  const char *indent)
{
    csh cs;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
        return;
    cs_option(cs, CS_OPT_SKIPDATA, CS_OPT_ON);
    cs_insn *insn;
    size_t n = cs_disasm(cs, code, len, addr, 0, &insn);
    for (size_t i = 0; i < n; i++) {
        char hex[64] = "";
        for (int j = 0; j < insn[i].size && j < 15; j++)
            snprintf(hex + 3 * j, sizeof(hex) - 3 * (size_t)j, "%02x ", insn[i].bytes[j]);
        printf("%s%08" PRIx64 "  %-33s %s %s\n", indent, insn[i].address, hex,
               insn[i].mnemonic, insn[i].op_str);
    }
    cs_free(insn, n);
    cs_close(&cs);
}

static void print_initial(const struct dt_case *c)
{
    printf("  initial:");
    for (int r = 0; r < 8; r++)
        printf(" %s=%08x", reg_names[r], c->regs[r]);
    printf(" eflags=%08x\n", c->eflags);
    printf("  initial fpu: fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x\n",
           c->fpu[0] | c->fpu[1] << 8, c->fpu[2] | c->fpu[3] << 8, c->fpu[4],
           c->fpu[24] | c->fpu[25] << 8 | c->fpu[26] << 16 | (uint32_t)c->fpu[27] << 24);
    for (uint32_t p = 0; p < c->init_len;) {
        struct dt_init in;
        memcpy(&in, c->init + p, sizeof(in));
        printf("  memory %08x:", in.addr);
        for (uint32_t i = 0; i < in.len; i++)
            printf(" %02x", c->init[p + sizeof(in) + i]);
        printf("\n");
        p += (uint32_t)sizeof(in) + in.len;
    }
}

static void print_died(const char *who, const struct dt_outcome *o)
{
    if (!o->died)
        return;
    if (o->hung)
        printf("  %s hung: no answer for minutes, killed\n", who);
    else if (WIFSIGNALED(o->wstatus))
        printf("  %s died: signal %d\n", who, WTERMSIG(o->wstatus));
    else
        printf("  %s died: exit status %d\n", who, WEXITSTATUS(o->wstatus));
}

static void print_hex(const uint8_t *p, int n)
{
    for (int i = n - 1; i >= 0; i--)
        printf("%02x", p[i]);
}

static void print_fpu_diffs(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < NFPU_FIELDS; i++) {
        const struct fpu_field *f = &fpu_fields[i];
        if (memcmp(a + f->off, b + f->off, (size_t)f->len) == 0)
            continue;
        printf("    %-6s ref ", f->name);
        print_hex(a + f->off, f->len);
        printf("  bt386 ");
        print_hex(b + f->off, f->len);
        printf("\n");
    }
}

/* Find chunk `index` in an outcome; NULL: equal to the baseline. */
static const uint8_t *chunk_find(const struct dt_outcome *o, uint32_t index)
{
    for (uint32_t i = 0; i < o->nchunks; i++)
        if (o->chunks[i].index == index)
            return o->chunks[i].bytes;
    return NULL;
}

static void print_mem_diffs(const struct dt_outcome *a, const struct dt_outcome *b,
                            const uint8_t *baseline)
{
    int shown = 0;
    for (uint32_t ci = 0; ci < DT_NCHUNKS && shown < 32; ci++) {
        const uint8_t *pa = chunk_find(a, ci), *pb = chunk_find(b, ci);
        if (!pa && !pb)
            continue;
        const uint8_t *base = baseline + ci * DT_CHUNK;
        pa = pa ? pa : base;
        pb = pb ? pb : base;
        for (uint32_t i = 0; i < DT_CHUNK && shown < 32; i++) {
            if (pa[i] == pb[i])
                continue;
            printf("    mem %08x ref %02x  bt386 %02x  (was %02x)\n",
                   dt_mem_addr(ci * DT_CHUNK + i), pa[i], pb[i], base[i]);
            shown++;
        }
    }
}

static const char *vector_name(int v)
{
    static const char *const names[] = {"#DE", "#DB", "NMI", "#BP", "#OF",
        "#BR", "#UD", "#NM", "#DF", "?", "#TS", "#NP", "#SS", "#GP", "#PF",
        "?", "#MF", "#AC", "#MC", "#XM"};
    if (v == DT_VEC_HLT)
        return "hlt";
    return v >= 0 && v < 20 ? names[v] : "?";
}

static void print_diffs(const struct dt_case *c, const struct dt_res *a,
                        const struct dt_res *b)
{
    if (a->vector != b->vector || a->error != b->error || a->eip != b->eip)
        printf("    stop   ref %s(%d) err=%d eip=%08x  bt386 %s(%d) err=%d eip=%08x\n",
               vector_name(a->vector), a->vector, a->error, a->eip,
               vector_name(b->vector), b->vector, b->error, b->eip);
    if (b->status != 0)
        printf("    bt386 machine status %d\n", b->status);
    for (int r = 0; r < 8; r++)
        if (a->regs[r] != b->regs[r])
            printf("    %-6s ref %08x  bt386 %08x\n", reg_names[r], a->regs[r], b->regs[r]);
    uint32_t mask = compare_flag_mask(c, a->eip);
    if ((a->eflags ^ b->eflags) & mask)
        printf("    eflags ref %08x  bt386 %08x  (compared bits %03x, differing %03x)\n",
               a->eflags & F_COMPARED, b->eflags & F_COMPARED, mask,
               (a->eflags ^ b->eflags) & mask);
}

/* Print everything about a mismatch. */
void compare_print(const struct dt_case *c, const struct dt_outcome *ref,
                   const struct dt_outcome *bt, const struct dt_report *rep)
{
    printf("MISMATCH family %s, case seed %" PRIu64 ", reference %s\n",
           rep->family, c->seed, rep->reference);
    disasm_print(c->code, c->code_len, DT_CODE_BASE, "    ");
    print_initial(c);
    printf("  differences:\n");
    print_died("reference", ref);
    print_died("bt386", bt);
    if (ref->died || bt->died)
        return;
    print_diffs(c, &ref->res, &bt->res);
    print_fpu_diffs(ref->res.fpu, bt->res.fpu);
    print_mem_diffs(ref, bt, rep->baseline);
}
