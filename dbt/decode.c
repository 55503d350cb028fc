// SPDX-License-Identifier: MIT
/* Decoding: Capstone turns guest bytes into our instruction record. */
#include "dbt/decode.h"
#include "monitor/vcpu.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct decoder {
    csh cs32, cs16;
    cs_insn *ci32, *ci16;
};

struct decoder *decoder_create(void)
{
    struct decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &d->cs32) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_16, &d->cs16) != CS_ERR_OK) {
        free(d);
        return NULL;
    }
    cs_option(d->cs32, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(d->cs16, CS_OPT_DETAIL, CS_OPT_ON);
    d->ci32 = cs_malloc(d->cs32);
    d->ci16 = cs_malloc(d->cs16);
    return d;
}

void decoder_destroy(struct decoder *d)
{
    if (!d)
        return;
    cs_free(d->ci32, 1);
    cs_free(d->ci16, 1);
    cs_close(&d->cs32);
    cs_close(&d->cs16);
    free(d);
}

const char *decode_insn_name(struct decoder *d, unsigned id)
{
    return cs_insn_name(d->cs32, id);
}

/* Legacy prefixes; sets the prefix fields and returns their count. */
static int parse_prefixes(struct insn *in, bool code32)
{
    bool opsz = false, adsz = false;
    int n = 0;
    in->seg_override = -1;
    for (; n < in->len; n++) {
        switch (in->bytes[n]) {
        case 0xf0: in->lock = true; continue;
        case 0xf2: in->repne = true; in->rep = false; continue;
        case 0xf3: in->rep = true; in->repne = false; continue;
        case 0x26: in->seg_override = SEG_ES; continue;
        case 0x2e: in->seg_override = SEG_CS; continue;
        case 0x36: in->seg_override = SEG_SS; continue;
        case 0x3e: in->seg_override = SEG_DS; continue;
        case 0x64: in->seg_override = SEG_FS; continue;
        case 0x65: in->seg_override = SEG_GS; continue;
        case 0x66: opsz = true; continue;
        case 0x67: adsz = true; continue;
        }
        break;
    }
    in->op16 = code32 ? opsz : !opsz;
    in->addr16 = code32 ? adsz : !adsz;
    return n;
}

/* The 16-bit addressing forms [bx+si] .. [bx], by ModRM rm. */
static const int8_t rm16_base[8] = {R_EBX, R_EBX, R_EBP, R_EBP,
                                    R_ESI, R_EDI, R_EBP, R_EBX};
static const int8_t rm16_index[8] = {R_ESI, R_EDI, R_ESI, R_EDI,
                                     -1, -1, -1, -1};

