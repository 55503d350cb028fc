/* SPDX-License-Identifier: MIT */
/* The difftest driver: cases, runners and the comparison of their results. */
#ifndef BT386_DIFFTEST_DIFFTEST_H
#define BT386_DIFFTEST_DIFFTEST_H

#include "tests/difftest/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* EFLAGS bits the comparison looks at. */
#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_IF 0x200u
#define F_DF 0x400u
#define F_OF 0x800u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_COMPARED (F_ARITH | F_DF)

#define DT_MAX_CODE  4096
#define DT_MAX_INSNS 768
#define DT_MAX_INIT  4096

/* One generated instruction, with what it does to the arithmetic flags. */
struct dt_insn {
    uint16_t off;        /* offset in the case's code */
    uint8_t len;
    uint8_t skippable;   /* a forward branch may jump over it */
    uint32_t defs;       /* flags it always writes with defined values */
    uint32_t undef;      /* flags the SDM leaves undefined after it */
};

/* One test case: initial state, code, memory initialisers. */
struct dt_case {
    uint64_t seed;
    int family;          /* index in the family table; -1: random mix */
    bool needs32;        /* needs a 32-bit reference (see gen.h) */
    uint32_t regs[8];
    uint32_t eflags;
    uint8_t fpu[512] __attribute__((aligned(16)));
    uint8_t code[DT_MAX_CODE];
    uint32_t code_len;
    uint32_t sentinel;   /* address of the final HLT */
    uint8_t init[DT_MAX_INIT];
    uint32_t init_len;
    struct dt_insn insns[DT_MAX_INSNS];
    int ninsns;
};

/* What one runner reported for one case. */
struct dt_outcome {
    struct dt_res res;
    uint32_t nchunks;
    struct dt_chunk chunks[DT_NCHUNKS];
    bool died;           /* the runner process died on this case */
    bool hung;           /* ... killed for not answering (runner.c) */
    int wstatus;         /* its wait status then */
};

/* A runner process speaking proto.h. */
struct runner {
    const char *name;
    char *const *argv;   /* program to exec; NULL: the bt386 worker */
    int pid;
    int to_fd, from_fd;
    bool hung;           /* its last read was given up as a hang */
};

/* runner.c */
int runner_start(struct runner *r, const uint8_t *baseline);
void runner_stop(struct runner *r);
int runner_send(struct runner *r, const struct dt_case *c);
int runner_recv(struct runner *r, struct dt_outcome *o, const char *what);
bool runner_probe(struct runner *r, const uint8_t *baseline);

/* worker.c: the bt386 side, in a child process; returns its exit code.
 * With paging set, every case runs with paging on (an identity map), so
 * each memory operand goes through the shadow-table lookup. */
extern bool worker_paging;
int worker_main(int in_fd, int out_fd);

/* compare.c */
struct dt_report {
    const char *reference;  /* name of the reference runner */
    const char *family;
    const uint8_t *baseline;
};
uint32_t compare_flag_mask(const struct dt_case *c, uint32_t stop_eip);
bool compare_outcomes(const struct dt_case *c, const struct dt_outcome *ref,
                      const struct dt_outcome *bt, const char **first_diff);
void compare_print(const struct dt_case *c, const struct dt_outcome *ref,
                   const struct dt_outcome *bt, const struct dt_report *rep);
uint64_t compare_count_insns(const struct dt_case *c, uint32_t stop_eip);
void disasm_print(const uint8_t *code, uint32_t len, uint32_t addr,
                  const char *indent);

#endif
