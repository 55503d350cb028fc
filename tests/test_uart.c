/* SPDX-License-Identifier: MIT */
/* Unit tests for the 16550A UART, driven through its ports like a guest. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/uart.h"

#define COM1 0x3F8
#define COM2 0x2F8

/* Register offsets, as a guest driver names them. */
#define RBR 0 /* receiver buffer (read) */
#define THR 0 /* transmitter holding (write) */
#define DLL 0 /* divisor latch low (DLAB = 1) */
#define IER 1 /* interrupt enable */
#define DLM 1 /* divisor latch high (DLAB = 1) */
#define IIR 2 /* interrupt identification (read) */
#define FCR 2 /* FIFO control (write) */
#define LCR 3 /* line control */
#define MCR 4 /* modem control */
#define LSR 5 /* line status */
#define MSR 6 /* modem status */
#define SCR 7 /* scratch */

/* A fake interrupt wire that remembers its level. */
struct fake_irq {
    int level; /* last level driven */
    int calls; /* times it was driven */
    int irq;   /* line number passed */
};

static void fake_set_irq(void *opaque, int irq, int level)
{
    struct fake_irq *f = opaque;

    f->level = level;
    f->irq = irq;
    f->calls++;
}

static struct io_bus *bus;
static struct uart *u;
static struct fake_irq irq_wire;
static int out_pipe[2];

static struct irq_line fake_line(void)
{
    return (struct irq_line){fake_set_irq, &irq_wire, 4};
}

static void setup(void)
{
    irq_wire = (struct fake_irq){.level = -1};
    ck_assert_int_eq(pipe(out_pipe), 0);
    fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
    bus = bus_create("io");
    u = uart_create(bus, COM1, fake_line(), out_pipe[1], -1);
    ck_assert_ptr_nonnull(u);
}

static void teardown(void)
{
    bus_destroy(bus);
    uart_destroy(u);
    close(out_pipe[0]);
    close(out_pipe[1]);
}

static uint8_t in8(unsigned reg)
{
    return bus_read(bus, COM1 + reg, 1);
}

static void out8(unsigned reg, uint8_t value)
{
    bus_write(bus, COM1 + reg, 1, value);
}