static int32_t read_disp(const uint8_t *p, int size)
{
    if (size == 0)
        return 0;
    if (size == 1)
        return (int8_t)p[0];
    if (size == 2)
        return (int16_t)(p[0] | p[1] << 8);
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Parse ModRM (+SIB, +disp) at byte pos; returns the byte after them. */
static int parse_modrm(struct insn *in, int pos)
{
    uint8_t m = in->bytes[pos++];
    in->mod = m >> 6;
    in->reg = (m >> 3) & 7;
    in->rm = m & 7;
    if (in->mod == 3)
        return pos;
    in->has_mem = true;
    in->mem_base = in->mem_index = -1;
    in->mem_scale = 1;
    if (in->addr16) {
        if (in->mod == 0 && in->rm == 6) {
            in->disp_size = 2;
        } else {
            in->mem_base = rm16_base[in->rm];
            in->mem_index = rm16_index[in->rm];
            in->disp_size = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
        }
    } else {
        int base = in->rm;
        if (in->rm == 4) {
            uint8_t sib = in->bytes[pos++];
            int index = (sib >> 3) & 7;
            base = sib & 7;
            in->mem_scale = 1 << (sib >> 6);
            in->mem_index = index == 4 ? -1 : index;
        }
        if (in->mod == 0 && base == 5)
            in->disp_size = 4;
        else
            in->mem_base = base;
        if (in->mod == 1)
            in->disp_size = 1;
        else if (in->mod == 2)
            in->disp_size = 4;
    }
    in->mem_disp = read_disp(&in->bytes[pos], in->disp_size);
    return pos + in->disp_size;
}

static int default_segment(const struct insn *in)
{
    if (in->seg_override >= 0)
        return in->seg_override;
    if (in->mem_base == R_ESP || in->mem_base == R_EBP)
        return SEG_SS;
    return SEG_DS;
}

static bool is_esp(x86_reg r)
{
    return r == X86_REG_ESP || r == X86_REG_SP;
}

/* The guest register number (R_EAX..R_EDI) a general register is part
 * of, or -1. */
static int gpr_number(x86_reg r)
{
    static const x86_reg parts[8][4] = {
        {X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
        {X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
        {X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
        {X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
        {X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_INVALID},
        {X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_INVALID},
        {X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_INVALID},
        {X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_INVALID},
    };
    for (int n = 0; n < 8; n++)
        for (int i = 0; i < 4; i++)
            if (r != X86_REG_INVALID && parts[n][i] == r)
                return n;
    return -1;
}

/* The general registers the instruction reads and writes, as masks
 * (explicit and implicit operands both; address registers are read). */
static void find_gprs(struct insn *in, csh h, const cs_insn *ci)
{
    cs_regs rd, wr;
    uint8_t nrd = 0, nwr = 0;
    if (cs_regs_access(h, ci, rd, &nrd, wr, &nwr) != CS_ERR_OK)
        return;
    for (int i = 0; i < nrd; i++) {
        int n = gpr_number(rd[i]);
        in->gprs_read |= n >= 0 ? (uint8_t)(1u << n) : 0;
    }
    for (int i = 0; i < nwr; i++) {
        int n = gpr_number(wr[i]);
        in->gprs_written |= n >= 0 ? (uint8_t)(1u << n) : 0;
    }
}

static bool is_high_byte(x86_reg r)
{
    return r == X86_REG_AH || r == X86_REG_BH || r == X86_REG_CH ||
           r == X86_REG_DH;
}

/* Opcodes whose ModRM reg field is an opcode extension, not a register. */
static bool reg_is_extension(const struct insn *in)
{
    uint8_t b0 = insn_op(in, 0);
    if (b0 != 0x0f) {
        return (b0 >= 0x80 && b0 <= 0x83) || b0 == 0x8f || b0 == 0xc0 ||
               b0 == 0xc1 || b0 == 0xc6 || b0 == 0xc7 ||
               (b0 >= 0xd0 && b0 <= 0xdf) || b0 == 0xf6 || b0 == 0xf7 ||
               b0 == 0xfe || b0 == 0xff;
    }
    uint8_t b1 = insn_op(in, 1);
    return b1 == 0x00 || b1 == 0x01 || (b1 >= 0x18 && b1 <= 0x1f) ||
           (b1 >= 0x71 && b1 <= 0x73) || b1 == 0xae || b1 == 0xba ||
           b1 == 0xc7;
}

/* Two-byte opcodes whose reg field is a GPR and rm is not a GPR of the same
 * kind (MOVZX/MOVSX from a byte, conversions and moves out of XMM/MMX). */
static bool reg_is_gpr_dest(const struct insn *in)
{
    if (insn_op(in, 0) != 0x0f)
        return true;
    switch (insn_op(in, 1)) {
    case 0xb6: case 0xbe: case 0x2c: case 0x2d: case 0x50: case 0xd7:
    case 0xc5:
        return true;
    }
    return false;
}

/* MOV AL/EAX <-> moffs (A0..A3): a memory operand without ModRM. */
static bool is_moffs(const struct insn *in)
{
    uint8_t b0 = insn_op(in, 0);
    return b0 >= 0xa0 && b0 <= 0xa3;
}

static void parse_moffs(struct insn *in, int pos)
{
    in->has_mem = true;
    in->mem_base = in->mem_index = -1;
    in->mem_scale = 1;
    in->mem_disp = in->addr16 ? (int32_t)(uint16_t)read_disp(&in->bytes[pos], 2)
                              : read_disp(&in->bytes[pos], 4);
}

/* Work out which encoded register fields name ESP. */
static void find_esp_fields(struct insn *in, const cs_x86 *x)
{
    int esp_ops = 0;
    for (int i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_REG) {
            esp_ops += is_esp(x->operands[i].reg);
            in->high_byte |= is_high_byte(x->operands[i].reg);
        }
    }
    if (esp_ops == 0)
        return;
    if (!in->has_modrm) {
        in->esp_opreg = true;
        return;
    }
    bool reg_cand = in->reg == 4 && !reg_is_extension(in);
    bool rm_cand = in->mod == 3 && in->rm == 4;
    if (reg_cand && rm_cand && esp_ops == 1) {
        if (reg_is_gpr_dest(in))
            rm_cand = false;
        else
            reg_cand = false;
    }
    in->esp_reg = reg_cand;
    in->esp_rm = rm_cand;
}

#define ARITH (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

/* Capstone's per-flag bits, as EFLAGS masks. */
static uint32_t flag_bits(uint64_t f, uint64_t cf, uint64_t pf, uint64_t af,
                          uint64_t zf, uint64_t sf, uint64_t of)
{
    return ((f & cf) ? EFL_CF : 0) | ((f & pf) ? EFL_PF : 0) |
           ((f & af) ? EFL_AF : 0) | ((f & zf) ? EFL_ZF : 0) |
           ((f & sf) ? EFL_SF : 0) | ((f & of) ? EFL_OF : 0);
}

/* Shifts and rotates by a count of zero leave the flags alone, so they
 * never count as writing them unless the count is a non-zero immediate. */
static bool flags_conditional(const struct insn *in)
{
    uint8_t b0 = insn_op(in, 0);
    if (b0 == 0xd2 || b0 == 0xd3)
        return true;
    if (b0 == 0xc0 || b0 == 0xc1)
        return (in->bytes[in->imm_off] & 31) == 0;
    if (b0 == 0x0f) {
        uint8_t b1 = insn_op(in, 1);
        if (b1 == 0xa5 || b1 == 0xad)
            return true;
        if (b1 == 0xa4 || b1 == 0xac)
            return (in->bytes[in->imm_off] & 31) == 0;
    }
    return false;
}

/*
 * Flags an instruction reads that Capstone 4 does not report: it lists
 * ADC, SBB, RCL, RCR, CMC, LAHF and friends as writing the flags but never
 * as testing them. Liveness must see these reads, or a memory operand's
 * shadow lookup may clobber the carry they consume.
 */
static uint32_t flags_read_extra(unsigned id)
{
    switch (id) {
    case X86_INS_ADC:
    case X86_INS_SBB:
    case X86_INS_RCL:
    case X86_INS_RCR:
    case X86_INS_CMC:
    case X86_INS_SALC:
    case X86_INS_ADCX:
        return EFL_CF;
    case X86_INS_ADOX:
    case X86_INS_INTO:
        return EFL_OF;
    case X86_INS_DAA:
    case X86_INS_DAS:
    case X86_INS_AAA:
    case X86_INS_AAS:
        return EFL_AF | EFL_CF;
    case X86_INS_LAHF:
    case X86_INS_PUSHF:
    case X86_INS_PUSHFD:
        return ARITH;
    case X86_INS_DIV:
    case X86_INS_IDIV:
        /* Not a read, but #DE pushes the flags from before the divide,
         * so a lookup for its operand must leave them alone. */
        return ARITH;
    default:
        return 0;
    }
}

/*
 * Flags of x87, MMX and SSE instructions. Capstone 4 is no help there: for
 * x87 its eflags field holds the FPU condition-code bits instead (a
 * union), and it lists CMPPS as writing the arithmetic flags. So these
 * come from a table: the few that touch EFLAGS, and nothing for the rest.
 */
static void fp_flags(struct insn *in, unsigned id)
{
    switch (id) {
    case X86_INS_FCOMI:
    case X86_INS_FCOMIP:
    case X86_INS_FUCOMI:
    case X86_INS_FUCOMIP:
    case X86_INS_COMISS:
    case X86_INS_COMISD:
    case X86_INS_UCOMISS:
    case X86_INS_UCOMISD:
    case X86_INS_PTEST:
    case X86_INS_POPCNT:
        in->flags_written = ARITH;
        break;
    case X86_INS_FCMOVB:
    case X86_INS_FCMOVNB:
        in->flags_read = EFL_CF;
        break;
    case X86_INS_FCMOVE:
    case X86_INS_FCMOVNE:
        in->flags_read = EFL_ZF;
        break;
    case X86_INS_FCMOVBE:
    case X86_INS_FCMOVNBE:
        in->flags_read = EFL_CF | EFL_ZF;
        break;
    case X86_INS_FCMOVU:
    case X86_INS_FCMOVNU:
        in->flags_read = EFL_PF;
        break;
    default:
        break;
    }
}

static void find_flags(struct insn *in, const cs_x86 *x, unsigned id)
{
    uint64_t f = x->eflags;
    if (in->groups & (IG_X87 | IG_SIMD)) {
        fp_flags(in, id);
        /* These may fault (#MF, #XM, and #GP for alignment or MXCSR), with
         * or without a memory operand, and the fault must push the flags
         * as they were: keep lookups and entry tests before them from
         * touching the flags. */
        in->flags_read |= ARITH;
        return;
    }
    in->flags_read =
        flag_bits(f, X86_EFLAGS_TEST_CF | X86_EFLAGS_PRIOR_CF,
                  X86_EFLAGS_TEST_PF | X86_EFLAGS_PRIOR_PF,
                  X86_EFLAGS_TEST_AF | X86_EFLAGS_PRIOR_AF,
                  X86_EFLAGS_TEST_ZF | X86_EFLAGS_PRIOR_ZF,
                  X86_EFLAGS_TEST_SF | X86_EFLAGS_PRIOR_SF,
                  X86_EFLAGS_TEST_OF | X86_EFLAGS_PRIOR_OF);
    in->flags_written = flag_bits(
        f, X86_EFLAGS_MODIFY_CF | X86_EFLAGS_RESET_CF | X86_EFLAGS_SET_CF | X86_EFLAGS_UNDEFINED_CF,
        X86_EFLAGS_MODIFY_PF | X86_EFLAGS_RESET_PF | X86_EFLAGS_UNDEFINED_PF,
        X86_EFLAGS_MODIFY_AF | X86_EFLAGS_RESET_AF | X86_EFLAGS_SET_AF | X86_EFLAGS_UNDEFINED_AF,
        X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_ZF | X86_EFLAGS_UNDEFINED_ZF,
        X86_EFLAGS_MODIFY_SF | X86_EFLAGS_RESET_SF | X86_EFLAGS_SET_SF | X86_EFLAGS_UNDEFINED_SF,
        X86_EFLAGS_MODIFY_OF | X86_EFLAGS_RESET_OF | X86_EFLAGS_SET_OF | X86_EFLAGS_UNDEFINED_OF);
    in->flags_read |= flags_read_extra(id);
    /* BT, BTS, BTR, BTC leave ZF alone (SDM; so does the AMD host), but
     * Capstone 4 lists it among their undefined, hence written, flags. */
    if (id == X86_INS_BT || id == X86_INS_BTS || id == X86_INS_BTR ||
        id == X86_INS_BTC)
        in->flags_written &= ~(uint32_t)EFL_ZF;
    if (flags_conditional(in)) {
        in->flags_read |= in->flags_written;
        in->flags_written = 0;
    }
}

/*
 * Whether the memory operand is written, from the opcode map (SDM Vol. 2,
 * Appendix A). Capstone 4's operand access bits cannot be trusted for
 * this: it calls SETcc, RCL/RCR, CMPXCHG, FSTP, MOVUPS and MOVQ stores
 * reads, which would let them write through a read-only shadow entry.
 */
static bool mem_written(const struct insn *in)
{
    uint8_t b0 = insn_op(in, 0), reg = in->reg;

    if (b0 == 0x0f) {
        uint8_t b1 = insn_op(in, 1);
        switch (b1) {
        case 0x00: return reg <= 1;              /* SLDT, STR */
        case 0x01: return reg <= 1 || reg == 4;  /* SGDT, SIDT, SMSW */
        case 0x11: case 0x13: case 0x17: case 0x29: case 0x2b:
        case 0x7f: case 0xd6: case 0xe7: case 0xc3:
        case 0xa4: case 0xa5: case 0xab: case 0xac: case 0xad:
        case 0xb0: case 0xb1: case 0xb3: case 0xbb: case 0xc0: case 0xc1:
            return true;
        case 0x7e: return !in->rep;              /* MOVD r/m32, mm/xmm */
        case 0xae: return reg == 0 || reg == 3;  /* FXSAVE, STMXCSR */
        case 0xba: return reg >= 5;              /* BTS, BTR, BTC */
        case 0xc7: return reg == 1;              /* CMPXCHG8B */
        default:   return b1 >= 0x90 && b1 <= 0x9f; /* SETcc */
        }
    }
    if (b0 < 0x40 && (b0 & 7) <= 1)             /* ALU r/m, r */
        return (b0 & 0x38) != 0x38;             /* ... but not CMP */
    switch (b0) {
    case 0x63: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8c:
    case 0x8f: case 0xa2: case 0xa3: case 0xc0: case 0xc1: case 0xc6: case 0xc7:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        return true;
    case 0x80: case 0x81: case 0x82: case 0x83:
        return reg != 7;                        /* all but CMP */
    case 0xf6: case 0xf7:
        return reg == 2 || reg == 3;            /* NOT, NEG */
    case 0xfe: case 0xff:
        return reg <= 1;                        /* INC, DEC */
    case 0xd9: return reg == 2 || reg == 3 || reg >= 6; /* FST(P), FNSTENV, FNSTCW */
    case 0xdb: return (reg >= 1 && reg <= 3) || reg == 7; /* FIST(P), FSTP m80 */
    case 0xdd: return (reg >= 1 && reg <= 3) || reg >= 6; /* FST(P), FNSAVE, FNSTSW */
    case 0xdf: return (reg >= 1 && reg <= 3) || reg >= 6; /* FIST(P), FBSTP, FISTP m64 */
    default:
        return false;
    }
}

/*
 * Bytes the memory operand covers, where Capstone 4 gets it wrong: the
 * x87 and SSE state images and FNSTSW. Otherwise Capstone's size.
 */
static uint16_t mem_bytes(const struct insn *in, uint16_t cs_size)
{
    uint8_t b0 = insn_op(in, 0), reg = in->reg;

    if (b0 == 0x0f && insn_op(in, 1) == 0xae && reg <= 1)
        return 512;                              /* FXSAVE, FXRSTOR */
    if (b0 == 0xd9 && (reg == 4 || reg == 6))
        return in->op16 ? 14 : 28;               /* FLDENV, FNSTENV */
    if (b0 == 0xdd && (reg == 4 || reg == 6))
        return in->op16 ? 94 : 108;              /* FRSTOR, FNSAVE */
    if (b0 == 0xdd && reg == 7)
        return 2;                                /* FNSTSW m16 */
    if (b0 == 0x0f && insn_op(in, 1) == 0x01 && reg <= 3)
        return 6;                                /* SGDT, SIDT, LGDT, LIDT */
    return cs_size;
}

/* Size and access of the (first) memory operand. */
static void find_mem_access(struct insn *in, const cs_x86 *x)
{
    uint16_t size = 0;
    for (int i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_MEM) {
            size = x->operands[i].size;
            break;
        }
    }
    in->mem_size = mem_bytes(in, size);
    in->mem_write = mem_written(in);
}

static bool has_implicit_esp(const cs_detail *dt)
{
    for (int i = 0; i < dt->regs_read_count; i++)
        if (is_esp(dt->regs_read[i]))
            return true;
    for (int i = 0; i < dt->regs_write_count; i++)
        if (is_esp(dt->regs_write[i]))
            return true;
    return false;
}

static uint16_t group_bits(const cs_detail *dt)
{
    uint16_t g = 0;
    for (int i = 0; i < dt->groups_count; i++) {
        switch (dt->groups[i]) {
        case CS_GRP_JUMP: g |= IG_JUMP; break;
        case CS_GRP_CALL: g |= IG_CALL; break;
        case CS_GRP_RET: g |= IG_RET; break;
        case CS_GRP_INT: g |= IG_INT; break;
        case CS_GRP_IRET: g |= IG_IRET; break;
        case CS_GRP_PRIVILEGE: g |= IG_PRIVILEGE; break;
        case X86_GRP_FPU: g |= IG_X87; break;
        case X86_GRP_MMX: g |= IG_SIMD | IG_MMX; break;
        case X86_GRP_SSE1: case X86_GRP_SSE2:
        case X86_GRP_SSE3: case X86_GRP_SSSE3: case X86_GRP_SSE41:
        case X86_GRP_SSE42:
            g |= IG_SIMD;
            break;
        }
    }
    return g;
}

/*
 * Instructions Capstone files under SSE/SSE2 that touch no MMX or XMM
 * state. The SDM lets them run whatever CR4.OSFXSR, CR0.EM and CR0.TS say
 * (Linux spins on PAUSE long before it sets OSFXSR).
 */
static bool simd_exempt(unsigned id)
{
    switch (id) {
    case X86_INS_PAUSE:
    case X86_INS_PREFETCHNTA:
    case X86_INS_PREFETCHT0:
    case X86_INS_PREFETCHT1:
    case X86_INS_PREFETCHT2:
    case X86_INS_SFENCE:
    case X86_INS_LFENCE:
    case X86_INS_MFENCE:
    case X86_INS_MOVNTI:
    case X86_INS_CLFLUSH:
        return true;
    default:
        return false;
    }
}

bool decode_insn(struct decoder *d, const uint8_t *code, size_t avail,
                 uint32_t eip, bool code32, struct insn *out)
{
    csh h = code32 ? d->cs32 : d->cs16;
    cs_insn *ci = code32 ? d->ci32 : d->ci16;
    const uint8_t *p = code;
    size_t n = avail > INSN_MAX_LEN ? INSN_MAX_LEN : avail;
    uint64_t addr = eip;

    memset(out, 0, sizeof(*out));
    if (!cs_disasm_iter(h, &p, &n, &addr, ci))
        return false;
    const cs_x86 *x = &ci->detail->x86;
    out->eip = eip;
    out->len = (uint8_t)ci->size;
    memcpy(out->bytes, code, ci->size);
    out->id = ci->id;
    out->groups = group_bits(ci->detail);
    if (simd_exempt(ci->id))
        out->groups &= (uint16_t)~(IG_SIMD | IG_MMX);
    snprintf(out->text, sizeof(out->text), "%.15s %.47s", ci->mnemonic,
             ci->op_str);

    out->npfx = (uint8_t)parse_prefixes(out, code32);
    /* Capstone 4 leaves some x87 instructions (FLDL2T and friends) out of
     * its FPU group, and their eflags field then holds FPU flag bits read
     * as EFLAGS: the escape opcodes D8-DF are x87 whatever it says. */
    if ((out->bytes[out->npfx] & 0xf8) == 0xd8)
        out->groups |= IG_X87;
    /* Nor are LOOP, LOOPE and LOOPNE in its jump group (JECXZ is): the
     * liveness pass then ran past their block's end and found the flags
     * their target reads dead. */
    if (out->bytes[out->npfx] >= 0xe0 && out->bytes[out->npfx] <= 0xe2)
        out->groups |= IG_JUMP;
    int pos = out->npfx;
    if (x->encoding.modrm_offset > out->npfx) {
        out->has_modrm = true;
        out->op_len = (uint8_t)(x->encoding.modrm_offset - out->npfx);
        pos = parse_modrm(out, x->encoding.modrm_offset);
    } else {
        uint8_t b0 = out->bytes[out->npfx];
        uint8_t b1 = out->bytes[out->npfx + 1];
        out->op_len = b0 != 0x0f ? 1 : (b1 == 0x38 || b1 == 0x3a) ? 3 : 2;
        pos = out->npfx + out->op_len;
    }
    if (is_moffs(out))
        parse_moffs(out, pos);
    if (pos > out->len)
        return false;
    out->imm_off = (uint8_t)pos;
    if (out->has_mem)
        out->mem_seg = default_segment(out);
    find_esp_fields(out, x);
    out->implicit_esp = has_implicit_esp(ci->detail);
    find_flags(out, x, ci->id);
    find_gprs(out, h, ci);
    if (out->has_mem)
        find_mem_access(out, x);
    if (out->has_mem && insn_op(out, 0) == 0x0f) {
        uint8_t b1 = insn_op(out, 1);
        out->bit_offset = b1 == 0xa3 || b1 == 0xab || b1 == 0xb3 || b1 == 0xbb;
    }
    return true;
}
