// SPDX-License-Identifier: MIT
/* The board: one screen that wires the PC — memory, vCPU, translator,
 * ports and devices — with literal addresses, in init order. */
#include "monitor/board.h"
#include "monitor/acpitables.h"
#include "monitor/monitor.h"
#include "monitor/multiboot.h"
#include "monitor/options.h"
#include "dbt/dbt.h"
#include "mmu/shadow.h"
#include "mmu/window.h"
#include "monitor/console.h"
#include "devices/acpipm.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/debugexit.h"
#include "devices/disk.h"
#include "devices/dma.h"
#include "devices/i8042.h"
#include "devices/pic.h"
#include "devices/piix.h"
#include "devices/pit.h"
#include "devices/post.h"
#include "devices/rtc.h"
#include "devices/uart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#define KBD_IRQ 1
#define RTC_IRQ 8
#define AUX_IRQ 12
#define IDE0_IRQ 14
#define IDE1_IRQ 15
#define SCI_IRQ 9
#define ACPI_PM_BASE 0x600 /* where QEMU's PIIX4 puts its PM block */
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
    struct rtc *rtc;
    struct acpipm *acpi; /* NULL with -no-acpi */
    struct i8042 *kbd;
    struct piix *piix;
    struct disk *disks[PIIX_DRIVES];
    struct dma_ram dma;      /* what bus-master DMA reaches */
    struct console *console; /* COM1 input from the terminal, or NULL */
    timer_t kick_timer;      /* fires at the next device event */
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
    (void)opaque;
    return clock_now_ns();
}

/* The vCPU that SIGALRM kicks (one vCPU per process). */
static struct vcpu *kick_vcpu;

static void on_kick(int sig, siginfo_t *si, void *uc)
{
    if (kick_vcpu)
        vcpu_kick(kick_vcpu);
}