/* Whatever the UART has written to the output pipe so far, as a string. */
static const char *drain(void)
{
    static char buf[256];
    ssize_t n = read(out_pipe[0], buf, sizeof(buf) - 1);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void receive(const char *s)
{
    uart_receive(u, (const uint8_t *)s, strlen(s));
}

START_TEST(test_reset_values)
{
    ck_assert_uint_eq(in8(IER), 0x00);
    ck_assert_uint_eq(in8(IIR), 0x01); /* no interrupt, FIFOs off */
    ck_assert_uint_eq(in8(LCR), 0x00);
    ck_assert_uint_eq(in8(MCR), 0x00);
    ck_assert_uint_eq(in8(LSR), 0x60); /* THRE | TEMT */
    ck_assert_uint_eq(in8(MSR), 0xB0); /* DCD | DSR | CTS, no deltas */
    ck_assert_int_eq(irq_wire.level, 0);
    ck_assert_int_eq(irq_wire.irq, 4);
}
END_TEST

START_TEST(test_thr_output_to_pipe)
{
    const char *msg = "Hello, bt386\n";

    out8(LCR, 0x03);
    for (const char *p = msg; *p; p++) {
        ck_assert_uint_eq(in8(LSR) & 0x20, 0x20);
        out8(THR, (uint8_t)*p);
    }
    ck_assert_str_eq(drain(), msg);
    ck_assert_uint_eq(in8(LSR), 0x60);
}
END_TEST

START_TEST(test_all_eight_bits_sent_at_reset_word_length)
{
    out8(THR, 0xC3); /* LCR = 0 means 5-bit words; QEMU sends all 8 */
    ck_assert_str_eq(drain(), "\xC3");
}
END_TEST

START_TEST(test_output_discarded_without_fd)
{
    struct uart *u2 = uart_create(bus, COM2, fake_line(), -1, -1);

    ck_assert_ptr_nonnull(u2);
    bus_write(bus, COM2 + THR, 1, 'x');
    ck_assert_uint_eq(bus_read(bus, COM2 + LSR, 1), 0x60);
    ck_assert_str_eq(drain(), "");
    uart_destroy(u2);
}
END_TEST

START_TEST(test_dlab_divisor_latch)
{
    out8(IER, 0x05);
    out8(LCR, 0x83); /* DLAB, 8N1 */
    out8(DLL, 0x01); /* 115200 baud */
    out8(DLM, 0x02);
    ck_assert_uint_eq(in8(DLL), 0x01);
    ck_assert_uint_eq(in8(DLM), 0x02);
    ck_assert_uint_eq(in8(LCR), 0x83);
    ck_assert_str_eq(drain(), ""); /* the DLL write sent nothing */
    out8(LCR, 0x03);
    ck_assert_uint_eq(in8(IER), 0x05); /* IER untouched by the DLM write */
    out8(THR, 'k');
    ck_assert_str_eq(drain(), "k");
    out8(LCR, 0x83);
    ck_assert_uint_eq(in8(DLL), 0x01); /* the THR write left DLL alone */
    ck_assert_uint_eq(in8(DLM), 0x02);
}
END_TEST

START_TEST(test_scratch_register)
{
    out8(SCR, 0x5A);
    ck_assert_uint_eq(in8(SCR), 0x5A);
    out8(SCR, 0xA5);
    ck_assert_uint_eq(in8(SCR), 0xA5);
    uart_reset(u); /* master reset does not touch SCR */
    ck_assert_uint_eq(in8(SCR), 0xA5);
}
END_TEST

START_TEST(test_ier_mcr_unused_bits_read_zero)
{
    out8(IER, 0xFF); /* Linux's XScale probe writes IER bit 6 */
    ck_assert_uint_eq(in8(IER), 0x0F);
    out8(MCR, 0xFF);
    ck_assert_uint_eq(in8(MCR), 0x1F);
}
END_TEST

START_TEST(test_loopback_tx_to_rx)
{
    out8(MCR, 0x10);
    out8(THR, 'A');
    ck_assert_uint_eq(in8(LSR), 0x61); /* DR | THRE | TEMT */
    ck_assert_uint_eq(in8(RBR), 'A');
    ck_assert_uint_eq(in8(LSR), 0x60);
    ck_assert_str_eq(drain(), ""); /* nothing left on the wire */
}
END_TEST

START_TEST(test_loopback_mcr_to_msr)
{
    out8(MCR, 0x1A); /* LOOP | OUT2 | RTS: Linux's autoconfig probe */
    ck_assert_uint_eq(in8(MSR) & 0xF0, 0x90); /* DCD | CTS */
    out8(MCR, 0x15);                          /* LOOP | OUT1 | DTR */
    ck_assert_uint_eq(in8(MSR) & 0xF0, 0x60); /* RI | DSR */
    out8(MCR, 0x1F);
    ck_assert_uint_eq(in8(MSR) & 0xF0, 0xF0);
    out8(MCR, 0x00); /* back to the line: DCD, DSR, CTS asserted */
    ck_assert_uint_eq(in8(MSR) & 0xF0, 0xB0);
}
END_TEST

START_TEST(test_receive_ignored_in_loopback)
{
    out8(MCR, 0x10);
    receive("z");
    ck_assert_uint_eq(in8(LSR) & 0x01, 0);
}
END_TEST

START_TEST(test_msr_delta_bits)
{
    out8(MCR, 0x10); /* loopback, all outputs off: CTS DSR DCD drop */
    ck_assert_uint_eq(in8(MSR), 0x0B); /* DDCD | DDSR | DCTS */
    ck_assert_uint_eq(in8(MSR), 0x00); /* reading cleared the deltas */
    out8(MCR, 0x14);                   /* OUT1 raises RI */
    ck_assert_uint_eq(in8(MSR), 0x40); /* leading edge: no TERI */
    out8(MCR, 0x10);                   /* RI falls */
    ck_assert_uint_eq(in8(MSR), 0x04); /* TERI */
    out8(MCR, 0x12);                   /* RTS raises CTS */
    ck_assert_uint_eq(in8(MSR), 0x11);
}
END_TEST

START_TEST(test_msr_interrupt)
{
    out8(IER, 0x08);
    out8(MCR, 0x18); /* loopback with OUT2: DCD stays, CTS and DSR drop */
    ck_assert_uint_eq(in8(IIR), 0x00);
    ck_assert_int_eq(irq_wire.level, 0); /* loopback cuts the PC's gate */
    in8(MSR);
    ck_assert_uint_eq(in8(IIR), 0x01);
    out8(MCR, 0x08); /* back on the line: CTS and DSR rise */
    ck_assert_uint_eq(in8(IIR), 0x00);
    ck_assert_int_eq(irq_wire.level, 1);
    in8(MSR);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_fifo_enable_iir_bits)
{
    ck_assert_uint_eq(in8(IIR), 0x01);
    out8(FCR, 0x01);
    ck_assert_uint_eq(in8(IIR), 0xC1); /* what Linux reads as a 16550A */
    out8(FCR, 0x21); /* a 16750's 64-byte bit: must not show in IIR */
    ck_assert_uint_eq(in8(IIR), 0xC1);
    out8(FCR, 0x00);
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_linux_autoconfig_sees_16550a)
{
    /* drivers/tty/serial/8250: IER probe, loopback probe, FIFO probe */
    out8(IER, 0x00);
    ck_assert_uint_eq(in8(IER) & 0x0F, 0x00);
    out8(IER, 0x0F);
    ck_assert_uint_eq(in8(IER) & 0x0F, 0x0F);
    out8(IER, 0x00);
    out8(MCR, 0x1A);
    ck_assert_uint_eq(in8(MSR) & 0xF0, 0x90);
    out8(MCR, 0x00);
    out8(FCR, 0x01);
    ck_assert_uint_eq(in8(IIR) >> 6, 3);
}
END_TEST

START_TEST(test_rx_data_ready_and_irq)
{
    out8(MCR, 0x08); /* OUT2 */
    out8(IER, 0x01); /* ERBFI */
    ck_assert_int_eq(irq_wire.level, 0);
    receive("x");
    ck_assert_uint_eq(in8(LSR) & 0x01, 0x01);
    ck_assert_uint_eq(in8(IIR), 0x04);
    ck_assert_int_eq(irq_wire.level, 1);
    ck_assert_uint_eq(in8(RBR), 'x');
    ck_assert_uint_eq(in8(LSR) & 0x01, 0x00);
    ck_assert_uint_eq(in8(IIR), 0x01);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_rx_irq_gated_by_out2)
{
    out8(IER, 0x01);
    receive("x");
    ck_assert_uint_eq(in8(IIR), 0x04); /* pending inside the chip */
    ck_assert_int_eq(irq_wire.level, 0);
    out8(MCR, 0x08);
    ck_assert_int_eq(irq_wire.level, 1);
    out8(MCR, 0x00);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_out2_gate_off)
{
    uart_set_out2_gate(u, false);
    out8(IER, 0x01); /* xv6's setup: MCR stays 0 */
    receive("x");
    ck_assert_int_eq(irq_wire.level, 1);
    in8(RBR);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_rx_fifo_trigger_and_timeout)
{
    out8(FCR, 0x41); /* FIFO on, trigger at 4 bytes */
    out8(IER, 0x01);
    out8(MCR, 0x08);
    receive("ab");
    ck_assert_uint_eq(in8(IIR), 0xCC); /* below trigger: char timeout */
    ck_assert_int_eq(irq_wire.level, 1);
    receive("cd");
    ck_assert_uint_eq(in8(IIR), 0xC4); /* at trigger: data available */
    ck_assert_uint_eq(in8(RBR), 'a');
    ck_assert_uint_eq(in8(RBR), 'b');
    ck_assert_uint_eq(in8(RBR), 'c');
    ck_assert_uint_eq(in8(RBR), 'd');
    ck_assert_uint_eq(in8(IIR), 0xC1);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_rx_fifo_reset)
{
    out8(FCR, 0x01);
    receive("abc");
    out8(FCR, 0x03); /* clear the receiver FIFO */
    ck_assert_uint_eq(in8(LSR) & 0x01, 0x00);
    ck_assert_uint_eq(in8(IIR), 0xC1); /* FIFOs still on */
    receive("d");
    ck_assert_uint_eq(in8(RBR), 'd');
}
END_TEST

START_TEST(test_fifo_mode_change_clears_rx)
{
    out8(FCR, 0x01);
    receive("abc");
    out8(FCR, 0x00);
    ck_assert_uint_eq(in8(LSR) & 0x01, 0x00);
}
END_TEST

START_TEST(test_fifo_overrun_sets_oe)
{
    uint8_t bytes[17];

    for (int i = 0; i < 17; i++)
        bytes[i] = (uint8_t)i;
    out8(FCR, 0x01);
    out8(IER, 0x05); /* ERBFI | ELSI */
    out8(MCR, 0x08);
    uart_receive(u, bytes, sizeof(bytes));
    ck_assert_uint_eq(in8(IIR), 0xC6); /* line status beats data */
    ck_assert_int_eq(irq_wire.level, 1);
    ck_assert_uint_eq(in8(LSR), 0x63); /* OE | DR */
    ck_assert_uint_eq(in8(LSR), 0x61); /* OE cleared by the read */
    ck_assert_uint_eq(in8(IIR), 0xC4);
    for (int i = 0; i < 16; i++) /* the 17th byte was lost */
        ck_assert_uint_eq(in8(RBR), i);
    ck_assert_uint_eq(in8(LSR), 0x60);
    ck_assert_int_eq(irq_wire.level, 0);
}
END_TEST

START_TEST(test_nonfifo_overrun_overwrites_rbr)
{
    receive("ab");
    ck_assert_uint_eq(in8(LSR), 0x63);
    ck_assert_uint_eq(in8(RBR), 'b');
    ck_assert_uint_eq(in8(LSR), 0x60);
}
END_TEST

START_TEST(test_thre_raised_on_enable_cleared_by_iir_read)
{
    out8(MCR, 0x08);
    out8(IER, 0x02); /* ETBEI with THR empty */
    ck_assert_int_eq(irq_wire.level, 1);
    ck_assert_uint_eq(in8(IIR), 0x02);
    ck_assert_int_eq(irq_wire.level, 0); /* the read cleared it */
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_thre_raised_when_thr_empties)
{
    out8(MCR, 0x08);
    out8(IER, 0x02);
    in8(IIR);
    ck_assert_int_eq(irq_wire.level, 0);
    out8(THR, 'q'); /* the byte leaves, THR empties again */
    ck_assert_int_eq(irq_wire.level, 1);
    ck_assert_uint_eq(in8(IIR), 0x02);
    ck_assert_str_eq(drain(), "q");
}
END_TEST

START_TEST(test_thre_reraised_by_reenabling_etbei)
{
    /* Linux's serial8250_do_startup THRE test */
    out8(IER, 0x02);
    ck_assert_uint_eq(in8(IIR), 0x02);
    out8(IER, 0x00);
    out8(IER, 0x02);
    ck_assert_uint_eq(in8(IIR), 0x02);
    out8(IER, 0x00);
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_thre_not_reraised_without_etbei_edge)
{
    out8(IER, 0x02);
    in8(IIR);
    out8(IER, 0x03); /* ETBEI was already set */
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_thre_hidden_by_higher_priority)
{
    out8(IER, 0x03);
    receive("r");
    ck_assert_uint_eq(in8(IIR), 0x04);
    ck_assert_uint_eq(in8(IIR), 0x04); /* THRE still queued behind RDA */
    in8(RBR);
    ck_assert_uint_eq(in8(IIR), 0x02); /* ...and not lost */
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_iir_priority_order)
{
    out8(IER, 0x0F);
    out8(MCR, 0x18); /* loopback drops CTS and DSR: deltas latch */
    out8(MCR, 0x08);
    receive("st");                     /* FIFOs off: overrun */
    ck_assert_uint_eq(in8(IIR), 0x06); /* RLS */
    in8(LSR);
    ck_assert_uint_eq(in8(IIR), 0x04); /* RDA */
    in8(RBR);
    ck_assert_uint_eq(in8(IIR), 0x02); /* THRE, cleared by this read */
    ck_assert_uint_eq(in8(IIR), 0x00); /* modem status */
    in8(MSR);
    ck_assert_uint_eq(in8(IIR), 0x01);
}
END_TEST

START_TEST(test_wide_access_is_byte_cycles)
{
    out8(SCR, 0x77);
    ck_assert_uint_eq(bus_read(bus, COM1 + MSR, 2), 0x77B0);
    bus_write(bus, COM1 + LCR, 2, 0x0803); /* LCR = 0x03, MCR = 0x08 */
    ck_assert_uint_eq(in8(LCR), 0x03);
    ck_assert_uint_eq(in8(MCR), 0x08);
}
END_TEST

START_TEST(test_reset_clears_state)
{
    out8(FCR, 0x01);
    out8(IER, 0x0F);
    out8(LCR, 0x03);
    out8(MCR, 0x0B);
    receive("abc");
    ck_assert_int_eq(irq_wire.level, 1);
    uart_reset(u);
    ck_assert_int_eq(irq_wire.level, 0);
    ck_assert_uint_eq(in8(IER), 0x00);
    ck_assert_uint_eq(in8(IIR), 0x01);
    ck_assert_uint_eq(in8(LCR), 0x00);
    ck_assert_uint_eq(in8(MCR), 0x00);
    ck_assert_uint_eq(in8(LSR), 0x60);
    ck_assert_uint_eq(in8(MSR), 0xB0);
}
END_TEST

START_TEST(test_bus_refuses_overlapping_uart)
{
    ck_assert_ptr_null(uart_create(bus, COM1 + 4, fake_line(), -1, -1));
    ck_assert_ptr_null(uart_create(bus, COM1 - 7, fake_line(), -1, -1));
    ck_assert_uint_eq(in8(LSR), 0x60); /* COM1 still answers */
}
END_TEST

/* Output big enough to fill a pipe: 4 times its default 64 KiB. */
#define FLOOD_BYTES (256 * 1024)

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    alarms++;
}

