/* SPDX-License-Identifier: MIT */
/* The pipe protocol between the difftest driver and its runners (the native
 * runner, compiled for i386 and x86-64, and the bt386 worker). */
#ifndef BT386_DIFFTEST_PROTO_H
#define BT386_DIFFTEST_PROTO_H

#include <stdint.h>

/*
 * Guest memory layout, the same in every runner. Code, data and stack are
 * separate regions so generated code can never overwrite itself.
 */
#define DT_CODE_BASE  0x00100000u
#define DT_CODE_SIZE  0x00010000u
#define DT_DATA_BASE  0x00200000u
#define DT_DATA_SIZE  0x00010000u
#define DT_STACK_BASE 0x00300000u
#define DT_STACK_SIZE 0x00010000u
#define DT_STACK_ESP  0x00308000u

/* The compared memory: data then stack, seen as one array of chunks. */
#define DT_MEM_SIZE   (DT_DATA_SIZE + DT_STACK_SIZE)
#define DT_CHUNK      64u
#define DT_NCHUNKS    (DT_MEM_SIZE / DT_CHUNK)

/* Code beyond a case's bytes is filled with INT3, so a stray branch past
 * the sentinel HLT traps the same way in every runner. */
#define DT_CODE_FILL  0xcc

#define DT_MAGIC_HELLO 0x6f6c6568u /* "helo" */
#define DT_MAGIC_REQ   0x20716572u /* "req " */
#define DT_MAGIC_RES   0x20736572u /* "res " */

/* Vectors beyond the architectural ones. */
#define DT_VEC_HLT    (-1) /* stopped at the sentinel HLT */
#define DT_VEC_SIGNAL (-2) /* native: a signal that is no CPU exception */

/*
 * Driver -> runner, once: struct dt_hello, then DT_MEM_SIZE bytes of the
 * baseline memory image. Every case starts from that image.
 */
struct dt_hello {
    uint32_t magic;
    uint32_t mem_size;
};

/*
 * Driver -> runner, per case: struct dt_req, then code_len bytes of code
 * (loaded at DT_CODE_BASE), then init_len bytes of memory initialisers,
 * each a struct dt_init followed by its bytes.
 */
struct dt_req {
    uint32_t magic;
    uint32_t regs[8];   /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;    /* arithmetic flags and DF; IF and bit 1 set */
    uint32_t sentinel;  /* address of the HLT that ends the case */
    uint32_t code_len;
    uint32_t init_len;
    uint8_t fpu[512];   /* FXSAVE image */
};

struct dt_init {
    uint32_t addr;      /* guest address inside data or stack */
    uint32_t len;
};

/*
 * Runner -> driver, per case: struct dt_res, then nchunks changed chunks
 * (struct dt_chunk): every chunk of the data+stack image that differs from
 * the baseline when the case stops. The runner then restores them.
 */
struct dt_res {
    uint32_t magic;
    uint32_t regs[8];
    uint32_t eip;       /* HLT: after it; fault: at it; trap: after it */
    uint32_t eflags;
    int32_t vector;     /* DT_VEC_HLT or the exception vector */
    int32_t error;      /* error code, or -1 */
    int32_t status;     /* bt386: machine status; native: signal number */
    uint32_t nchunks;
    uint8_t fpu[512];
};

struct dt_chunk {
    uint32_t index;     /* chunk number in the data+stack image */
    uint8_t bytes[DT_CHUNK];
};

/* Host address of byte `off` of the data+stack image. */
static inline uint32_t dt_mem_addr(uint32_t off)
{
    return off < DT_DATA_SIZE ? DT_DATA_BASE + off
                              : DT_STACK_BASE + (off - DT_DATA_SIZE);
}

/* Is [addr, addr+len) inside the data or the stack region? */
static inline int dt_mem_valid(uint32_t addr, uint32_t len)
{
    return (addr >= DT_DATA_BASE && addr + len <= DT_DATA_BASE + DT_DATA_SIZE &&
            len <= DT_DATA_SIZE) ||
           (addr >= DT_STACK_BASE &&
            addr + len <= DT_STACK_BASE + DT_STACK_SIZE && len <= DT_STACK_SIZE);
}

#endif
