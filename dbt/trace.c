// SPDX-License-Identifier: MIT
/* Translation traces: each new block's guest instructions and the host
 * code made for them, both disassembled with Capstone. */
#include "dbt/internal.h"
#include "dbt/trace.h"

#include <capstone/capstone.h>
#include <stdio.h>

unsigned dbt_trace_mask;
FILE *dbt_trace_file;

static void trace_host(const struct block *b, FILE *f)
{
    csh h;
    cs_insn *insn;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
        return;
    size_t n = cs_disasm(h, b->host, b->host_len, (uint64_t)(uintptr_t)b->host,
                         0, &insn);
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t off = (uint32_t)(insn[i].address - (uintptr_t)b->host);
        while (k < b->ninsns && b->pcmap[k].host_off <= off) {
            fprintf(f, "   ; guest %08x\n", b->pcmap[k].eip);
            k++;
        }
        fprintf(f, "    +%04x  %s %s\n", off, insn[i].mnemonic, insn[i].op_str);
    }
    cs_free(insn, n);
    cs_close(&h);
}

static void trace_guest(struct dbt *d, struct vcpu *v, const struct block *b,
                        FILE *f)
{
    for (uint32_t i = 0; i < b->ninsns; i++) {
        struct insn in;
        uint32_t eip = b->pcmap[i].eip;
        if (dbt_decode_at(d, v, eip, &in))
            fprintf(f, "  %08x  %s\n", eip, in.text);
        else
            fprintf(f, "  %08x  (undecodable)\n", eip);
    }
}

void dbt_trace_block(struct dbt *d, struct vcpu *v, const struct block *b)
{
    FILE *f = dbt_trace_file ? dbt_trace_file : stderr;
    fprintf(f, "block %08x mode %x: %u guest insns, %u guest bytes, "
               "%u host bytes at %p\n", b->eip, b->mode, b->ninsns,
            b->guest_len, b->host_len, (const void *)b->host);
    if (dbt_trace_mask & TRACE_IN_ASM)
        trace_guest(d, v, b, f);
    if (dbt_trace_mask & TRACE_OUT_ASM)
        trace_host(b, f);
    fflush(f);
}