/* Child: wait for the pipe to fill, then check every byte, in order. */
static void flood_reader(int fd)
{
    uint8_t buf[4096];
    long total = 0;
    ssize_t n;

    usleep(100 * 1000);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++, total++)
            if (buf[i] != (uint8_t)(total * 7))
                _exit(2);
    }
    _exit(total == FLOOD_BYTES ? 0 : 1);
}

/* Send FLOOD_BYTES through a UART into a slow reader; check all arrive. */
static void flood(int nonblocking)
{
    int p[2], status;
    pid_t child;
    struct uart *u2;

    ck_assert_int_eq(pipe(p), 0);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(p[1]);
        flood_reader(p[0]);
    }
    close(p[0]);
    if (nonblocking)
        fcntl(p[1], F_SETFL, O_NONBLOCK);
    u2 = uart_create(bus, COM2, fake_line(), p[1], -1);
    ck_assert_ptr_nonnull(u2);
    for (long i = 0; i < FLOOD_BYTES; i++)
        bus_write(bus, COM2 + THR, 1, (uint8_t)(i * 7));
    close(p[1]);
    while (waitpid(child, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR); /* the timer is still ticking */
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    uart_destroy(u2); /* its ports are never accessed again */
}

START_TEST(test_output_survives_eintr)
{
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    struct itimerval every_ms = {{0, 1000}, {0, 1000}}, off = {0};

    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &every_ms, NULL);
    flood(0);
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_int_gt(alarms, 0);
}
END_TEST

