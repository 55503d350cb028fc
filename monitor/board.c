// SPDX-License-Identifier: MIT
/* The board: one screen that wires the PC — memory, vCPU, translator,
 * ports and devices — with literal addresses, in init order. */
#include "monitor/board.h"
#include "monitor/monitor.h"
#include "monitor/multiboot.h"
#include "monitor/options.h"
#include "dbt/dbt.h"
#include "mmu/shadow.h"
#include "mmu/window.h"
#include "devices/bus.h"
#include "devices/debugexit.h"
#include "devices/post.h"
#include "devices/uart.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CODE_CACHE_BYTES (64u << 20)
#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define POST_PORT 0x80

struct machine {
    const struct bt_options *opts;
    struct window win;
    struct shadow shadow;
    struct vcpu *vcpu;
    struct dbt *dbt;
    struct io_bus *io;
    struct uart *com1;
    struct debugexit *debug_exit;
    struct post *post;
    int serial_fd; /* COM1 output, or -1 */
    bool serial_fd_owned;
};

static uint32_t port_read(void *opaque, uint16_t port, unsigned size)
{
    struct machine *m = opaque;
    return bus_read(m->io, port, size);
}

static void port_write(void *opaque, uint16_t port, unsigned size,
                       uint32_t val)
{
    struct machine *m = opaque;
    bus_write(m->io, port, size, val);
}

/* isa-debug-exit: the first request wins (a wide write arrives as several
 * byte writes, each asking to exit). */
static void debug_exit_request(void *ctx, int status)
{
    struct machine *m = ctx;
    if (!m->vcpu->shutdown)
        cpu_shutdown(m->vcpu, status, NULL);
}

static int open_serial(struct machine *m, char *err, size_t errlen)
{
    const struct bt_options *o = m->opts;
    m->serial_fd = -1;
    if (o->serial == SERIAL_STDIO) {
        m->serial_fd = STDOUT_FILENO;
    } else if (o->serial == SERIAL_FILE) {
        m->serial_fd = open(o->serial_path,
                            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m->serial_fd < 0) {
            snprintf(err, errlen, "-serial file:%s: %s", o->serial_path,
                     strerror(errno));
            return -1;
        }
        m->serial_fd_owned = true;
    }
    return 0;
}

/* The ISA devices, at their PC addresses. */
static int wire_devices(struct machine *m, char *err, size_t errlen)
{
    const struct bt_options *o = m->opts;
    m->io = bus_create("io");
    m->post = m->io ? post_create(m->io, POST_PORT) : NULL;
    if (!m->post) {
        snprintf(err, errlen, "cannot create the I/O bus");
        return -1;
    }
    if (o->serial != SERIAL_NONE) {
        if (open_serial(m, err, errlen) != 0)
            return -1;
        struct irq_line none = {NULL, NULL, COM1_IRQ}; /* no PIC yet */
        m->com1 = uart_create(m->io, COM1_BASE, none, m->serial_fd, -1);
    }
    if (o->debug_exit) {
        m->debug_exit = debugexit_create(m->io, o->debug_exit_base,
                                         o->debug_exit_size,
                                         debug_exit_request, m);
        if (!m->debug_exit) {
            snprintf(err, errlen, "-device isa-debug-exit: ports 0x%x-0x%x "
                     "overlap another device", o->debug_exit_base,
                     o->debug_exit_base + o->debug_exit_size - 1);
            return -1;
        }
    }
    return 0;
}

/* Load the kernel and put the vCPU at its entry point. */
static int machine_boot(struct machine *m, char *err, size_t errlen)
{
    struct boot_info bi;
    struct vcpu *v = m->vcpu;
    memset(m->win.ram, 0, m->win.ram_size);
    if (multiboot_load(m->opts->kernel, m->opts->append, m->opts->initrd,
                       m->win.ram, m->win.ram_size, &bi, err, errlen) != 0)
        return -1;
    vcpu_set_flat32(v, bi.entry);
    v->regs[R_EAX] = bi.eax;
    v->regs[R_EBX] = bi.ebx;
    v->shutdown = v->reset_requested = false;
    shadow_flush(&m->shadow);
    dbt_flush(m->dbt, v);
    return 0;
}

static int create_cpu(struct machine *m, char *err, size_t errlen)
{
    m->vcpu = vcpu_create();
    m->dbt = dbt_create(CODE_CACHE_BYTES);
    if (!m->vcpu || !m->dbt || shadow_init(&m->shadow) != 0) {
        snprintf(err, errlen, "cannot allocate the vCPU or code cache: %s",
                 strerror(errno));
        return -1;
    }
    struct vcpu *v = m->vcpu;
    vcpu_attach(v, m->dbt, &m->shadow, &m->win);
    v->io_read = port_read;
    v->io_write = port_write;
    v->io_opaque = m;
    v->no_reboot = m->opts->no_reboot;
    if (dbt_signals_install(m->dbt, v) != 0) {
        snprintf(err, errlen, "cannot install signal handlers: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

struct machine *machine_create(const struct bt_options *o, char *err,
                               size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->opts = o;
    m->serial_fd = -1;
    m->win.ram_fd = -1;
    signal(SIGPIPE, SIG_IGN); /* a closed serial pipe is reported, not fatal */
    if (window_create(&m->win, o->ram_mb << 20, err, errlen) != 0 ||
        create_cpu(m, err, errlen) != 0 || wire_devices(m, err, errlen) != 0 ||
        machine_boot(m, err, errlen) != 0) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

int machine_run(struct machine *m)
{
    char err[256];
    for (;;) {
        int status = cpu_run(m->vcpu);
        if (!m->vcpu->reset_requested)
            return status;
        /* Reset: the PC starts over, which for a -kernel boot means
         * loading the kernel again, as QEMU does. */
        if (m->com1)
            uart_reset(m->com1);
        if (machine_boot(m, err, sizeof(err)) != 0) {
            cpu_shutdown(m->vcpu, 1, err);
            return 1;
        }
    }
}

struct vcpu *machine_vcpu(struct machine *m)
{
    return m->vcpu;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    if (m->com1)
        uart_destroy(m->com1);
    if (m->debug_exit)
        debugexit_destroy(m->debug_exit);
    if (m->post)
        post_destroy(m->post);
    if (m->io)
        bus_destroy(m->io);
    if (m->serial_fd_owned)
        close(m->serial_fd);
    dbt_destroy(m->dbt);
    shadow_destroy(&m->shadow);
    vcpu_destroy(m->vcpu);
    window_destroy(&m->win);
    free(m);
}
