// SPDX-License-Identifier: MIT
/* Emulation of sensitive and rare instructions in C (EXIT_EMULATE). The
 * instruction at v->eip either completes (eip advances) or raises a fault
 * and leaves the registers as they were. */
#include "monitor/monitor.h"
#include "monitor/cpuid.h"
#include "monitor/system.h"
#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "mmu/access.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"

/* CR4 bits the CPU model implements (see cpuid.c): TSD, PSE, PGE,
 * OSFXSR, OSXMMEXCPT. */
#define CR4_SUPPORTED (CR4_TSD | CR4_PSE | CR4_PGE | CR4_OSFXSR | \
                       CR4_OSXMMEXCPT)

#include <stdio.h>
#include <string.h>
#include <x86intrin.h>

const char *const emu_kind_names[EMU_COUNT] = {
    "cli", "sti", "pushf", "popf", "hlt", "in", "out", "ins", "outs",
    "string (slow path)", "int", "iret", "cpuid", "rdtsc", "rdmsr", "wrmsr",
    "mov cr", "mov dr", "lgdt", "lidt", "sgdt", "sidt", "lmsw", "smsw",
    "clts", "invlpg", "mov sreg", "push sreg", "pop sreg", "far jmp",
    "far call", "far ret", "lds/les/lfs/lgs/lss", "pusha", "popa", "enter",
    "other"};

/* Everything one emulation step needs. */
struct emu {
    struct vcpu *v;
    struct insn in;
    uint32_t next; /* EIP of the following instruction */
    int osize;     /* operand size: 2 or 4 */
};

static void count(struct emu *x, enum emu_kind k)
{
    x->v->stats.emulated[k]++;
}

static void done(struct emu *x)
{
    x->v->eip = x->next;
}

static void gp0(struct emu *x)
{
    cpu_exception(x->v, EXC_GP, 0);
}

static void ud(struct emu *x)
{
    cpu_exception(x->v, EXC_UD, -1);
}

static int iopl(const struct vcpu *v)
{
    return (int)((v->eflags & EFL_IOPL) >> 12);
}

/* ---- Operands ---- */

static uint32_t reg_get(const struct vcpu *v, int r, int size)
{
    if (size == 1)
        return r < 4 ? (v->regs[r] & 0xff) : ((v->regs[r - 4] >> 8) & 0xff);
    return size == 2 ? (v->regs[r] & 0xffff) : v->regs[r];
}

static void reg_set(struct vcpu *v, int r, int size, uint32_t val)
{
    if (size == 1 && r < 4)
        v->regs[r] = (v->regs[r] & ~0xffu) | (val & 0xff);
    else if (size == 1)
        v->regs[r - 4] = (v->regs[r - 4] & ~0xff00u) | ((val & 0xff) << 8);
    else if (size == 2)
        v->regs[r] = (v->regs[r] & ~0xffffu) | (val & 0xffff);
    else
        v->regs[r] = val;
}

/* Linear address of the memory operand. */
static uint32_t emu_ea(const struct emu *x)
{
    return insn_linear(x->v, &x->in);
}

/* Read the r/m operand; false if the access faulted. */
static bool rm_read(struct emu *x, int size, uint32_t *val)
{
    *val = 0;
    if (!x->in.has_mem) {
        *val = reg_get(x->v, x->in.rm, size);
        return true;
    }
    return mmu_read(x->v, emu_ea(x), val, (unsigned)size) == 0;
}

static bool rm_write(struct emu *x, int size, uint32_t val)
{
    if (!x->in.has_mem) {
        reg_set(x->v, x->in.rm, size, val);
        return true;
    }
    return mmu_write(x->v, emu_ea(x), &val, (unsigned)size) == 0;
}

static uint32_t imm(const struct insn *in, int off, int size)
{
    uint32_t v = 0;
    memcpy(&v, &in->bytes[in->imm_off + off], (size_t)size);
    return v;
}

/* ---- Flags and interrupts ---- */

static void emu_cli(struct emu *x)
{
    count(x, EMU_CLI);
    if (cpu_protected_mode(x->v) ? x->v->cpl > iopl(x->v)
                             : ((x->v->eflags & EFL_VM) && iopl(x->v) < 3)) {
        gp0(x);
        return;
    }
    x->v->eflags &= ~EFL_IF;
    done(x);
}

static void emu_sti(struct emu *x)
{
    count(x, EMU_STI);
    if (cpu_protected_mode(x->v) ? x->v->cpl > iopl(x->v)
                             : ((x->v->eflags & EFL_VM) && iopl(x->v) < 3)) {
        gp0(x);
        return;
    }
    if (!(x->v->eflags & EFL_IF))
        x->v->intr_shadow = true;
    x->v->eflags |= EFL_IF;
    done(x);
}

static void emu_pushf(struct emu *x)
{
    count(x, EMU_PUSHF);
    if ((x->v->eflags & EFL_VM) && iopl(x->v) < 3) {
        gp0(x);
        return;
    }
    if (cpu_push(x->v, x->v->eflags & ~(EFL_VM | EFL_RF), x->osize))
        done(x);
}

/* POPF setting IF opens the interrupt window at once: unlike STI it
 * holds nothing off (SDM: only STI, MOV SS and POP SS do). */
static void set_flags(struct vcpu *v, uint32_t val, uint32_t mask)
{
    v->eflags = (v->eflags & ~mask) | (val & mask) | EFL_FIXED;
}

static void emu_popf(struct emu *x)
{
    count(x, EMU_POPF);
    uint32_t val;
    if ((x->v->eflags & EFL_VM) && iopl(x->v) < 3) {
        gp0(x);
        return;
    }
    if (!cpu_pop(x->v, &val, x->osize))
        return;
    set_flags(x->v, val, cpu_flags_writable(x->v, x->osize));
    done(x);
}

static void emu_hlt(struct emu *x)
{
    count(x, EMU_HLT);
    if (x->v->cpl > 0) {
        gp0(x);
        return;
    }
    done(x);
    if (x->v->test_stop_on_hlt)
        cpu_shutdown(x->v, 0, NULL);
    else
        x->v->halted = true;
}

/* INT n is IOPL-sensitive in virtual-8086 mode; INT3 and INTO are not
 * (they go through the IDT, whose gate DPL decides). */
static void emu_int(struct emu *x, int vector, bool iopl_sensitive)
{
    count(x, EMU_INT);
    if ((x->v->eflags & EFL_VM) && iopl(x->v) < 3 && iopl_sensitive) {
        gp0(x);
        return;
    }
    cpu_soft_interrupt(x->v, vector, x->next);
}

