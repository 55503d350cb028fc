/* SPDX-License-Identifier: MIT */
/* The host terminal as the guest's serial console, with QEMU's Ctrl-A keys. */
#ifndef BT386_MONITOR_CONSOLE_H
#define BT386_MONITOR_CONSOLE_H

#include <stdbool.h>

struct console;
struct uart;

/*
 * Read guest console input from in_fd (not closed here). A terminal is put
 * in raw mode until console_close, so keys reach the guest as typed; with
 * mux (as -nographic), Ctrl-C goes to the guest too and Ctrl-A starts a
 * console command (Ctrl-A h lists them). Input arrival raises SIGIO, whose
 * handler calls wake(opaque) — it must be async-signal-safe. Returns NULL
 * with errno set on failure.
 */
struct console *console_open(int in_fd, bool mux, void (*wake)(void *),
                             void *opaque);

/* Restore the terminal. NULL is ignored. */
void console_close(struct console *c);

/* Whether input may be waiting (set by SIGIO, cleared by console_poll). */
bool console_pending(const struct console *c);

/* The input descriptor, for poll() while the guest idles. */
int console_fd(const struct console *c);

enum console_event { CONSOLE_NONE, CONSOLE_QUIT };

/*
 * Move host input into the UART's receiver, no more than it has room for
 * (the rest waits here). Returns CONSOLE_QUIT after Ctrl-A x.
 */
enum console_event console_poll(struct console *c, struct uart *u);

#endif
