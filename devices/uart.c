/* SPDX-License-Identifier: MIT */
/* 16550A UART with 16-byte FIFOs, after the PC16550D datasheet. */
#include "devices/uart.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Registers: offsets from the base port */
#define UART_RBR    0 /* receiver buffer (read, DLAB = 0) */
#define UART_THR    0 /* transmitter holding (write, DLAB = 0) */
#define UART_DLL    0 /* divisor latch, low byte (DLAB = 1) */
#define UART_IER    1 /* interrupt enable (DLAB = 0) */
#define UART_DLM    1 /* divisor latch, high byte (DLAB = 1) */
#define UART_IIR    2 /* interrupt identification (read) */
#define UART_FCR    2 /* FIFO control (write) */
#define UART_LCR    3 /* line control */
#define UART_MCR    4 /* modem control */
#define UART_LSR    5 /* line status */
#define UART_MSR    6 /* modem status */
#define UART_SCR    7 /* scratch */
#define UART_NPORTS 8

#define UART_FIFO_SIZE 16 /* bytes in each FIFO of a 16550A */

/* Commands: IER, interrupt enable */
#define IER_ERBFI 0x01 /* received data available (and timeout) */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
/*
 * The upper four bits read as zero on a 16550A. Linux's autoconfig writes
 * IER bit 6 and takes the port for an XScale UART if it sticks.
 */
#define IER_MASK 0x0F

/* Commands: FCR, FIFO control */
#define FCR_FIFO_ENABLE 0x01 /* FCR0: enable both FIFOs */
#define FCR_RX_RESET    0x02 /* clear the receiver FIFO (self-clearing) */
#define FCR_TX_RESET    0x04 /* clear the transmitter FIFO (self-clearing) */
#define FCR_DMA_MODE    0x08 /* RXRDY/TXRDY pin mode, no effect here */
#define FCR_TRIGGER     0xC0 /* receiver trigger level: 1, 4, 8, 14 bytes */

/* Commands: LCR, line control (word length, parity, stop bits: unused) */
#define LCR_DLAB 0x80 /* divisor latch access bit */

/* Commands: MCR, modem control */
#define MCR_DTR  0x01 /* data terminal ready */
#define MCR_RTS  0x02 /* request to send */
#define MCR_OUT1 0x04 /* user output 1 */
#define MCR_OUT2 0x08 /* user output 2: the IRQ enable on a PC */
#define MCR_LOOP 0x10 /* loopback mode */
#define MCR_MASK 0x1F /* the upper three bits read as zero */

/* Status: IIR, interrupt identification (bit 0 clear = pending) */
#define IIR_NO_INT 0x01 /* no interrupt pending */
#define IIR_MS     0x00 /* modem status changed (lowest priority) */
#define IIR_THRE   0x02 /* transmitter holding register empty */
#define IIR_RDA    0x04 /* received data available */
#define IIR_RLS    0x06 /* receiver line status (highest priority) */
#define IIR_CTI    0x0C /* character timeout, FIFO mode only */
#define IIR_FIFO   0xC0 /* FIFOs enabled: how a 16550A tells itself apart */

/* Status: LSR, line status */
#define LSR_DR     0x01 /* data ready */
#define LSR_OE     0x02 /* overrun error */
#define LSR_PE     0x04 /* parity error */
#define LSR_FE     0x08 /* framing error */
#define LSR_BI     0x10 /* break interrupt */
#define LSR_THRE   0x20 /* transmitter holding register empty */
#define LSR_TEMT   0x40 /* transmitter empty */
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

/* Status: MSR, modem status */
#define MSR_DCTS   0x01 /* delta clear to send */
#define MSR_DDSR   0x02 /* delta data set ready */
#define MSR_TERI   0x04 /* trailing edge ring indicator */
#define MSR_DDCD   0x08 /* delta data carrier detect */
#define MSR_CTS    0x10 /* clear to send */
#define MSR_DSR    0x20 /* data set ready */
#define MSR_RI     0x40 /* ring indicator */
#define MSR_DCD    0x80 /* data carrier detect */
#define MSR_DELTAS 0x0F
/*
 * The inputs outside loopback. The far end is a host stream that is always
 * connected, so carrier, data set ready and clear to send are asserted (as
 * QEMU reports for its character devices) and the line never rings.
 */
