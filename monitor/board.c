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
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/post.h"
#include "devices/uart.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CODE_CACHE_BYTES (64u << 20)
#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define PIT_IRQ 0
#define POST_PORT 0x80
#define IDLE_MAX_NS 100000000 /* a halted guest with no timer re-checks at 10 Hz */

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
    struct pic *pic;
    struct pit *pit;
    timer_t kick_timer;      /* fires at the PIT's next event */
    int64_t kick_deadline;   /* what it is armed for (-1: disarmed) */
    int serial_fd; /* COM1 output, or -1 */
    bool serial_fd_owned;
};

/* Port I/O. Devices catch up with time first: a guest may poll the
 * PIC's IRR or port 0x61 with interrupts disabled. */
static uint32_t port_read(void *opaque, uint16_t port, unsigned size)
{
    struct machine *m = opaque;
    if (m->pit)
        pit_update(m->pit);
    return bus_read(m->io, port, size);
}

static void port_write(void *opaque, uint16_t port, unsigned size,
                       uint32_t val)
{
    struct machine *m = opaque;
    if (m->pit)
        pit_update(m->pit);
    bus_write(m->io, port, size, val);
}

/* Device time: the host's monotonic clock, in nanoseconds. */
static uint64_t board_now_ns(void *opaque)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The vCPU that SIGALRM kicks (one vCPU per process). */
static struct vcpu *kick_vcpu;

static void on_kick(int sig)
{
    if (kick_vcpu)
        vcpu_kick(kick_vcpu);
}

/* SIGINT, SIGTERM, SIGHUP: stop the guest and leave cleanly (--stats
 * printed, disk files closed), as QEMU does. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    if (kick_vcpu)
        vcpu_request_stop(kick_vcpu);
}

/* Arm the kick for the PIT's next event: translated code runs without
 * exits for as long as the guest likes, so time must interrupt it. */
static void arm_kick(struct machine *m)
{
    int64_t next = pit_next_event_ns(m->pit);
    if (next == m->kick_deadline)
        return;
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (next >= 0) {
        its.it_value.tv_sec = next / 1000000000;
        its.it_value.tv_nsec = next % 1000000000;
    }
    m->kick_deadline = next;
    timer_settime(m->kick_timer, TIMER_ABSTIME, &its, NULL);
}

/* The INTR line: devices catch up with time, then the PIC decides. */
static bool board_intr_pending(void *opaque)
{
    struct machine *m = opaque;
    pit_update(m->pit);
    arm_kick(m);
    return pic_intr(m->pic);
}

static int board_intr_ack(void *opaque)
{
    struct machine *m = opaque;
    return pic_acknowledge(m->pic);
}

/* HLT with interrupts enabled: sleep until the next device event. */
static void board_idle(void *opaque)
{
    struct machine *m = opaque;
    int64_t now = (int64_t)board_now_ns(m), next = pit_next_event_ns(m->pit);
    if (next < 0 || next - now > IDLE_MAX_NS)
        next = now + IDLE_MAX_NS;
    struct timespec ts = {next / 1000000000, next % 1000000000};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int create_kick_timer(struct machine *m)
{
    struct sigaction sa;
    struct sigevent sev;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_kick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    m->kick_deadline = -1;
    kick_vcpu = m->vcpu;
    struct sigaction stop = sa;
    stop.sa_handler = on_stop_signal;
    if (sigaction(SIGINT, &stop, NULL) != 0 ||
        sigaction(SIGTERM, &stop, NULL) != 0 ||
        sigaction(SIGHUP, &stop, NULL) != 0)
        return -1;
    return sigaction(SIGALRM, &sa, NULL) == 0 &&
                   timer_create(CLOCK_MONOTONIC, &sev, &m->kick_timer) == 0
               ? 0
               : -1;
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
    m->pic = pic_create(m->io);
    m->pit = m->pic ? pit_create(m->io, pic_irq_line(m->pic, PIT_IRQ),
                                 board_now_ns, m)
                    : NULL;
    if (!m->pit || create_kick_timer(m) != 0) {
        snprintf(err, errlen, "cannot create the interrupt controller or timer");
        return -1;
    }
    if (o->serial != SERIAL_NONE) {
        if (open_serial(m, err, errlen) != 0)
            return -1;
        m->com1 = uart_create(m->io, COM1_BASE, pic_irq_line(m->pic, COM1_IRQ),
                              m->serial_fd, -1);
        /* QEMU does not gate the UART interrupt with MCR.OUT2 and teaching
         * kernels (xv6) rely on that; lab Makefiles must behave the same. */
        if (m->com1)
            uart_set_out2_gate(m->com1, false);
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
    v->regs[R_ESI] = bi.esi;
    if (bi.cs) {
        for (int s = 0; s < SEG_COUNT; s++)
            v->seg[s].sel = s == SEG_CS ? bi.cs : bi.ds;
        v->gdtr.base = bi.gdt_base;
        v->gdtr.limit = bi.gdt_limit;
    }
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
    v->intr_pending = board_intr_pending;
    v->intr_ack = board_intr_ack;
    v->idle = board_idle;
    v->intr_opaque = m;
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
        if (stop_signal) {
            snprintf(m->vcpu->shutdown_why, sizeof(m->vcpu->shutdown_why),
                     "terminating on signal %d", (int)stop_signal);
            return 128 + stop_signal;
        }
        if (!m->vcpu->reset_requested)
            return status;
        /* Reset: the PC starts over, which for a -kernel boot means
         * loading the kernel again, as QEMU does. */
        if (m->com1)
            uart_reset(m->com1);
        pic_reset(m->pic);
        pit_reset(m->pit);
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
    if (m->pit) {
        timer_delete(m->kick_timer);
        kick_vcpu = NULL;
        pit_destroy(m->pit);
    }
    if (m->pic)
        pic_destroy(m->pic);
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
