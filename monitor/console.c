/* SPDX-License-Identifier: MIT */
/* The serial console on the host terminal: raw mode, SIGIO wake-ups, and
 * QEMU's Ctrl-A escape (x quits, h helps, Ctrl-A sends Ctrl-A). */
#include "monitor/console.h"
#include "devices/uart.h"
#include "dbt/dbt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A    0x01
#define INBUF_MAX 4096

struct console {
    int fd;
    bool mux;
    bool escape;         /* the last key was Ctrl-A */
    bool eof;            /* in_fd reached its end: stop reading */
    bool is_tty;
    struct termios saved;
    int saved_flags;     /* fcntl F_GETFL before O_ASYNC */
    uint8_t buf[INBUF_MAX];
    size_t head, len;    /* input not yet taken by the UART */
};

/* The one console SIGIO serves (one terminal per process). */
static volatile sig_atomic_t input_signalled;
static void (*wake_fn)(void *);
static void *wake_opaque;
static struct console *active;

static void on_sigio(int sig, siginfo_t *si, void *uc)
{
    input_signalled = 1;
    if (wake_fn)
        wake_fn(wake_opaque);
}

/* Put the terminal back however bt386 leaves. */
static void restore_at_exit(void)
{
    if (active && active->is_tty)
        tcsetattr(active->fd, TCSANOW, &active->saved);
}

struct console *console_open(int in_fd, bool mux, void (*wake)(void *),
                             void *opaque)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = in_fd;
    c->mux = mux;
    c->is_tty = isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0;
    if (c->is_tty) {
        struct termios raw = c->saved;
        cfmakeraw(&raw);
        raw.c_oflag = c->saved.c_oflag; /* keep output as it was */
        if (!mux)
            raw.c_lflag |= ISIG;        /* Ctrl-C stops bt386 */
        tcsetattr(in_fd, TCSANOW, &raw);
    }
    active = c;
    atexit(restore_at_exit);
    wake_fn = wake;
    wake_opaque = opaque;
    c->saved_flags = fcntl(in_fd, F_GETFL);
    if (dbt_sigaction(SIGIO, on_sigio, 0) != 0 || c->saved_flags < 0 ||
        fcntl(in_fd, F_SETOWN, getpid()) != 0 ||
        fcntl(in_fd, F_SETFL, c->saved_flags | O_ASYNC) != 0) {
        /* No SIGIO (e.g. a regular file): poll at every chance instead. */
        c->saved_flags = -1;
    }
    input_signalled = 1; /* input may predate O_ASYNC */
    return c;
}

void console_close(struct console *c)
{
    if (!c)
        return;
    if (c->saved_flags >= 0)
        fcntl(c->fd, F_SETFL, c->saved_flags);
    if (c->is_tty)
        tcsetattr(c->fd, TCSANOW, &c->saved);
    signal(SIGIO, SIG_IGN);
    wake_fn = NULL;
    active = NULL;
    free(c);
}

bool console_pending(const struct console *c)
{
    return !c->eof && (input_signalled || c->len > 0 || c->saved_flags < 0);
}

int console_fd(const struct console *c)
{
    return c->eof ? -1 : c->fd;
}

static void help(void)
{
    static const char text[] =
        "\r\n"
        "C-a h    print this help\r\n"
        "C-a x    exit bt386\r\n"
        "C-a C-a  send C-a to the guest\r\n";
    if (write(STDERR_FILENO, text, sizeof(text) - 1) < 0)
        return;
}

/* Read what the host has for us without blocking, Ctrl-A keys handled. */
static enum console_event fill(struct console *c)
{
    uint8_t raw[INBUF_MAX];
    struct pollfd pfd = {c->fd, POLLIN, 0};
    size_t room = INBUF_MAX - c->len;

    input_signalled = 0;
    if (room == 0 || poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
        return CONSOLE_NONE;
    ssize_t n = read(c->fd, raw, room);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        c->eof = true;
        return CONSOLE_NONE;
    }
    for (ssize_t i = 0; i < n; i++) {
        uint8_t b = raw[i];
        if (c->mux && c->escape) {
            c->escape = false;
            if (b == 'x' || b == 'X') {
                fputs("\r\nbt386: terminated by C-a x\r\n", stderr);
                return CONSOLE_QUIT;
            }
            if (b == 'h' || b == 'H' || b == '?')
                help();
            if (b != CTRL_A)
                continue;
        } else if (c->mux && b == CTRL_A) {
            c->escape = true;
            continue;
        }
        c->buf[(c->head + c->len++) % INBUF_MAX] = b;
    }
    return CONSOLE_NONE;
}

enum console_event console_poll(struct console *c, struct uart *u)
{
    enum console_event ev = fill(c);
    size_t room = uart_rx_room(u);
    while (room > 0 && c->len > 0) {
        size_t run = INBUF_MAX - c->head;
        if (run > c->len)
            run = c->len;
        if (run > room)
            run = room;
        uart_receive(u, c->buf + c->head, run);
        c->head = (c->head + run) % INBUF_MAX;
        c->len -= run;
        room -= run;
    }
    return ev;
}