#define MSR_EXTERNAL (MSR_DCD | MSR_DSR | MSR_CTS)

/* Guest-visible state; the transmitter is always empty (see uart_transmit). */
struct uart_regs {
    uint8_t rx_fifo[UART_FIFO_SIZE]; /* receiver FIFO; 1 slot if FCR0 = 0 */
    uint8_t rx_head;                 /* index of the oldest received byte */
    uint8_t rx_count;                /* bytes waiting in the receiver */

    uint8_t rbr;          /* last byte read, read again when empty */
    uint8_t ier;          /* interrupt enable register */
    uint8_t fcr;          /* FIFO control: FIFO enable, DMA, trigger bits */
    uint8_t lcr;          /* line control register */
    uint8_t mcr;          /* modem control register */
    uint8_t lsr;          /* LSR error bits (OE PE FE BI) until LSR read */
    uint8_t msr;          /* modem status: input lines and delta bits */
    uint8_t scr;          /* scratch register */
    uint8_t dll;          /* divisor latch, low byte */
    uint8_t dlm;          /* divisor latch, high byte */
    uint8_t thre_pending; /* THRE interrupt latched (see uart_write_thr) */
};

/* Host side: nothing here is visible to the guest. */
struct uart_host {
    struct io_bus *bus;  /* the bus our ports are claimed on */
    struct irq_line irq; /* interrupt output (IRQ 4 for COM1 on a PC) */
    int out_fd;          /* transmitted bytes go here; -1 discards */
    int in_fd;           /* recorded only (console.c reads); -1: none */
    bool out2_gate;      /* MCR OUT2 gates the interrupt, as on a PC */
    bool out_failed;     /* out_fd failed for good, reported once */
};

struct uart {
    struct uart_regs regs; /* what a snapshot saves */
    struct uart_host host; /* what the board wires up */
};

static bool uart_fifo_on(const struct uart_regs *r)
{
    return r->fcr & FCR_FIFO_ENABLE;
}

/* Receiver FIFO trigger level in bytes, from FCR bits 7:6. */
static unsigned uart_rx_trigger(const struct uart_regs *r)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};

    return levels[r->fcr >> 6];
}

/*
 * A byte from the line enters the receiver. With FIFOs off there is only
 * RBR, and a new byte overwrites an unread one. With FIFOs on, a byte that
 * finds the FIFO full stays in the shift register and is overwritten by the
 * next one: it never reaches the FIFO. Both set OE.
 */
static void uart_rx_push(struct uart_regs *r, uint8_t byte)
{
    unsigned room = uart_fifo_on(r) ? UART_FIFO_SIZE : 1;

    if (r->rx_count < room) {
        r->rx_fifo[(r->rx_head + r->rx_count) % UART_FIFO_SIZE] = byte;
        r->rx_count++;
        return;
    }
    if (!uart_fifo_on(r))
        r->rx_fifo[r->rx_head] = byte;
    r->lsr |= LSR_OE;
}

static uint8_t uart_rx_pop(struct uart_regs *r)
{
    if (r->rx_count) {
        r->rbr = r->rx_fifo[r->rx_head];
        r->rx_head = (r->rx_head + 1) % UART_FIFO_SIZE;
        r->rx_count--;
    }
    return r->rbr;
}

static void uart_rx_clear(struct uart_regs *r)
{
    r->rx_head = 0;
    r->rx_count = 0;
}

/*
 * The highest-priority pending interrupt, as IIR bits 3:0. There is no baud
 * clock here, so the line is idle whenever the guest looks, and the FIFO
 * character timeout (four idle character times) counts as already expired:
 * bytes below the trigger level report CTI at once. Like QEMU, which follows
 * real parts, CTI is masked by ERBFI.
 */