/* IRET: real mode pops IP, CS, FLAGS; protected mode checks and may
 * return to an outer level (monitor/exception.c). */
static void emu_iret(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t eip, cs, flags, esp0 = v->regs[R_ESP];
    count(x, EMU_IRET);
    if (cpu_protected_mode(v)) {
        if (v->eflags & EFL_NT)
            cpu_task_return(v, x->next);
        else
            cpu_iret(v, x->osize);
        return;
    }
    if ((v->eflags & EFL_VM) && iopl(v) < 3) {
        gp0(x);
        return;
    }
    if (!cpu_pop(v, &eip, x->osize) || !cpu_pop(v, &cs, x->osize) ||
        !cpu_pop(v, &flags, x->osize)) {
        v->regs[R_ESP] = esp0;
        return;
    }
    uint32_t mask = cpu_flags_writable(v, x->osize) | (x->osize == 4 ? EFL_RF : 0);
    cpu_far_jump(v, (uint16_t)cs, eip);
    set_flags(v, flags, mask);
}

/* ---- Port I/O ---- */

static uint32_t io_in(struct vcpu *v, uint16_t port, int size)
{
    return v->io_read ? v->io_read(v->io_opaque, port, (unsigned)size) : ~0u;
}

static void io_out(struct vcpu *v, uint16_t port, int size, uint32_t val)
{
    if (v->io_write)
        v->io_write(v->io_opaque, port, (unsigned)size, val);
}


static void emu_in_out(struct emu *x, uint8_t op)
{
    struct vcpu *v = x->v;
    int size = (op & 1) ? x->osize : 1;
    uint16_t port = (op & 8) ? (uint16_t)v->regs[R_EDX] : (uint16_t)imm(&x->in, 0, 1);
    bool out = op & 2;
    count(x, out ? EMU_OUT : EMU_IN);
    if (!cpu_io_allowed(v, port, size)) {
        gp0(x);
        return;
    }
    if (out)
        io_out(v, port, size, reg_get(v, R_EAX, size));
    else
        reg_set(v, R_EAX, size, io_in(v, port, size));
    done(x);
}

/* ---- String instructions (slow path) ---- */