START_TEST(test_output_survives_full_nonblocking_pipe)
{
    flood(1);
}
END_TEST

static TCase *uart_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *uart_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *regs = uart_tcase("registers");
    TCase *rx = uart_tcase("receive");
    TCase *irq = uart_tcase("interrupts");
    TCase *out = uart_tcase("output");

    tcase_add_test(regs, test_reset_values);
    tcase_add_test(regs, test_dlab_divisor_latch);
    tcase_add_test(regs, test_scratch_register);
    tcase_add_test(regs, test_ier_mcr_unused_bits_read_zero);
    tcase_add_test(regs, test_loopback_tx_to_rx);
    tcase_add_test(regs, test_loopback_mcr_to_msr);
    tcase_add_test(regs, test_msr_delta_bits);
    tcase_add_test(regs, test_fifo_enable_iir_bits);
    tcase_add_test(regs, test_linux_autoconfig_sees_16550a);
    tcase_add_test(regs, test_wide_access_is_byte_cycles);
    tcase_add_test(regs, test_reset_clears_state);
    tcase_add_test(regs, test_bus_refuses_overlapping_uart);
    suite_add_tcase(s, regs);

    tcase_add_test(rx, test_receive_ignored_in_loopback);
    tcase_add_test(rx, test_rx_data_ready_and_irq);
    tcase_add_test(rx, test_rx_fifo_trigger_and_timeout);
    tcase_add_test(rx, test_rx_fifo_reset);
    tcase_add_test(rx, test_fifo_mode_change_clears_rx);
    tcase_add_test(rx, test_fifo_overrun_sets_oe);
    tcase_add_test(rx, test_nonfifo_overrun_overwrites_rbr);
    suite_add_tcase(s, rx);

    tcase_add_test(irq, test_msr_interrupt);
    tcase_add_test(irq, test_rx_irq_gated_by_out2);
    tcase_add_test(irq, test_out2_gate_off);
    tcase_add_test(irq, test_thre_raised_on_enable_cleared_by_iir_read);
    tcase_add_test(irq, test_thre_raised_when_thr_empties);
    tcase_add_test(irq, test_thre_reraised_by_reenabling_etbei);
    tcase_add_test(irq, test_thre_not_reraised_without_etbei_edge);
    tcase_add_test(irq, test_thre_hidden_by_higher_priority);
    tcase_add_test(irq, test_iir_priority_order);
    suite_add_tcase(s, irq);

    tcase_add_test(out, test_thr_output_to_pipe);
    tcase_add_test(out, test_all_eight_bits_sent_at_reset_word_length);
    tcase_add_test(out, test_output_discarded_without_fd);
    tcase_add_test(out, test_output_survives_eintr);
    tcase_add_test(out, test_output_survives_full_nonblocking_pipe);
    tcase_set_timeout(out, 20);
    suite_add_tcase(s, out);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uart_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