static uint8_t uart_iir_id(const struct uart_regs *r)
{
    if ((r->ier & IER_ELSI) && (r->lsr & LSR_ERRORS))
        return IIR_RLS;
    if ((r->ier & IER_ERBFI) && r->rx_count) {
        if (uart_fifo_on(r) && r->rx_count < uart_rx_trigger(r))
            return IIR_CTI;
        return IIR_RDA;
    }
    if ((r->ier & IER_ETBEI) && r->thre_pending)
        return IIR_THRE;
    if ((r->ier & IER_EDSSI) && (r->msr & MSR_DELTAS))
        return IIR_MS;
    return IIR_NO_INT;
}

/*
 * Drive the interrupt wire: high while an enabled condition is pending. On a
 * PC the UART's INTR pin reaches the PIC through a buffer enabled by the
 * OUT2 pin, so guests set MCR OUT2 to get interrupts (Linux does when the
 * port has an IRQ). Loopback forces the OUT2 pin inactive, which disconnects
 * the interrupt too.
 */
static void uart_update_irq(struct uart *u)
{
    const struct uart_regs *r = &u->regs;
    int level = uart_iir_id(r) != IIR_NO_INT;

    if (u->host.out2_gate && (!(r->mcr & MCR_OUT2) || (r->mcr & MCR_LOOP)))
        level = 0;
    irq_set(&u->host.irq, level);
}

/*
 * The MSR input lines. In loopback the modem control outputs feed the inputs
 * inside the chip: RTS to CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD. Linux's
 * autoconfig sets LOOP | OUT2 | RTS and expects exactly DCD | CTS.
 */
static uint8_t uart_modem_inputs(const struct uart_regs *r)
{
    uint8_t in = 0;

    if (!(r->mcr & MCR_LOOP))
        return MSR_EXTERNAL;
    if (r->mcr & MCR_RTS)
        in |= MSR_CTS;
    if (r->mcr & MCR_DTR)
        in |= MSR_DSR;
    if (r->mcr & MCR_OUT1)
        in |= MSR_RI;
    if (r->mcr & MCR_OUT2)
        in |= MSR_DCD;
    return in;
}

/* Sample the input lines into MSR, latching a delta bit for each change. */
static void uart_update_msr(struct uart_regs *r)
{
    uint8_t old = r->msr & 0xF0, in = uart_modem_inputs(r);
    uint8_t changed = old ^ in, delta = 0;

    if (changed & MSR_CTS)
        delta |= MSR_DCTS;
    if (changed & MSR_DSR)
        delta |= MSR_DDSR;
    if (changed & MSR_DCD)
        delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(in & MSR_RI))
        delta |= MSR_TERI; /* only the trailing edge of a ring counts */
    r->msr = in | (r->msr & MSR_DELTAS) | delta;
}

/* Wait until fd can take more output (it was found non-blocking and full). */
static void uart_wait_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};

    poll(&p, 1, -1); /* an EINTR here just means: try the write again */
}

/*
 * Write all of buf to out_fd, in order, however the write is cut short:
 * partial writes, EINTR, or EAGAIN from a descriptor someone made
 * non-blocking (a terminal shared with stdin is). The guest's output is the
 * test result for most lab programs, so none of it may be lost. A hard error
 * (EPIPE, EIO, ENOSPC) is reported once and output is dropped from then on.
 */
static void uart_write_all(struct uart_host *h, const uint8_t *buf, size_t len)
{
    while (len > 0 && !h->out_failed) {
        ssize_t n = write(h->out_fd, buf, len);

        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uart_wait_writable(h->out_fd);
        } else {
            fprintf(stderr, "bt386: uart: output lost: %s\n",
                    n < 0 ? strerror(errno) : "write returned 0");
            h->out_failed = true;
        }
    }
}