/* Flags of a - b at size, computed by the host CPU itself. */
static uint32_t flags_sub(uint32_t a, uint32_t b, int size)
{
    uint64_t f;
    if (size == 1)
        __asm__("cmpb %b2, %b1; pushfq; popq %0" : "=r"(f) : "q"(a), "q"(b) : "cc");
    else if (size == 2)
        __asm__("cmpw %w2, %w1; pushfq; popq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
    else
        __asm__("cmpl %2, %1; pushfq; popq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
    return (uint32_t)f & (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF);
}

static uint32_t index_reg(const struct emu *x, int r)
{
    return x->in.addr16 ? (x->v->regs[r] & 0xffff) : x->v->regs[r];
}

static void index_step(struct emu *x, int r, int size)
{
    uint32_t d = (x->v->eflags & EFL_DF) ? (uint32_t)-size : (uint32_t)size;
    reg_set(x->v, r, x->in.addr16 ? 2 : 4, x->v->regs[r] + d);
}

/* One iteration of string op `op`; false if it faulted. Sets *stop for
 * REPE/REPNE termination. */
static bool string_step(struct emu *x, uint8_t op, int size, bool *stop)
{
    struct vcpu *v = x->v;
    int sseg = x->in.seg_override >= 0 ? x->in.seg_override : SEG_DS;
    uint32_t src = v->seg[sseg].base + index_reg(x, R_ESI);
    uint32_t dst = v->seg[SEG_ES].base + index_reg(x, R_EDI);
    uint32_t a = 0, b = 0;
    bool si = false, di = false;
    switch (op) {
    case 0x6c: case 0x6d: /* ins */
        a = io_in(v, (uint16_t)v->regs[R_EDX], size);
        if (mmu_write(v, dst, &a, (unsigned)size)) return false;
        di = true;
        break;
    case 0x6e: case 0x6f: /* outs */
        if (mmu_read(v, src, &a, (unsigned)size)) return false;
        io_out(v, (uint16_t)v->regs[R_EDX], size, a);
        si = true;
        break;
    case 0xa4: case 0xa5: /* movs */
        if (mmu_read(v, src, &a, (unsigned)size) || mmu_write(v, dst, &a, (unsigned)size))
            return false;
        si = di = true;
        break;
    case 0xa6: case 0xa7: /* cmps */
        if (mmu_read(v, src, &a, (unsigned)size) || mmu_read(v, dst, &b, (unsigned)size))
            return false;
        set_flags(v, flags_sub(a, b, size), EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF);
        si = di = true;
        break;
    case 0xaa: case 0xab: /* stos */
        a = reg_get(v, R_EAX, size);
        if (mmu_write(v, dst, &a, (unsigned)size)) return false;
        di = true;
        break;
    case 0xac: case 0xad: /* lods */
        if (mmu_read(v, src, &a, (unsigned)size)) return false;
        reg_set(v, R_EAX, size, a);
        si = true;
        break;
    case 0xae: case 0xaf: /* scas */
        if (mmu_read(v, dst, &b, (unsigned)size)) return false;
        set_flags(v, flags_sub(reg_get(v, R_EAX, size), b, size),
                  EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF);
        di = true;
        break;
    }
    if (si)
        index_step(x, R_ESI, size);
    if (di)
        index_step(x, R_EDI, size);
    bool cmp = op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf;
    bool zf = v->eflags & EFL_ZF;
    *stop = cmp && ((x->in.rep && !zf) || (x->in.repne && zf));
    return true;
}

/* Elements of a REP string instruction done per trip to the monitor. */
#define STRING_CHUNK 65536

/*
 * Guest RAM reachable from linear la for an access of this kind, walking
 * up: the bytes to the end of la's page, extended over following pages
 * while they are physically contiguous (at most `want` bytes, 64 pages).
 * Returns the byte count with *host set, or 0 if la itself is not plain
 * accessible RAM (the caller then takes the one-element C path, which
 * raises any fault precisely).
 */
static uint32_t ram_run(struct vcpu *v, uint32_t la, uint32_t want, bool write,
                        uint8_t **host)
{
    unsigned acc = (write ? ACC_WRITE : 0) | (v->cpl == 3 ? ACC_USER : 0);
    struct walk w;
    uint32_t err, pa0, bytes;
    if (mmu_walk(v, la, acc, &w, &err) != 0)
        return 0;
    pa0 = w.pa;
    bytes = 4096 - (la & 0xfff);
    for (int pages = 1; bytes < want && pages < 64; pages++) {
        if (mmu_walk(v, la + bytes, acc, &w, &err) != 0 || w.pa != pa0 + bytes)
            break;
        bytes += 4096;
    }
    if (bytes > want)
        bytes = want;
    if ((uint64_t)pa0 + bytes > v->ram_size)
        return 0;
    if (write && v->dbt)
        dbt_note_write(v->dbt, v, pa0, bytes);
    *host = v->ram + pa0;
    return bytes;
}

/* Elements of `size` from la to the end of its page in direction `down`. */
static uint32_t page_room(uint32_t la, int size, bool down)
{
    uint32_t off = la & 0xfff;
    return down ? off / (uint32_t)size + 1 : (4096 - off) / (uint32_t)size;
}

/* The host's REP MOVS of n elements of `size`, walking down if `down`:
 * element by element exactly as the guest's, overlap included. */
static void host_rep_movs(uint8_t *d, const uint8_t *s, uint64_t n, int size,
                          bool down)
{
    if (down)
        __asm__ volatile("std" ::: "cc");
    if (size == 1)
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    else if (size == 2)
        __asm__ volatile("rep movsw" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    else
        __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    if (down)
        __asm__ volatile("cld" ::: "cc");
}

/* The host's REP STOS of n elements of `size` with value val. */
static void host_rep_stos(uint8_t *d, uint32_t val, uint64_t n, int size,
                          bool down)
{
    if (down)
        __asm__ volatile("std" ::: "cc");
    if (size == 1)
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(val) : "memory");
    else if (size == 2)
        __asm__ volatile("rep stosw" : "+D"(d), "+c"(n) : "a"(val) : "memory");
    else
        __asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(val) : "memory");
    if (down)
        __asm__ volatile("cld" ::: "cc");
}

/*
 * REP MOVS/STOS over RAM: as many elements as lie in physically
 * contiguous RAM for both source and destination (walking down: within
 * one page), done by the host's own string instruction on host pointers,
 * so overlap and DF behave exactly as on hardware. Returns the number of
 * elements done; 0 means "do one in C".
 */
static uint32_t string_chunk(struct emu *x, uint8_t op, int size)
{
    struct vcpu *v = x->v;
    bool movs = op == 0xa4 || op == 0xa5, down = v->eflags & EFL_DF;
    if ((!movs && op != 0xaa && op != 0xab) || x->in.addr16)
        return 0;
    int sseg = x->in.seg_override >= 0 ? x->in.seg_override : SEG_DS;
    uint32_t dst = v->seg[SEG_ES].base + v->regs[R_EDI];
    uint32_t src = v->seg[sseg].base + v->regs[R_ESI];
    uint32_t n = v->regs[R_ECX];
    uint8_t *d = NULL, *sp = NULL;
    if (down) { /* within one page each, walking down */
        uint32_t room = page_room(dst, size, true);
        if (movs && page_room(src, size, true) < room)
            room = page_room(src, size, true);
        n = n < room ? n : room;
        uint32_t back = (n - 1) * (uint32_t)size;
        if (n == 0 || !ram_run(v, dst - back, n * (uint32_t)size, true, &d) ||
            (movs && !ram_run(v, src - back, n * (uint32_t)size, false, &sp)))
            return 0;
        d += back;
        sp = movs ? sp + back : sp;
    } else {
        uint64_t want64 = (uint64_t)n * (uint32_t)size;
        uint32_t want = want64 > (1u << 30) ? (1u << 30) : (uint32_t)want64;
        uint32_t bytes = ram_run(v, dst, want, true, &d);
        if (movs && bytes)
            bytes = ram_run(v, src, bytes, false, &sp);
        n = bytes / (uint32_t)size < n ? bytes / (uint32_t)size : n;
        if (n == 0)
            return 0;
    }
    if (movs)
        host_rep_movs(d, sp, n, size, down);
    else
        host_rep_stos(d, reg_get(v, R_EAX, size), n, size, down);
    uint32_t span = n * (uint32_t)size, delta = down ? (uint32_t)-span : span;
    v->regs[R_EDI] += delta;
    if (movs)
        v->regs[R_ESI] += delta;
    v->regs[R_ECX] -= n;
    return n;
}

static void emu_string(struct emu *x, uint8_t op)
{
    struct vcpu *v = x->v;
    int size = (op & 1) ? x->osize : 1;
    bool io = op >= 0x6c && op <= 0x6f;
    bool rep = x->in.rep || x->in.repne;
    count(x, io ? ((op & 2) ? EMU_OUTS : EMU_INS) : EMU_STRING);
    if (io && !cpu_io_allowed(v, (uint16_t)v->regs[R_EDX], size)) {
        gp0(x);
        return;
    }
    int csize = x->in.addr16 ? 2 : 4;
    for (unsigned n = 0;; n++) {
        if (rep && reg_get(v, R_ECX, csize) == 0)
            break;
        /* A long REP is interruptible between iterations, as on hardware:
         * leave EIP on the instruction and let the run loop come back. */
        if (n >= STRING_CHUNK)
            return;
        uint32_t k = rep ? string_chunk(x, op, size) : 0;
        if (k) {
            n += k - 1;
            continue;
        }
        bool stop = false;
        if (!string_step(x, op, size, &stop))
            return; /* faulted: registers reflect the iterations done */
        if (!rep)
            break;
        reg_set(v, R_ECX, csize, reg_get(v, R_ECX, csize) - 1);
        if (stop)
            break;
    }
    done(x);
}

/* ---- Segments and far transfers ---- */

static void emu_mov_sreg(struct emu *x, uint8_t op)
{
    uint32_t val;
    count(x, EMU_MOV_SREG);
    if (x->in.reg >= SEG_COUNT || (op == 0x8e && x->in.reg == SEG_CS)) {
        ud(x);
        return;
    }
    if (op == 0x8c) {
        int size = x->in.has_mem ? 2 : x->osize;
        if (rm_write(x, size, x->v->seg[x->in.reg].sel))
            done(x);
        return;
    }
    if (!rm_read(x, 2, &val) || cpu_load_seg(x->v, x->in.reg, (uint16_t)val))
        return;
    if (x->in.reg == SEG_SS)
        x->v->intr_shadow = x->v->db_shadow = true;
    done(x);
}

static void emu_push_sreg(struct emu *x, int seg)
{
    count(x, EMU_PUSH_SREG);
    if (cpu_push(x->v, x->v->seg[seg].sel, x->osize))
        done(x);
}

static void emu_pop_sreg(struct emu *x, int seg)
{
    uint32_t sel, esp0 = x->v->regs[R_ESP];
    count(x, EMU_POP_SREG);
    if (!cpu_pop(x->v, &sel, x->osize))
        return;
    if (cpu_load_seg(x->v, seg, (uint16_t)sel) != 0) {
        x->v->regs[R_ESP] = esp0;
        return;
    }
    if (seg == SEG_SS)
        x->v->intr_shadow = x->v->db_shadow = true;
    done(x);
}

/* Far pointer (offset, then selector) from memory or the immediate. */
static bool far_pointer(struct emu *x, bool from_mem, uint32_t *off,
                        uint16_t *sel)
{
    if (!from_mem) {
        *off = imm(&x->in, 0, x->osize);
        *sel = (uint16_t)imm(&x->in, x->osize, 2);
        return true;
    }
    if (!x->in.has_mem) {
        ud(x);
        return false;
    }
    uint32_t ea = emu_ea(x), s = 0;
    *off = 0;
    if (mmu_read(x->v, ea, off, (unsigned)x->osize) ||
        mmu_read(x->v, ea + (uint32_t)x->osize, &s, 2))
        return false;
    *sel = (uint16_t)s;
    return true;
}

/* Is sel (protected mode) a call gate? Its descriptor goes to *g. */
static bool is_call_gate(struct vcpu *v, uint16_t sel, uint64_t *g)
{
    uint32_t addr;
    if (!cpu_protected_mode(v) || (sel & ~3) == 0 || !read_desc(v, sel, g, &addr))
        return false;
    unsigned type = (unsigned)(*g >> 40) & 0x1f; /* S bit and type */
    return type == 0x04 || type == 0x0c;
}

static void emu_far_jmp(struct emu *x, bool from_mem)
{
    uint32_t off;
    uint16_t sel;
    uint64_t g;
    count(x, EMU_FAR_JMP);
    int r;
    if (!far_pointer(x, from_mem, &off, &sel))
        return;
    if (cpu_far_task(x->v, sel, false, x->next, &r))
        return;
    if (is_call_gate(x->v, sel, &g))
        cpu_call_gate(x->v, sel, g, x->next, false);
    else
        cpu_far_jump(x->v, sel, off);
}

static void emu_far_call(struct emu *x, bool from_mem)
{
    struct vcpu *v = x->v;
    uint32_t off, esp0 = v->regs[R_ESP];
    uint16_t sel, old_cs = v->seg[SEG_CS].sel;
    uint64_t g;
    count(x, EMU_FAR_CALL);
    int r;
    if (!far_pointer(x, from_mem, &off, &sel))
        return;
    if (cpu_far_task(v, sel, true, x->next, &r))
        return;
    if (is_call_gate(v, sel, &g)) {
        if (cpu_call_gate(v, sel, g, x->next, true) != 0)
            v->regs[R_ESP] = esp0;
        return;
    }
    if (!cpu_push(v, old_cs, x->osize) || !cpu_push(v, x->next, x->osize) ||
        cpu_far_jump(v, sel, off) != 0)
        v->regs[R_ESP] = esp0;
}

static void emu_far_ret(struct emu *x, uint16_t release)
{
    struct vcpu *v = x->v;
    uint32_t eip, cs, esp0 = v->regs[R_ESP];
    count(x, EMU_FAR_RET);
    if (cpu_protected_mode(v)) {
        cpu_far_return(v, x->osize, release);
        return;
    }
    if (!cpu_pop(v, &eip, x->osize) || !cpu_pop(v, &cs, x->osize) ||
        cpu_far_jump(v, (uint16_t)cs, eip) != 0) {
        v->regs[R_ESP] = esp0;
        return;
    }
    v->regs[R_ESP] += release;
}

/* LDS/LES/LFS/LGS/LSS r, m16:32. */
static void emu_load_far(struct emu *x, int seg)
{
    uint32_t off;
    uint16_t sel;
    count(x, EMU_LXS);
    if (!far_pointer(x, true, &off, &sel))
        return;
    if (cpu_load_seg(x->v, seg, sel) != 0)
        return;
    reg_set(x->v, x->in.reg, x->osize, off);
    done(x);
}

/* ---- Stack frames ---- */

static void emu_pusha(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t esp0 = v->regs[R_ESP];
    count(x, EMU_PUSHA);
    for (int r = R_EAX; r <= R_EDI; r++) {
        uint32_t val = r == R_ESP ? esp0 : v->regs[r];
        if (!cpu_push(v, val, x->osize)) {
            v->regs[R_ESP] = esp0;
            return;
        }
    }
    done(x);
}

static void emu_popa(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t saved[8], val;
    memcpy(saved, v->regs, sizeof(saved));
    count(x, EMU_POPA);
    for (int r = R_EDI; r >= R_EAX; r--) {
        if (!cpu_pop(v, &val, x->osize)) {
            memcpy(v->regs, saved, sizeof(saved));
            return;
        }
        if (r != R_ESP)
            reg_set(v, r, x->osize, val);
    }
    done(x);
}

static void emu_enter(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t saved[8];
    uint16_t alloc = (uint16_t)imm(&x->in, 0, 2);
    int level = imm(&x->in, 2, 1) & 31;
    memcpy(saved, v->regs, sizeof(saved));
    count(x, EMU_ENTER);
    if (!cpu_push(v, v->regs[R_EBP], x->osize))
        return;
    uint32_t frame = v->regs[R_ESP];
    for (int i = 1; i < level; i++) {
        uint32_t val = 0, ebp = saved[R_EBP] - (uint32_t)(i * x->osize);
        if (mmu_read(v, v->seg[SEG_SS].base + ebp, &val, (unsigned)x->osize) ||
            !cpu_push(v, val, x->osize))
            goto undo;
    }
    if (level > 0 && !cpu_push(v, frame, x->osize))
        goto undo;
    reg_set(v, R_EBP, x->osize, frame);
    v->regs[R_ESP] -= alloc;
    done(x);
    return;
undo:
    memcpy(v->regs, saved, sizeof(saved));
}

/* ---- BCD adjust and other rare one-byte instructions ---- */

#define ARITH_FLAGS (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

/* SF, ZF, PF of a byte result; other flags from `rest`. */
static void set_szp(struct vcpu *v, uint8_t r, uint32_t rest)
{
    uint32_t f = rest;
    if (r == 0)
        f |= EFL_ZF;
    if (r & 0x80)
        f |= EFL_SF;
    if (!(__builtin_popcount(r) & 1))
        f |= EFL_PF;
    v->eflags = (v->eflags & ~ARITH_FLAGS) | f | EFL_FIXED;
}

/* OF, SF, ZF, PF, AF and CF of a + b (or a - b) at `bits` (8 or 16). */
static uint32_t alu_flags(uint32_t a, uint32_t b, bool sub, int bits)
{
    uint32_t mask = (1u << bits) - 1, sign = 1u << (bits - 1);
    uint32_t r = (sub ? a - b : a + b), f = 0;
    if (sub ? b > a : (r & ~mask) != 0)
        f |= EFL_CF;
    r &= mask;
    if (((a ^ b ^ r) & 0x10))
        f |= EFL_AF;
    if (sub ? ((a ^ b) & (a ^ r) & sign) : ((a ^ r) & (b ^ r) & sign))
        f |= EFL_OF;
    if (r == 0)
        f |= EFL_ZF;
    if (r & sign)
        f |= EFL_SF;
    if (!(__builtin_popcount(r & 0xff) & 1))
        f |= EFL_PF;
    return f;
}

#define OSZP (EFL_OF | EFL_SF | EFL_ZF | EFL_PF)

static void set_arith_flags(struct vcpu *v, uint32_t f)
{
    v->eflags = (v->eflags & ~ARITH_FLAGS) | f | EFL_FIXED;
}

/*
 * AAA (0x37) and AAS (0x3F), as the SDM's pseudo-code. The flags the SDM
 * leaves undefined (OF, SF, ZF, PF) are what the processor does, as
 * measured on an AMD EPYC host: those of the 16-bit AX + 106H (AX -
 * 106H), or of AX + 0 when no adjustment is made. Code that reads them
 * then behaves the same as there.
 */
static void emu_aaa_aas(struct emu *x, bool sub)
{
    struct vcpu *v = x->v;
    uint32_t ax = v->regs[R_EAX] & 0xffff, f = 0;
    bool adjust = (ax & 0xf) > 9 || (v->eflags & EFL_AF);
    f = alu_flags(ax, adjust ? 0x106 : 0, sub, 16) & OSZP;
    if (adjust) {
        /* The current SDM: AAS is AX <- AX - 6; AH <- AH - 1 (the borrow
         * from AL reaches AH); AAA is AX <- AX + 106H. */
        ax = sub ? ((ax - 6) - 0x100) & 0xffff : ax + 0x106;
        f |= EFL_AF | EFL_CF;
    }
    ax = (ax & 0xff00) | (ax & 0xf);
    reg_set(v, R_EAX, 2, ax);
    set_arith_flags(v, f);
    done(x);
}

/* DAA (0x27) and DAS (0x2F). */
static void emu_daa_das(struct emu *x, bool sub)
{
    struct vcpu *v = x->v;
    uint8_t al = (uint8_t)v->regs[R_EAX], old_al = al;
    bool old_cf = v->eflags & EFL_CF;
    uint32_t f = 0;
    if ((al & 0xf) > 9 || (v->eflags & EFL_AF)) {
        bool carry = sub ? al < 6 : al > 0xf9;
        al = (uint8_t)(sub ? al - 6 : al + 6);
        f |= EFL_AF | ((old_cf || carry) ? EFL_CF : 0);
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
        f |= EFL_CF;
    }
    /* OF (undefined) as measured: that of one 8-bit add (sub) of the
     * whole adjustment; SF, ZF, PF follow from the result either way. */
    uint8_t adjust = (uint8_t)(sub ? old_al - al : al - old_al);
    f |= alu_flags(old_al, adjust, sub, 8) & OSZP;
    reg_set(v, R_EAX, 1, al);
    set_arith_flags(v, f);
    done(x);
}

/* AAM imm8 (0xD4) and AAD imm8 (0xD5). */
static void emu_aam_aad(struct emu *x, bool aad)
{
    struct vcpu *v = x->v;
    uint8_t base = (uint8_t)imm(&x->in, 0, 1);
    uint8_t al = (uint8_t)v->regs[R_EAX], ah = (uint8_t)(v->regs[R_EAX] >> 8);
    if (!aad && base == 0) {
        cpu_exception(v, EXC_DE, -1);
        return;
    }
    if (aad) {
        /* All six flags as the host sets them: those of the 8-bit add
         * AL + AH * imm8 (OF, AF and CF are undefined in the SDM). */
        uint8_t t = (uint8_t)(ah * base);
        set_arith_flags(v, alu_flags(al, t, false, 8));
        al = (uint8_t)(al + t);
        ah = 0;
        reg_set(v, R_EAX, 2, al);
        done(x);
        return;
    }
    ah = al / base; /* AAM: OF, AF, CF clear, as the host leaves them */
    al = al % base;
    reg_set(v, R_EAX, 2, (uint32_t)ah << 8 | al);
    set_szp(v, al, 0);
    done(x);
}

/* BOUND r, m (0x62): #BR when the signed index is outside [lower, upper]. */
static void emu_bound(struct emu *x)
{
    int32_t lo = 0, hi = 0, idx;
    uint32_t ea;
    if (!x->in.has_mem) {
        ud(x); /* register form: EVEX on later CPUs, #UD on a P6 */
        return;
    }
    ea = emu_ea(x);
    if (mmu_read(x->v, ea, &lo, (unsigned)x->osize) ||
        mmu_read(x->v, ea + (uint32_t)x->osize, &hi, (unsigned)x->osize))
        return;
    idx = (int32_t)x->v->regs[x->in.reg];
    if (x->osize == 2) {
        lo = (int16_t)lo;
        hi = (int16_t)hi;
        idx = (int16_t)idx;
    }
    if (idx < lo || idx > hi)
        cpu_exception(x->v, EXC_BR, -1);
    else
        done(x);
}

/* ARPL r/m16, r16 (0x63): raise the destination selector's RPL. */
static void emu_arpl(struct emu *x)
{
    uint32_t dst;
    if (!cpu_protected_mode(x->v)) {
        ud(x);
        return;
    }
    if (!rm_read(x, 2, &dst))
        return;
    uint32_t src = x->v->regs[x->in.reg] & 3;
    if ((dst & 3) < src) {
        if (!rm_write(x, 2, (dst & ~3u) | src))
            return;
        x->v->eflags |= EFL_ZF;
    } else {
        x->v->eflags &= ~EFL_ZF;
    }
    done(x);
}

/*
 * PUSH m, POP m and near CALL m, for the slow path (monitor/slowmem.c):
 * they have two accesses, the operand and the stack slot, and the bounce
 * buffer holds one. In the SDM's order: PUSH and CALL read the operand
 * first; POP reads the stack, then computes the operand's address with
 * ESP already advanced, and leaves ESP as it was if the write faults.
 */
static void emu_push_rm(struct emu *x)
{
    uint32_t val;
    if (rm_read(x, x->osize, &val) && cpu_push(x->v, val, x->osize))
        done(x);
}

static void emu_pop_rm(struct emu *x)
{
    uint32_t val, esp0 = x->v->regs[R_ESP];
    if (!cpu_pop(x->v, &val, x->osize))
        return;
    if (!rm_write(x, x->osize, val)) {
        x->v->regs[R_ESP] = esp0;
        return;
    }
    done(x);
}

static void emu_call_rm(struct emu *x)
{
    uint32_t target;
    if (!rm_read(x, x->osize, &target))
        return;
    if (x->osize == 2)
        target &= 0xffff;
    if (target > x->v->seg[SEG_CS].limit) {
        gp0(x);
        return;
    }
    if (cpu_push(x->v, x->next, x->osize))
        x->v->eip = target;
}

/* LEAVE, for the slow path: its pop (at EBP) crosses a page or has no
 * RAM. ESP stays as it was if the pop faults. */
static void emu_leave(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t esp0 = v->regs[R_ESP], val;
    if (v->seg[SEG_SS].attr & SEG_ATTR_DB)
        v->regs[R_ESP] = v->regs[R_EBP];
    else
        v->regs[R_ESP] = (esp0 & 0xffff0000u) | (v->regs[R_EBP] & 0xffff);
    if (!cpu_pop(v, &val, x->osize)) {
        v->regs[R_ESP] = esp0;
        return;
    }
    reg_set(v, R_EBP, x->osize, val);
    done(x);
}

static bool emulate_rare(struct emu *x, uint8_t op)
{
    switch (op) {
    case 0xc9: emu_leave(x); return true;
    case 0x8f:
        if (x->in.reg != 0)
            return false;
        emu_pop_rm(x);
        return true;
    case 0xff:
        if (x->in.reg == 2)
            emu_call_rm(x);
        else if (x->in.reg == 6)
            emu_push_rm(x);
        else
            return false;
        return true;
    case 0x27: emu_daa_das(x, false); return true;
    case 0x2f: emu_daa_das(x, true); return true;
    case 0x37: emu_aaa_aas(x, false); return true;
    case 0x3f: emu_aaa_aas(x, true); return true;
    case 0xd4: emu_aam_aad(x, false); return true;
    case 0xd5: emu_aam_aad(x, true); return true;
    case 0x62: emu_bound(x); return true;
    case 0x63: emu_arpl(x); return true;
    case 0xd6: /* SALC: AL = CF ? 0xFF : 0, flags unchanged */
        reg_set(x->v, R_EAX, 1, (x->v->eflags & EFL_CF) ? 0xff : 0);
        done(x);
        return true;
    case 0xf1: /* INT1 (ICEBP): #DB as a trap, without the IDT DPL check */
        cpu_soft_interrupt(x->v, EXC_DB, x->next);
        return true;
    }
    return false;
}

/* ---- The 0F page ---- */

static void emu_mov_cr(struct emu *x, bool to_cr)
{
    struct vcpu *v = x->v;
    int cr = x->in.reg;
    count(x, EMU_MOV_CR);
    if (cr == 1 || cr > 4) {
        ud(x);
        return;
    }
    if (v->cpl > 0) {
        gp0(x);
        return;
    }
    uint32_t *crs[5] = {&v->cr0, NULL, &v->cr2, &v->cr3, &v->cr4};
    v->stats.mov_cr[cr][to_cr]++;
    if (!to_cr) {
        v->regs[x->in.rm] = *crs[cr];
        done(x);
        return;
    }
    uint32_t val = v->regs[x->in.rm];
    if (cr == 0 && (val & CR0_PG) && !(val & CR0_PE)) {
        gp0(x); /* paging without protection */
        return;
    }
    if (cr == 4 && (val & ~CR4_SUPPORTED)) {
        gp0(x); /* reserved or unsupported CR4 bits */
        return;
    }
    if (cr == 0) {
        cpu_set_cr0(v, val);
    } else {
        uint32_t old = *crs[cr];
        *crs[cr] = val;
        /* A CR3 load drops the TLB but for global pages (with CR4.PGE);
         * a change of CR4.PSE/PGE drops it all. */
        if (cr == 3 && (v->cr4 & CR4_PGE))
            cpu_cr3_loaded(v);
        else if (cr == 3 || (cr == 4 && ((old ^ val) & (CR4_PSE | CR4_PGE))))
            cpu_paging_changed(v, true);
        if (cr == 4 && ((old ^ val) & (CR4_OSFXSR | CR4_TSD)))
            vcpu_jc_clear(v); /* translation mode bit changed */
    }
    done(x);
}

/* LGDT/LIDT/SGDT/SIDT: 16-bit limit, then 32-bit base (24 bits with a
 * 16-bit operand size). */
static void emu_table_reg(struct emu *x, bool load, bool idt)
{
    struct vcpu *v = x->v;
    count(x, load ? (idt ? EMU_LIDT : EMU_LGDT) : (idt ? EMU_SIDT : EMU_SGDT));
    if (!x->in.has_mem) {
        ud(x);
        return;
    }
    if (load && v->cpl > 0) {
        gp0(x);
        return;
    }
    __typeof__(v->gdtr) *t = idt ? &v->idtr : &v->gdtr;
    uint32_t ea = emu_ea(x), base = 0;
    uint16_t limit = 0;
    if (load) {
        if (mmu_read(v, ea, &limit, 2) || mmu_read(v, ea + 2, &base, 4))
            return;
        t->limit = limit;
        t->base = x->osize == 2 ? (base & 0xffffff) : base;
    } else {
        if (mmu_write(v, ea, &t->limit, 2) || mmu_write(v, ea + 2, &t->base, 4))
            return;
    }
    done(x);
}

static void emu_group7(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t val;
    switch (x->in.reg) {
    case 0: case 1: case 2: case 3:
        emu_table_reg(x, x->in.reg >= 2, x->in.reg & 1);
        return;
    case 4: /* SMSW */
        count(x, EMU_SMSW);
        if (rm_write(x, x->in.has_mem ? 2 : x->osize, v->cr0))
            done(x);
        return;
    case 6: /* LMSW: PE can be set but not cleared */
        count(x, EMU_LMSW);
        if (v->cpl > 0) {
            gp0(x);
            return;
        }
        if (!rm_read(x, 2, &val))
            return;
        cpu_set_cr0(v, (v->cr0 & ~0xeu) | (val & 0xf) | (v->cr0 & CR0_PE));
        done(x);
        return;
    case 7: /* INVLPG: drop the shadow entries of one page */
        count(x, EMU_INVLPG);
        if (!x->in.has_mem) {
            ud(x);
            return;
        }
        if (v->cpl > 0) {
            gp0(x);
            return;
        }
        if (v->shadow) {
            uint32_t la = emu_ea(x);
            shadow_invlpg(v->shadow, la);
            v->stats.shadow_invlpgs++;
            vcpu_jc_clear_page(v, la);
        }
        done(x);
        return;
    }
    ud(x);
}

static void emu_cpuid(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t out[4];
    count(x, EMU_CPUID);
    cpuid_query(v->regs[R_EAX], v->regs[R_ECX], out);
    v->regs[R_EAX] = out[0];
    v->regs[R_EBX] = out[1];
    v->regs[R_ECX] = out[2];
    v->regs[R_EDX] = out[3];
    done(x);
}

static void emu_rdtsc(struct emu *x)
{
    count(x, EMU_RDTSC);
    if ((x->v->cr4 & 0x4) && x->v->cpl > 0) { /* CR4.TSD */
        gp0(x);
        return;
    }
    uint64_t tsc = __rdtsc() + x->v->tsc_offset;
    x->v->regs[R_EAX] = (uint32_t)tsc;
    x->v->regs[R_EDX] = (uint32_t)(tsc >> 32);
    done(x);
}

/* MASKMOVQ mm, mm / MASKMOVDQU xmm, xmm (0F F7): store the bytes of the
 * first register whose mask byte (second register) has its top bit set,
 * at DS:[EDI] (the registers come from the guest's FXSAVE image). */
static void emu_maskmov(struct emu *x)
{
    struct vcpu *v = x->v;
    bool xmm = x->in.op16; /* the 66 prefix selects XMM */
    int n = xmm ? 16 : 8, base = xmm ? 160 : 32;
    const uint8_t *data = v->fpu_guest + base + 16 * x->in.reg;
    const uint8_t *mask = v->fpu_guest + base + 16 * x->in.rm;
    int seg = x->in.seg_override >= 0 ? x->in.seg_override : SEG_DS;
    uint32_t la = v->seg[seg].base + v->regs[R_EDI];
    count(x, EMU_OTHER);
    for (int i = 0; i < n; i++)
        if ((mask[i] & 0x80) && mmu_write(v, la + (uint32_t)i, &data[i], 1))
            return;
    done(x);
}

/* 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW (protected mode only). */
static void emu_group6(struct emu *x)
{
    struct vcpu *v = x->v;
    uint32_t sel = 0;
    count(x, EMU_OTHER);
    if (!cpu_protected_mode(v) || x->in.reg > 5) {
        ud(x);
        return;
    }
    switch (x->in.reg) {
    case 0: case 1: /* SLDT, STR: a register gets the selector zero-extended */
        if (rm_write(x, x->in.has_mem ? 2 : x->osize,
                     x->in.reg ? v->tr.sel : v->ldtr.sel))
            done(x);
        return;
    case 2: case 3: /* LLDT, LTR */
        if (v->cpl > 0) {
            gp0(x);
            return;
        }
        if (rm_read(x, 2, &sel) && (x->in.reg == 2 ? sys_lldt(v, (uint16_t)sel)
                                                    : sys_ltr(v, (uint16_t)sel)) == 0)
            done(x);
        return;
    default: /* VERR, VERW */
        if (!rm_read(x, 2, &sel))
            return;
        if (sys_verify(v, (uint16_t)sel, x->in.reg == 5))
            v->eflags |= EFL_ZF;
        else
            v->eflags &= ~EFL_ZF;
        done(x);
    }
}

#define DR7_GD 0x2000u /* general detect enable */
#define DR6_BD 0x2000u /* #DB from general detect */

/* Where each instruction breakpoint is armed (~0: not armed). */
static void exec_breakpoints(const struct vcpu *v, uint32_t at[4])
{
    for (int n = 0; n < 4; n++)
        at[n] = vcpu_exec_breakpoints(v, v->dr[n]) & (1u << n) ? v->dr[n]
                                                               : ~0u;
}

/* MOV r32, DRn (0F 21) and MOV DRn, r32 (0F 23). Translations stop at
 * instruction breakpoints, so arming, moving or disarming one drops
 * them. Data breakpoints are stored but not armed. */
static void emu_mov_dr(struct emu *x, bool to_dr)
{
    struct vcpu *v = x->v;
    int dr = x->in.reg;
    count(x, EMU_MOV_DR);
    if ((dr == 4 || dr == 5) && (v->cr4 & CR4_DE)) {
        ud(x); /* DE set: DR4/DR5 are reserved */
        return;
    }
    if (v->cpl > 0) {
        gp0(x);
        return;
    }
    if (v->dr[7] & DR7_GD) { /* general detect: a fault before the move */
        v->dr[7] &= ~DR7_GD;
        v->dr[6] |= DR6_BD;
        cpu_exception(v, EXC_DB, -1);
        return;
    }
    if (dr == 4 || dr == 5)
        dr += 2;
    uint32_t armed[4], now[4];
    exec_breakpoints(v, armed);
    if (!to_dr) {
        v->regs[x->in.rm] = v->dr[dr];
    } else if (dr == 6) {
        v->dr[6] = (v->regs[x->in.rm] & 0x0000e00fu) | 0xffff0ff0u;
    } else if (dr == 7) {
        v->dr[7] = (v->regs[x->in.rm] & 0xffff2fffu) | 0x400u;
    } else {
        v->dr[dr] = v->regs[x->in.rm];
    }
    exec_breakpoints(v, now);
    if (memcmp(armed, now, sizeof(now)) != 0)
        dbt_flush(v->dbt, v);
    if (to_dr && dr != 6)
        watch_update(v);
    done(x);
}

/* LAR (0F 02) and LSL (0F 03). */
static void emu_lar_lsl(struct emu *x, bool lar)
{
    uint32_t sel, out = 0;
    count(x, EMU_OTHER);
    if (!cpu_protected_mode(x->v)) {
        ud(x);
        return;
    }
    if (!rm_read(x, 2, &sel))
        return;
    if (sys_lar_lsl(x->v, (uint16_t)sel, lar, &out)) {
        reg_set(x->v, x->in.reg, x->osize, out);
        x->v->eflags |= EFL_ZF;
    } else {
        x->v->eflags &= ~EFL_ZF;
    }
    done(x);
}

/* RDMSR (0F 32) and WRMSR (0F 30): ECX selects, EDX:EAX is the value. */
static void emu_msr(struct emu *x, bool write)
{
    struct vcpu *v = x->v;
    uint64_t val = (uint64_t)v->regs[R_EDX] << 32 | v->regs[R_EAX];
    count(x, write ? EMU_WRMSR : EMU_RDMSR);
    if (v->cpl > 0 || (write ? sys_wrmsr(v, v->regs[R_ECX], val)
                             : sys_rdmsr(v, v->regs[R_ECX], &val)) != 0) {
        gp0(x);
        return;
    }
    if (!write) {
        v->regs[R_EAX] = (uint32_t)val;
        v->regs[R_EDX] = (uint32_t)(val >> 32);
    }
    done(x);
}

static void emulate_0f(struct emu *x)
{
    uint8_t op = insn_op(&x->in, 1);
    switch (op) {
    case 0x00: emu_group6(x); return;
    case 0x21: emu_mov_dr(x, false); return;
    case 0x23: emu_mov_dr(x, true); return;
    case 0x02: emu_lar_lsl(x, true); return;
    case 0x03: emu_lar_lsl(x, false); return;
    case 0x30: emu_msr(x, true); return;
    case 0x32: emu_msr(x, false); return;
    case 0x33: count(x, EMU_OTHER); gp0(x); return; /* RDPMC: no counters */
    case 0x34: count(x, EMU_OTHER); sys_sysenter(x->v); return;
    case 0x35: count(x, EMU_OTHER); sys_sysexit(x->v); return;
    case 0xf7: emu_maskmov(x); return;
    case 0x01: emu_group7(x); return;
    case 0x06: /* CLTS */
        count(x, EMU_CLTS);
        if (x->v->cpl > 0) { gp0(x); return; }
        cpu_set_cr0(x->v, x->v->cr0 & ~CR0_TS);
        done(x);
        return;
    case 0x08: case 0x09: /* INVD, WBINVD: no caches to manage */
        count(x, EMU_OTHER);
        if (x->v->cpl > 0) { gp0(x); return; }
        done(x);
        return;
    case 0x20: emu_mov_cr(x, false); return;
    case 0x22: emu_mov_cr(x, true); return;
    case 0x31: emu_rdtsc(x); return;
    case 0xa2: emu_cpuid(x); return;
    case 0xa0: emu_push_sreg(x, SEG_FS); return;
    case 0xa8: emu_push_sreg(x, SEG_GS); return;
    case 0xa1: emu_pop_sreg(x, SEG_FS); return;
    case 0xa9: emu_pop_sreg(x, SEG_GS); return;
    case 0xb2: emu_load_far(x, SEG_SS); return;
    case 0xb4: emu_load_far(x, SEG_FS); return;
    case 0xb5: emu_load_far(x, SEG_GS); return;
    }
    /* Not emulated yet (MSRs, LLDT/LTR, debug registers, SYSENTER):
     * the guest sees #UD and --stats counts it. */
    x->v->stats.undefined++;
    ud(x);
}

static bool emulate_segment_ops(struct emu *x, uint8_t op)
{
    switch (op) {
    case 0x06: emu_push_sreg(x, SEG_ES); return true;
    case 0x0e: emu_push_sreg(x, SEG_CS); return true;
    case 0x16: emu_push_sreg(x, SEG_SS); return true;
    case 0x1e: emu_push_sreg(x, SEG_DS); return true;
    case 0x07: emu_pop_sreg(x, SEG_ES); return true;
    case 0x17: emu_pop_sreg(x, SEG_SS); return true;
    case 0x1f: emu_pop_sreg(x, SEG_DS); return true;
    case 0x8c: case 0x8e: emu_mov_sreg(x, op); return true;
    case 0xc4: case 0xc5:
        if (!x->in.has_mem) { ud(x); return true; } /* VEX: no AVX here */
        emu_load_far(x, op == 0xc4 ? SEG_ES : SEG_DS);
        return true;
    case 0x9a: emu_far_call(x, false); return true;
    case 0xea: emu_far_jmp(x, false); return true;
    case 0xca: emu_far_ret(x, (uint16_t)imm(&x->in, 0, 2)); return true;
    case 0xcb: emu_far_ret(x, 0); return true;
    case 0xff:
        if (x->in.reg == 3) emu_far_call(x, true);
        else if (x->in.reg == 5) emu_far_jmp(x, true);
        else return false;
        return true;
    }
    return false;
}

static bool emulate_1byte(struct emu *x, uint8_t op)
{
    switch (op) {
    case 0xfa: emu_cli(x); return true;
    case 0xfb: emu_sti(x); return true;
    case 0x9c: emu_pushf(x); return true;
    case 0x9d: emu_popf(x); return true;
    case 0xf4: emu_hlt(x); return true;
    case 0xcc: emu_int(x, EXC_BP, false); return true;
    case 0xcd: emu_int(x, (int)imm(&x->in, 0, 1), true); return true;
    case 0xce:
        if (x->v->eflags & EFL_OF) emu_int(x, EXC_OF, false); else done(x);
        return true;
    case 0xcf: emu_iret(x); return true;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        emu_in_out(x, op);
        return true;
    case 0x60: emu_pusha(x); return true;
    case 0x61: emu_popa(x); return true;
    case 0xc8: emu_enter(x); return true;
    }
    if ((op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) ||
        (op >= 0xaa && op <= 0xaf)) {
        emu_string(x, op);
        return true;
    }
    return emulate_segment_ops(x, op);
}

static void emulate_one(struct vcpu *v);

void emulate_insn(struct vcpu *v)
{
    cpu_begin_insn(v);
    emulate_one(v);
    cpu_end_insn(v);
}

static void emulate_one(struct vcpu *v)
{
    struct emu x = {.v = v};
    if (!dbt_decode_at(v->dbt, v, v->eip, &x.in)) {
        cpu_exception(v, EXC_UD, -1);
        return;
    }
    bool code32 = v->seg[SEG_CS].attr & SEG_ATTR_DB;
    x.next = v->eip + x.in.len;
    if (!code32)
        x.next &= 0xffff;
    x.osize = x.in.op16 ? 2 : 4;
    uint8_t op = insn_op(&x.in, 0);
    if (op == 0x0f)
        emulate_0f(&x);
    else if (!emulate_1byte(&x, op)) {
        count(&x, EMU_OTHER);
        if (!emulate_rare(&x, op)) {
            v->stats.undefined++;
            ud(&x);
        }
    }
}
