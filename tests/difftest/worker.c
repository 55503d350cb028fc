// SPDX-License-Identifier: MIT
/* The bt386 side of difftest: a child process that runs each case in the
 * real translator through the test harness (flat ring-0 guest, paging off
 * or, with --paging, on through an identity map) and answers in the same protocol as the native runner. */
#include "tests/difftest/difftest.h"
#include "tests/harness/harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_RAM_MB 16

bool worker_paging;

struct worker {
    struct harness *h;
    int in_fd, out_fd;
    uint8_t baseline[DT_MEM_SIZE];
    uint32_t code_len_prev;
    uint8_t extra[DT_MAX_CODE + DT_MAX_INIT];
    struct dt_chunk chunks[DT_NCHUNKS];
};

static int wread(struct worker *w, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = read(w->in_fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int wwrite(struct worker *w, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = write(w->out_fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint8_t *ram_at(struct worker *w, uint32_t off)
{
    return harness_ram(w->h) + dt_mem_addr(off);
}

/* Load code (INT3 after it) and the memory initialisers. 0 on success. */
static int worker_load(struct worker *w, const struct dt_req *rq)
{
    uint8_t *code = harness_ram(w->h) + DT_CODE_BASE;
    memset(code, DT_CODE_FILL, w->code_len_prev);
    memcpy(code, w->extra, rq->code_len);
    w->code_len_prev = rq->code_len;
    const uint8_t *p = w->extra + rq->code_len, *end = p + rq->init_len;
    while (p < end) {
        struct dt_init in;
        memcpy(&in, p, sizeof(in));
        p += sizeof(in);
        if (!dt_mem_valid(in.addr, in.len) || in.len > (size_t)(end - p))
            return -1;
        memcpy(harness_ram(w->h) + in.addr, p, in.len);
        p += in.len;
    }
    return 0;
}

/* Run one case and send its outcome. */
static int worker_case(struct worker *w, const struct dt_req *rq)
{
    struct harness_state st;
    struct harness_result hr;
    struct dt_res res;
    memcpy(st.regs, rq->regs, sizeof(st.regs));
    st.eip = rq->eip;
    st.eflags = rq->eflags;
    memcpy(st.fpu, rq->fpu, 512);
    harness_run(w->h, &st, &hr);
    memset(&res, 0, sizeof(res));
    res.magic = DT_MAGIC_RES;
    memcpy(res.regs, st.regs, sizeof(res.regs));
    res.eip = st.eip;
    res.eflags = st.eflags;
    res.vector = hr.vector;
    res.error = hr.error;
    res.status = hr.status;
    memcpy(res.fpu, st.fpu, 512);
    uint32_t n = 0;
    for (uint32_t i = 0; i < DT_NCHUNKS; i++) {
        uint8_t *m = ram_at(w, i * DT_CHUNK);
        if (memcmp(m, w->baseline + i * DT_CHUNK, DT_CHUNK) == 0)
            continue;
        w->chunks[n].index = i;
        memcpy(w->chunks[n].bytes, m, DT_CHUNK);
        memcpy(m, w->baseline + i * DT_CHUNK, DT_CHUNK);
        n++;
    }
    res.nchunks = n;
    if (wwrite(w, &res, sizeof(res)) != 0 ||
        wwrite(w, w->chunks, n * sizeof(w->chunks[0])) != 0)
        return -1;
    return 0;
}

static int worker_hello(struct worker *w)
{
    struct dt_hello h;
    if (wread(w, &h, sizeof(h)) != 0 || h.magic != DT_MAGIC_HELLO ||
        h.mem_size != DT_MEM_SIZE || wread(w, w->baseline, DT_MEM_SIZE) != 0)
        return -1;
    memcpy(ram_at(w, 0), w->baseline, DT_DATA_SIZE);
    memcpy(ram_at(w, DT_DATA_SIZE), w->baseline + DT_DATA_SIZE, DT_STACK_SIZE);
    memset(harness_ram(w->h) + DT_CODE_BASE, DT_CODE_FILL, DT_CODE_SIZE);
    return 0;
}

int worker_main(int in_fd, int out_fd)
{
    static struct worker w;
    w.in_fd = in_fd;
    w.out_fd = out_fd;
    w.code_len_prev = DT_CODE_SIZE;
    w.h = harness_create(WORKER_RAM_MB);
    if (!w.h) {
        fprintf(stderr, "difftest worker: harness_create failed\n");
        return 2;
    }
    if (worker_paging)
        harness_set_start(w.h, HARNESS_PAGING);
    if (worker_hello(&w) != 0)
        return 2;
    for (;;) {
        struct dt_req rq;
        if (wread(&w, &rq, sizeof(rq)) != 0)
            return 0;
        if (rq.magic != DT_MAGIC_REQ || rq.code_len > DT_MAX_CODE ||
            rq.init_len > DT_MAX_INIT ||
            wread(&w, w.extra, rq.code_len + rq.init_len) != 0 ||
            worker_load(&w, &rq) != 0 || worker_case(&w, &rq) != 0)
            return 2;
    }
}
