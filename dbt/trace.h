/* SPDX-License-Identifier: MIT */
/* Translation traces (guest and host code of each new block). */
#ifndef BT386_DBT_TRACE_H
#define BT386_DBT_TRACE_H

#include <stdio.h>

struct dbt;
struct vcpu;
struct block;

#define TRACE_IN_ASM  0x1 /* guest instructions of each new block */
#define TRACE_OUT_ASM 0x2 /* host code of each new block */
#define TRACE_EXITS   0x4 /* every exit to the monitor */

/* What to trace (TRACE_*) and where (NULL: stderr). */
extern unsigned dbt_trace_mask;
extern FILE *dbt_trace_file;

void dbt_trace_block(struct dbt *d, struct vcpu *v, const struct block *b);

#endif