/*
 * Send one byte. The host stream has no baud rate, so the byte leaves at
 * once and THR and the shift register are always empty again by the time
 * the guest can look (LSR THRE and TEMT stay set, the transmitter FIFO never
 * fills). All eight bits go out whatever LCR's word length: the reset value
 * means 5 bits, and bare-metal programs written against QEMU often never set
 * LCR.
 */
static void uart_transmit(struct uart *u, uint8_t byte)
{
    if (u->regs.mcr & MCR_LOOP)
        uart_rx_push(&u->regs, byte); /* SOUT is held marking; TX feeds RX */
    else if (u->host.out_fd >= 0)
        uart_write_all(&u->host, &byte, 1);
}

/*
 * A THR write clears a pending THRE interrupt; the byte leaves at once, THR
 * empties, and that sets THRE pending again, as it would a moment later on
 * the real part.
 */
static void uart_write_thr(struct uart *u, uint8_t byte)
{
    u->regs.thre_pending = 0;
    uart_transmit(u, byte);
    u->regs.thre_pending = 1;
}

/*
 * Setting ETBEI while THR is empty (it always is here) raises THRE again
 * even if an IIR read had cleared it. The datasheet is silent, but real
 * parts do it and guests depend on it: Linux's startup probe toggles ETBEI
 * and flags the UART as buggy (then polls it by timer) if THRE does not
 * come back; QEMU's serial.c notes that Windows relies on it too. Like QEMU
 * and Bochs, only the rising edge of ETBEI does this.
 */
static void uart_write_ier(struct uart_regs *r, uint8_t value)
{
    uint8_t old = r->ier;

    r->ier = value & IER_MASK;
    if ((r->ier & IER_ETBEI) && !(old & IER_ETBEI))
        r->thre_pending = 1;
    else if (!(r->ier & IER_ETBEI))
        r->thre_pending = 0;
}

/*
 * Changing FCR0 empties both FIFOs; the other bits are only programmed
 * while FCR0 is written as 1. The transmitter FIFO is always empty here, so
 * its reset has nothing to do.
 */
static void uart_write_fcr(struct uart_regs *r, uint8_t value)
{
    if ((value ^ r->fcr) & FCR_FIFO_ENABLE)
        uart_rx_clear(r);
    if (!(value & FCR_FIFO_ENABLE)) {
        r->fcr = 0;
        return;
    }
    if (value & FCR_RX_RESET)
        uart_rx_clear(r);
    r->fcr = value & (FCR_FIFO_ENABLE | FCR_DMA_MODE | FCR_TRIGGER);
}

/* IIR: reading it while THRE is the reported source clears THRE. */
static uint8_t uart_read_iir(struct uart_regs *r)
{
    uint8_t id = uart_iir_id(r);

    if (id == IIR_THRE)
        r->thre_pending = 0;
    return id | (uart_fifo_on(r) ? IIR_FIFO : 0);
}

/*
 * LSR: reading it clears the error bits. Bit 7 (an error somewhere in the
 * receiver FIFO) stays clear: a host stream has no parity, framing or break
 * errors.
 */
static uint8_t uart_read_lsr(struct uart_regs *r)
{
    uint8_t lsr = r->lsr | LSR_THRE | LSR_TEMT;

    if (r->rx_count)
        lsr |= LSR_DR;
    r->lsr = 0;
    return lsr;
}

/* MSR: reading it clears the delta bits. */
static uint8_t uart_read_msr(struct uart_regs *r)
{
    uint8_t msr = r->msr;

    r->msr &= ~MSR_DELTAS;
    return msr;
}

