// SPDX-License-Identifier: MIT
/*
 * isa-coverage: sweep the 32-bit opcode space (one-byte, 0F, 0F 38, 0F 3A
 * maps, with and without 66/F2/F3, register and memory ModRM forms),
 * decode each encoding with Capstone and ask the translator how it handles
 * it. Prints one line per Capstone instruction id:
 *   NAME  copy|rewrite|monitor|#UD  example-bytes
 * "copy": the guest's bytes run on the host with only the memory operand
 * or ESP rewritten; "rewrite": bt386 emits its own sequence; "monitor":
 * emulated in C; "#UD": raises #UD (not part of the CPU model).
 * With --markdown, prints the table for docs/isa-coverage.md.
 */
#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "monitor/vcpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 2048

static const char *const kind_names[] = {"copy", "rewrite", "monitor", "#UD"};

struct seen {
    int kind;           /* the most capable handling seen (lowest TR_*) */
    uint8_t bytes[16];
    int len;
    bool any;
};

static struct seen seen[MAX_IDS];

static void note(struct decoder *d, struct vcpu *v, const uint8_t *b,
                 size_t n)
{
    struct insn in;
    if (!decode_insn(d, b, n, 0x1000, true, &in) || in.id >= MAX_IDS)
        return;
    int k = dbt_classify(v, &in, MODE_CODE32 | MODE_STACK32 | MODE_FLAT);
    struct seen *s = &seen[in.id];
    if (!s->any || k < s->kind) {
        s->any = true;
        s->kind = k;
        s->len = in.len;
        memcpy(s->bytes, b, in.len);
    }
}

/* Every opcode of a map, each with two ModRM forms and an immediate tail. */
static void sweep(struct decoder *d, struct vcpu *v, const uint8_t *prefix,
                  size_t plen)
{
    static const uint8_t modrms[] = {0xc1, 0x0b, 0xd3, 0x44, 0xe5, 0x3d, 0x07};
    for (int op = 0; op < 256; op++) {
        for (size_t m = 0; m < sizeof(modrms); m++) {
            uint8_t b[16] = {0};
            memcpy(b, prefix, plen);
            b[plen] = (uint8_t)op;
            b[plen + 1] = modrms[m];
            b[plen + 2] = 0x24; /* SIB, or part of an immediate */
            for (size_t i = plen + 3; i < 16; i++)
                b[i] = 0x01;
            note(d, v, b, 16);
        }
    }
}

int main(int argc, char **argv)
{
    bool md = argc > 1 && !strcmp(argv[1], "--markdown");
    struct decoder *d = decoder_create();
    struct vcpu *v = vcpu_create();
    if (!d || !v) {
        fprintf(stderr, "isa-coverage: cannot initialise\n");
        return 1;
    }
    static const uint8_t pfx[][4] = {
        {0}, {0x66}, {0xf2}, {0xf3}, {0x0f}, {0x66, 0x0f}, {0xf2, 0x0f},
        {0xf3, 0x0f}, {0x0f, 0x38}, {0x66, 0x0f, 0x38}, {0x0f, 0x3a},
        {0x66, 0x0f, 0x3a}, {0xf0}, {0x67}};
    static const size_t plens[] = {0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 2, 3, 1, 1};
    for (size_t i = 0; i < sizeof(plens) / sizeof(plens[0]); i++)
        sweep(d, v, pfx[i], plens[i]);
    int counts[4] = {0};
    if (md)
        printf("| instruction | handling | example |\n|---|---|---|\n");
    for (int id = 1; id < MAX_IDS; id++) {
        if (!seen[id].any)
            continue;
        counts[seen[id].kind]++;
        printf(md ? "| %s | %s | `" : "%-14s %-8s ", decode_insn_name(d, (unsigned)id),
               kind_names[seen[id].kind]);
        for (int i = 0; i < seen[id].len; i++)
            printf("%02x%s", seen[id].bytes[i], i + 1 < seen[id].len ? " " : "");
        printf(md ? "` |\n" : "\n");
    }
    printf(md ? "\n%d copied, %d rewritten, %d by the monitor, %d #UD\n"
              : "isa-coverage: %d copied, %d rewritten, %d by the monitor, %d #UD\n",
           counts[0], counts[1], counts[2], counts[3]);
    decoder_destroy(d);
    vcpu_destroy(v);
    return 0;
}
