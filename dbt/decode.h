/* SPDX-License-Identifier: MIT */
/* Decoding: Capstone turns guest bytes into our instruction record. */
#ifndef BT386_DBT_DECODE_H
#define BT386_DBT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LEN 15

/* What Capstone's groups say about an instruction. */
#define IG_JUMP      0x01
#define IG_CALL      0x02
#define IG_RET       0x04
#define IG_INT       0x08
#define IG_IRET      0x10
#define IG_PRIVILEGE 0x20
#define IG_X87       0x40  /* x87 floating point */
#define IG_SIMD      0x80  /* MMX or SSE */
#define IG_MMX       0x100 /* operates on MMX registers */

/*
 * One decoded guest instruction. Byte layout (prefixes, opcode, ModRM, SIB,
 * displacement, immediate) is kept so the translator can copy the
 * instruction and replace only its memory operand.
 */
struct insn {
    uint32_t eip;                  /* guest linear address */
    uint8_t len;                   /* length in bytes */
    uint8_t bytes[INSN_MAX_LEN + 1];
    unsigned id;                   /* Capstone X86_INS_* */
    uint16_t groups;               /* IG_* */
    char text[64];                 /* "mnemonic operands", for traces */

    /* Layout. */
    uint8_t npfx;                  /* legacy prefix bytes at the start */
    uint8_t op_len;                /* opcode bytes after the prefixes */
    bool has_modrm;
    uint8_t mod, reg, rm;          /* ModRM fields */
    uint8_t disp_size;             /* 0, 1, 2 or 4 */
    uint8_t imm_off;               /* first byte after ModRM/SIB/disp */

    /* Prefixes, resolved against the code size. */
    bool op16;                     /* effective operand size is 16 bits */
    bool addr16;                   /* effective address size is 16 bits */
    bool lock, rep, repne;
    int seg_override;              /* SEG_* or -1 */

    /* The memory operand, if any (ModRM with mod != 3, or moffs). */
    bool has_mem;
    int mem_base, mem_index;       /* guest register numbers or -1 */
    int mem_scale;
    int32_t mem_disp;
    int mem_seg;                   /* effective segment (SEG_*) */
    uint16_t mem_size;             /* bytes accessed (0: unknown) */
    bool mem_write;                /* the operand is written (or unknown) */

    /* Arithmetic flags (EFL_CF..EFL_OF bits) read, and certainly written,
     * by the instruction, for the translator's liveness pass. */
    uint32_t flags_read, flags_written;
    /* General registers read and written (bit n: guest register n). */
    uint8_t gprs_read, gprs_written;

    /* Register use that the translator must rewrite. */
    bool esp_reg;                  /* ModRM reg field names ESP/SP */
    bool esp_rm;                   /* ModRM rm (mod 3) names ESP/SP */
    bool esp_opreg;                /* opcode's low 3 bits name ESP/SP */
    bool high_byte;                /* an operand is AH, CH, DH or BH */
    bool implicit_esp;             /* reads or writes ESP implicitly */
    bool bit_offset;               /* BT/BTS/BTR/BTC m, r: the register's
                                      signed bit offset moves the address */
};

struct decoder;

/* Open Capstone handles for 16- and 32-bit code; NULL on failure. */
struct decoder *decoder_create(void);
void decoder_destroy(struct decoder *d);

/*
 * Decode the instruction at guest address eip from `code` (avail bytes are
 * readable). Returns true with *out filled, or false if the bytes are not a
 * valid instruction for this mode (the guest gets #UD).
 */
bool decode_insn(struct decoder *d, const uint8_t *code, size_t avail,
                 uint32_t eip, bool code32, struct insn *out);

/* Opcode byte i (0-based, after prefixes). */
static inline uint8_t insn_op(const struct insn *in, int i)
{
    return in->bytes[in->npfx + i];
}

/*
 * Is the instruction a string instruction (MOVS, CMPS, STOS, LODS, SCAS,
 * INS, OUTS)? If so, *si and *di say whether it reads [DS:ESI] (or its
 * override) and whether it uses [ES:EDI]; *di_write whether that one is
 * written. Any of them may be NULL.
 */
static inline bool insn_string(const struct insn *in, bool *si, bool *di,
                               bool *di_write)
{
    uint8_t op = insn_op(in, 0);
    if (!((op >= 0xa4 && op <= 0xaf) || (op >= 0x6c && op <= 0x6f)))
        return false;
    bool movs_cmps = op >= 0xa4 && op <= 0xa7;
    if (si) /* MOVS, CMPS, LODS, OUTS */
        *si = movs_cmps || op == 0xac || op == 0xad || op == 0x6e ||
              op == 0x6f;
    if (di) /* MOVS, CMPS, STOS, SCAS, INS */
        *di = movs_cmps || op == 0xaa || op == 0xab || op == 0xae ||
              op == 0xaf || op == 0x6c || op == 0x6d;
    if (di_write) /* MOVS, STOS, INS */
        *di_write = op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab ||
                    op == 0x6c || op == 0x6d;
    return true;
}

/* Capstone's name for an instruction id, for coverage listings. */
const char *decode_insn_name(struct decoder *d, unsigned id);

#endif