static uint8_t uart_read_reg(struct uart *u, uint32_t offset)
{
    struct uart_regs *r = &u->regs;
    bool dlab = r->lcr & LCR_DLAB;

    switch (offset) {
    case UART_RBR:
        return dlab ? r->dll : uart_rx_pop(r);
    case UART_IER:
        return dlab ? r->dlm : r->ier;
    case UART_IIR:
        return uart_read_iir(r);
    case UART_LCR:
        return r->lcr;
    case UART_MCR:
        return r->mcr;
    case UART_LSR:
        return uart_read_lsr(r);
    case UART_MSR:
        return uart_read_msr(r);
    default:
        return r->scr;
    }
}

/* LSR and MSR writes (a factory test feature) are ignored. */
static void uart_write_reg(struct uart *u, uint32_t offset, uint8_t value)
{
    struct uart_regs *r = &u->regs;
    bool dlab = r->lcr & LCR_DLAB;

    if (offset == UART_THR && dlab) {
        r->dll = value;
    } else if (offset == UART_THR) {
        uart_write_thr(u, value);
    } else if (offset == UART_IER && dlab) {
        r->dlm = value;
    } else if (offset == UART_IER) {
        uart_write_ier(r, value);
    } else if (offset == UART_FCR) {
        uart_write_fcr(r, value);
    } else if (offset == UART_LCR) {
        r->lcr = value;
    } else if (offset == UART_MCR) {
        r->mcr = value & MCR_MASK;
        uart_update_msr(r);
    } else if (offset == UART_SCR) {
        r->scr = value;
    }
}

/*
 * The 16550 has an 8-bit data bus: a wider access becomes byte cycles at
 * ascending ports, as the ISA bus would issue them.
 */
static uint32_t uart_io_read(void *opaque, uint32_t offset, unsigned size)
{
    struct uart *u = opaque;
    uint32_t value = 0;

    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)uart_read_reg(u, offset + i) << (8 * i);
    uart_update_irq(u);
    return value;
}

static void uart_io_write(void *opaque, uint32_t offset, unsigned size,
                          uint32_t value)
{
    struct uart *u = opaque;

    for (unsigned i = 0; i < size; i++)
        uart_write_reg(u, offset + i, (value >> (8 * i)) & 0xFF);
    uart_update_irq(u);
}

static const struct io_ops uart_ops = {
    .read = uart_io_read,
    .write = uart_io_write,
};

struct uart *uart_create(struct io_bus *bus, uint16_t base, struct irq_line irq,
                         int out_fd, int in_fd)
{
    struct uart *u = calloc(1, sizeof(*u));

    if (!u)
        return NULL;
    u->host = (struct uart_host){
        .bus = bus,
        .irq = irq,
        .out_fd = out_fd,
        .in_fd = in_fd,
        .out2_gate = true,
    };
    u->regs.dll = 12; /* undefined at power-on; 12 is 9600 baud */
    uart_reset(u);
    if (bus_register(bus, base, UART_NPORTS, &uart_ops, u, "uart") < 0) {
        free(u);
        return NULL;
    }
    return u;
}

/* Master reset leaves the scratch register and the divisor latch alone. */
void uart_reset(struct uart *u)
{
    struct uart_regs *r = &u->regs;
    uint8_t scr = r->scr, dll = r->dll, dlm = r->dlm;

    memset(r, 0, sizeof(*r));
    r->scr = scr;
    r->dll = dll;
    r->dlm = dlm;
    r->msr = uart_modem_inputs(r); /* the lines as they are, no deltas */
    uart_update_irq(u);
}

void uart_destroy(struct uart *u)
{
    free(u);
}

void uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
    if (u->regs.mcr & MCR_LOOP)
        return;
    for (size_t i = 0; i < len; i++)
        uart_rx_push(&u->regs, buf[i]);
    uart_update_irq(u);
}

size_t uart_rx_room(const struct uart *u)
{
    if (u->regs.mcr & MCR_LOOP)
        return 0;
    unsigned room = uart_fifo_on(&u->regs) ? UART_FIFO_SIZE : 1;
    return room - u->regs.rx_count;
}

void uart_set_out2_gate(struct uart *u, bool gate)
{
    u->host.out2_gate = gate;
    uart_update_irq(u);
}
