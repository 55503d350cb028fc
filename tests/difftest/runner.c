// SPDX-License-Identifier: MIT
/* Difftest runners: child processes that run cases and speak proto.h over
 * two pipes. The native runner is exec'd; the bt386 worker is a fork. */
#include "tests/difftest/difftest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a runner may be silent before the driver says so; after
 * SILENT_LIMIT such periods on one read it is taken for hung: killed, and
 * the case reported with its seed (a case runs in microseconds, so three
 * minutes is no speed limit, only the end of a hang). */
#define SILENT_MS 60000
#define SILENT_LIMIT 3

static int write_full(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_full(struct runner *r, void *buf, size_t n, const char *what)
{
    uint8_t *p = buf;
    int silent = 0;
    while (n > 0) {
        struct pollfd pfd = {.fd = r->from_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, SILENT_MS);
        if (pr == 0) {
            silent++;
            fprintf(stderr, "difftest: %s silent for %d s on %s%s\n", r->name,
                    SILENT_MS / 1000 * silent, what,
                    silent == SILENT_LIMIT ? ": taken for hung" : "");
            if (silent == SILENT_LIMIT) {
                r->hung = true;
                return -1;
            }
            continue;
        }
        ssize_t got = pr < 0 ? -1 : read(r->from_fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* execv argv[0], searching PATH when it has no slash. Unlike execvp this
 * never hands a binary the kernel cannot run (ENOEXEC) to the shell. */
static void exec_path(char *const *argv)
{
    if (strchr(argv[0], '/')) {
        execv(argv[0], argv);
        return;
    }
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, argv[0]);
        execv(buf, argv);
        path += n + (path[n] == ':');
    }
}

/* In the child: wire the pipes and become the runner. */
static void runner_child(struct runner *r, int in_fd, int out_fd)
{
    if (r->argv) {
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        exec_path(r->argv);
        _exit(127);
    }
    /* The worker talks on fds 3 and 4; its stdout goes to stderr so that
     * nothing bt386 prints can corrupt the protocol. */
    dup2(in_fd, 3);
    dup2(out_fd, 4);
    dup2(2, 1);
    for (int fd = 5; fd < 1024; fd++)
        close(fd);
    _exit(worker_main(3, 4));
}

/* Start runner r and send it the baseline memory. 0 on success. */
int runner_start(struct runner *r, const uint8_t *baseline)
{
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    r->pid = fork();
    if (r->pid < 0)
        return -1;
    if (r->pid == 0)
        runner_child(r, to[0], from[1]);
    close(to[0]);
    close(from[1]);
    r->to_fd = to[1];
    r->from_fd = from[0];
    struct dt_hello h = {DT_MAGIC_HELLO, DT_MEM_SIZE};
    if (write_full(r->to_fd, &h, sizeof(h)) != 0 ||
        write_full(r->to_fd, baseline, DT_MEM_SIZE) != 0)
        return -1;
    return 0;
}

/* Stop runner r (EOF on its input, then reap it). Returns its wait status. */
static int runner_reap(struct runner *r)
{
    int st = 0;
    if (r->pid <= 0)
        return 0;
    close(r->to_fd);
    close(r->from_fd);
    while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
        ;
    r->pid = -1;
    return st;
}

void runner_stop(struct runner *r)
{
    runner_reap(r);
}

int runner_send(struct runner *r, const struct dt_case *c)
{
    struct dt_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.magic = DT_MAGIC_REQ;
    memcpy(rq.regs, c->regs, sizeof(rq.regs));
    rq.eip = DT_CODE_BASE;
    rq.eflags = c->eflags;
    rq.sentinel = c->sentinel;
    rq.code_len = c->code_len;
    rq.init_len = c->init_len;
    memcpy(rq.fpu, c->fpu, 512);
    if (r->pid <= 0)
        return -1;
    if (write_full(r->to_fd, &rq, sizeof(rq)) != 0 ||
        write_full(r->to_fd, c->code, c->code_len) != 0 ||
        write_full(r->to_fd, c->init, c->init_len) != 0)
        return -1;
    return 0;
}

/* Read one outcome. A runner that died is reaped and marked so. */
int runner_recv(struct runner *r, struct dt_outcome *o, const char *what)
{
    o->died = false;
    o->hung = false;
    o->nchunks = 0;
    if (r->pid > 0 && read_full(r, &o->res, sizeof(o->res), what) == 0 &&
        o->res.magic == DT_MAGIC_RES && o->res.nchunks <= DT_NCHUNKS &&
        read_full(r, o->chunks, o->res.nchunks * sizeof(o->chunks[0]), what) == 0) {
        o->nchunks = o->res.nchunks;
        return 0;
    }
    o->died = true;
    o->hung = r->hung;
    r->hung = false;
    if (r->pid > 0)
        kill(r->pid, SIGKILL);
    o->wstatus = runner_reap(r);
    return -1;
}

/* Does runner r start and stop at a bare HLT as it should? */
bool runner_probe(struct runner *r, const uint8_t *baseline)
{
    static struct dt_case c;
    static struct dt_outcome o;
    memset(&c, 0, offsetof(struct dt_case, code));
    c.regs[4] = DT_STACK_ESP;
    c.eflags = 0x202;
    c.fpu[0] = 0x7f, c.fpu[1] = 0x03;   /* FCW */
    c.fpu[24] = 0x80, c.fpu[25] = 0x1f; /* MXCSR */
    c.code[0] = 0xf4;
    c.code_len = 1;
    c.init_len = 0;
    c.sentinel = DT_CODE_BASE;
    if (runner_start(r, baseline) != 0 || runner_send(r, &c) != 0 ||
        runner_recv(r, &o, "the probe") != 0)
        return false;
    if (o.res.vector == DT_VEC_HLT && o.res.eip == DT_CODE_BASE + 1)
        return true;
    runner_stop(r);
    return false;
}