/* SIGINT, SIGTERM, SIGHUP: stop the guest and leave cleanly (--stats
 * printed, disk files closed), as QEMU does. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
    stop_signal = sig;
    if (kick_vcpu)
        vcpu_request_stop(kick_vcpu);
}

/* The earlier of two event times, -1 meaning none. */
static int64_t earlier(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* The time of the next timer interrupt (PIT, RTC or PM timer), or -1. */
static int64_t next_event_ns(struct machine *m)
{
    int64_t next = earlier(pit_next_event_ns(m->pit), rtc_next_event_ns(m->rtc));
    return m->acpi ? earlier(next, acpipm_next_event_ns(m->acpi)) : next;
}

/* Arm the kick for the next timer event: translated code runs without
 * exits for as long as the guest likes, so time must interrupt it. */
static void arm_kick(struct machine *m)
{
    int64_t next = next_event_ns(m);
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

/* Terminal input into COM1; Ctrl-A x stops the machine. */
static void poll_console(struct machine *m)
{
    if (m->console && console_pending(m->console) &&
        console_poll(m->console, m->com1) == CONSOLE_QUIT)
        cpu_shutdown(m->vcpu, 0, NULL);
}

/* The INTR line: devices catch up with time, then the PIC decides. */
static bool board_intr_pending(void *opaque)
{
    struct machine *m = opaque;
    pit_update(m->pit);
    if (pit_lost_ticks(m->pit) && !pic_irq_requested(m->pic, 0)) {
        pit_reinject(m->pit);
        m->vcpu->stats.ticks_reinjected++;
    }
    rtc_update(m->rtc);
    if (m->acpi)
        acpipm_update(m->acpi);
    poll_console(m);
    arm_kick(m);
    return pic_intr(m->pic);
}

static int board_intr_ack(void *opaque)
{
    struct machine *m = opaque;
    return pic_acknowledge(m->pic);
}

/* HLT with interrupts enabled: sleep until the next timer event or
 * terminal input (SIGIO also cuts the sleep short). */
static void board_idle(void *opaque)
{
    struct machine *m = opaque;
    int64_t now = (int64_t)board_now_ns(m), next = next_event_ns(m);
    if (next < 0 || next - now > IDLE_MAX_NS)
        next = now + IDLE_MAX_NS;
    if (m->console && console_pending(m->console))
        return;
    struct pollfd pfd = {m->console ? console_fd(m->console) : -1, POLLIN, 0};
    struct timespec ts = {(next - now) / 1000000000, (next - now) % 1000000000};
    if (next > now)
        ppoll(&pfd, 1, &ts, NULL);
}

/* SIGIO: terminal input is waiting; stop translated code to take it. */
static void wake_for_input(void *opaque)
{
    if (kick_vcpu)
        vcpu_kick(kick_vcpu);
}

/* The keyboard controller's reset line (and port 0x92): the PC reboots,
 * or with -no-reboot bt386 exits, as QEMU does. */
static void board_reset_request(void *opaque)
{
    struct machine *m = opaque;
    if (m->vcpu->shutdown)
        return;
    if (m->opts->no_reboot)
        cpu_shutdown(m->vcpu, 0, NULL);
    else
        m->vcpu->reset_requested = true;
}

/* 0xCF9 with RCPU set (Linux's reboot=pci): the same reset. INIT only
 * (SRST clear) resets the CPU alone on hardware; here it is the same. */
static void board_pci_reset_request(void *opaque, int hard)
{
    (void)hard;
    board_reset_request(opaque);
}

/* ACPI S5 (Linux's poweroff): the machine is off; bt386 exits 0. */
static void board_power_off(void *opaque)
{
    struct machine *m = opaque;
    if (!m->vcpu->shutdown)
        cpu_shutdown(m->vcpu, 0, NULL);
}

/* DMA wrote guest RAM: translations of code there are stale. */
static void dma_written(void *opaque, uint32_t pa, uint32_t len)
{
    struct machine *m = opaque;
    dbt_note_write(m->dbt, m->vcpu, pa, len);
}

/* Open the -hda/-drive images and put the PIIX's IDE controller on PCI. */
static int wire_disks(struct machine *m, char *err, size_t errlen)
{
    const struct bt_options *o = m->opts;
    for (int i = 0; i < PIIX_DRIVES && i < OPT_DRIVES; i++) {
        if (!o->drives[i].present)
            continue;
        char why[256];
        m->disks[i] = disk_open(o->drives[i].file, o->drives[i].readonly, why,
                                sizeof(why));
        if (!m->disks[i]) {
            snprintf(err, errlen, "disk %s", why);
            return -1;
        }
    }
    if (m->disks[PIIX_PRIMARY_SLAVE] && !m->disks[PIIX_PRIMARY_MASTER]) {
        snprintf(err, errlen, "-hdb needs -hda: an IDE slave needs a master");
        return -1;
    }
    if (m->disks[PIIX_SECONDARY_SLAVE] && !m->disks[PIIX_SECONDARY_MASTER]) {
        snprintf(err, errlen, "-hdd needs -hdc: an IDE slave needs a master");
        return -1;
    }
    m->dma = (struct dma_ram){m->win.ram, m->win.ram_size, dma_written, m};
    m->piix = piix_create(m->io, pic_irq_line(m->pic, IDE0_IRQ),
                          pic_irq_line(m->pic, IDE1_IRQ), m->disks, &m->dma);
    if (!m->piix) {
        snprintf(err, errlen, "cannot create the PCI bus and IDE controller");
        return -1;
    }
    pci_set_reset_handler(piix_pci(m->piix), board_pci_reset_request, m);
    return 0;
}

/* Wall-clock seconds for the RTC: the host's, in UTC as Linux expects. */
static int64_t board_wall_time(void *opaque)
{
    return (int64_t)time(NULL);
}

static int create_kick_timer(struct machine *m)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    m->kick_deadline = -1;
    kick_vcpu = m->vcpu;
    if (dbt_sigaction(SIGINT, on_stop_signal, SA_RESTART) != 0 ||
        dbt_sigaction(SIGTERM, on_stop_signal, SA_RESTART) != 0 ||
        dbt_sigaction(SIGHUP, on_stop_signal, SA_RESTART) != 0)
        return -1;
    return dbt_sigaction(SIGALRM, on_kick, SA_RESTART) == 0 &&
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
    m->rtc = m->pit ? rtc_create(m->io, pic_irq_line(m->pic, RTC_IRQ),
                                 board_now_ns, board_wall_time, m)
                    : NULL;
    m->kbd = m->rtc ? i8042_create(m->io, pic_irq_line(m->pic, KBD_IRQ),
                                   pic_irq_line(m->pic, AUX_IRQ),
                                   board_reset_request, m)
                    : NULL;
    if (!m->kbd || create_kick_timer(m) != 0) {
        snprintf(err, errlen, "cannot create the interrupt controller, "
                 "timers or keyboard controller");
        return -1;
    }
    rtc_set_memory_size(m->rtc, m->win.ram_size);
    if (!o->no_acpi) {
        m->acpi = acpipm_create(m->io, ACPI_PM_BASE,
                                pic_irq_line(m->pic, SCI_IRQ), board_now_ns,
                                board_power_off, m);
        if (!m->acpi) {
            snprintf(err, errlen, "cannot create the ACPI PM registers");
            return -1;
        }
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
        if (m->com1 && o->serial == SERIAL_STDIO) {
            m->console = console_open(STDIN_FILENO, o->nographic || o->serial_mux,
                                      wake_for_input, m);
            if (!m->console) {
                snprintf(err, errlen, "cannot set up the console: %s",
                         strerror(errno));
                return -1;
            }
        }
    }
    if (wire_disks(m, err, errlen) != 0)
        return -1;
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
    /* The firmware's part: ACPI tables in the BIOS area, which the
     * kernel's loader left alone (the e820 map reserves it). */
    const struct acpi_config acpi = {ACPI_PM_BASE, SCI_IRQ, ACPIPM_SLP_TYP_S5};
    if (m->acpi && acpi_tables_build(m->win.ram, m->win.ram_size, &acpi) != 0) {
        snprintf(err, errlen, "-m %u: too little RAM for the ACPI tables",
                 (unsigned)(m->win.ram_size >> 20));
        return -1;
    }
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
        rtc_reset(m->rtc);
        if (m->acpi)
            acpipm_reset(m->acpi);
        i8042_reset(m->kbd);
        piix_reset(m->piix);
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
    console_close(m->console);
    if (m->piix)
        piix_destroy(m->piix);
    for (int i = 0; i < PIIX_DRIVES; i++)
        if (m->disks[i])
            disk_close(m->disks[i]);
    if (m->kbd)
        i8042_destroy(m->kbd);
    if (m->acpi)
        acpipm_destroy(m->acpi);
    if (m->rtc)
        rtc_destroy(m->rtc);
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
