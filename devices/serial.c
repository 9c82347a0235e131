/* serial.c: NS16550A UART: FIFOs, interrupt identification, loopback, receive timeout. */
#include "devices/serial.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/vmstate.h"

/* Register offsets (TL16C550 datasheet, "Accessible Registers" table). */
enum {
    UART_RBR = 0, /* read, DLAB=0; THR on write; DLL with DLAB=1 */
    UART_IER = 1, /* DLM with DLAB=1 */
    UART_IIR = 2, /* read; FCR on write */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0C /* character timeout, FIFO mode only */
#define IIR_FIFO 0xC0

#define FCR_ENABLE 0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_RXFE 0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0F

#define SERIAL_FIFO_SIZE 16

struct SerialState {
    Machine *m;
    CharBackend *chr;
    IRQLine *irq;
    uint16_t base;
    char id[32];
    int handle;

    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t dll, dlm;
    uint8_t rx_fifo[SERIAL_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    uint8_t thr_ipending;     /* THRE interrupt latched, cleared by IIR read or THR write */
    uint8_t timeout_ipending; /* character timeout, cleared by an RBR read */
    uint8_t carrier;          /* the host side is connected: DCD/DSR/CTS asserted */
    Timer rx_timer;
    int irq_out; /* last level driven on irq, -1 = unknown */
};

static const VMStateField serial_fields[] = {
    VMSTATE_U8(SerialState, ier),          VMSTATE_U8(SerialState, lcr),
    VMSTATE_U8(SerialState, mcr),          VMSTATE_U8(SerialState, lsr),
    VMSTATE_U8(SerialState, msr),          VMSTATE_U8(SerialState, scr),
    VMSTATE_U8(SerialState, fcr),          VMSTATE_U8(SerialState, dll),
    VMSTATE_U8(SerialState, dlm),          VMSTATE_BUFFER(SerialState, rx_fifo),
    VMSTATE_U8(SerialState, rx_head),      VMSTATE_U8(SerialState, rx_count),
    VMSTATE_U8(SerialState, thr_ipending), VMSTATE_U8(SerialState, timeout_ipending),
    VMSTATE_TIMER(SerialState, rx_timer),  VMSTATE_END,
};

static int serial_post_load(void *opaque);

static const VMStateDesc serial_vmstate = {
    .name = "serial16550a",
    .version = 1,
    .fields = serial_fields,
    .post_load = serial_post_load,
};

static bool serial_fifo_on(const SerialState *s)
{
    return (s->fcr & FCR_ENABLE) != 0;
}

static unsigned serial_rx_capacity(const SerialState *s)
{
    return serial_fifo_on(s) ? SERIAL_FIFO_SIZE : 1;
}

/* Receiver FIFO trigger level from FCR bits 7:6 (TL16C550 FCR description): 1, 4, 8, 14. */
static unsigned serial_rx_trigger(const SerialState *s)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    return levels[(s->fcr >> 6) & 3];
}

/* The interrupt the IIR reports now, by priority (TL16C550 "Interrupt Control Functions"
 * table): line status, then received data / character timeout, then THR empty, then modem
 * status. Returns IIR bits 3:0. */
static uint8_t serial_iir_id(const SerialState *s)
{
    if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS)) {
        return IIR_RLSI;
    }
    if (s->ier & IER_ERBFI) {
        if (s->timeout_ipending && s->rx_count > 0) {
            return IIR_CTI;
        }
        unsigned level = serial_fifo_on(s) ? serial_rx_trigger(s) : 1;
        if (s->rx_count >= level) {
            return IIR_RDI;
        }
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending) {
        return IIR_THRI;
    }
    if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS)) {
        return IIR_MSI;
    }
    return IIR_NO_INT;
}

/* Drive the IRQ pin. On the PC's serial ports the UART's INTRPT output reaches the bus through
 * a driver enabled by OUT2 (IBM PC Asynchronous Communications Adapter technical reference);
 * in loopback mode OUT2 is forced inactive at the pin (TL16C550 MCR bit 4), so the interrupt
 * does not leave the card. */
static void serial_update_irq(SerialState *s)
{
    int level = serial_iir_id(s) != IIR_NO_INT && (s->mcr & MCR_OUT2) && !(s->mcr & MCR_LOOP);
    if (level != s->irq_out) {
        s->irq_out = level;
        irq_set(s->irq, level);
    }
}

static void serial_update_lsr_dr(SerialState *s)
{
    if (s->rx_count) {
        s->lsr |= LSR_DR;
    } else {
        s->lsr &= (uint8_t)~LSR_DR;
    }
}

/* Character time in ns at the programmed divisor and frame: start bit, 5-8 data bits, parity,
 * 1, 1.5 or 2 stop bits (LCR bits 2:0 and 3). Computed in half bits. */
static int64_t serial_char_ns(const SerialState *s)
{
    unsigned divisor = (unsigned)s->dll | ((unsigned)s->dlm << 8);
    if (divisor == 0) {
        divisor = 0x10000; /* the 16-bit divisor counter wraps */
    }
    unsigned data_bits = 5 + (s->lcr & 3);
    unsigned half_bits = 2 * (1 + data_bits) + ((s->lcr & 0x08) ? 2 : 0);
    if (s->lcr & 0x04) {
        half_bits += data_bits == 5 ? 3 : 4;
    } else {
        half_bits += 2;
    }
    /* One bit lasts 16 * divisor clocks of the 1.8432 MHz crystal. */
    return (int64_t)((uint64_t)half_bits * 16u * divisor * 1000000000ull /
                     (2ull * SERIAL_XTAL_HZ));
}

/* The receiver timeout (TL16C550 "FIFO Interrupt Mode Operation"): with FIFOs on and data
 * waiting, no character received and none read for 4 character times raises the character
 * timeout interrupt. Restart the count after every receive or read. */
static void serial_restart_timeout(SerialState *s)
{
    if (serial_fifo_on(s) && s->rx_count > 0) {
        int64_t now = clock_now(&s->m->clock);
        int64_t wait = 4 * serial_char_ns(s);
        if (now < CLOCK_NEVER - wait) {
            timer_mod(&s->rx_timer, now + wait);
        }
    } else {
        timer_del(&s->rx_timer);
        s->timeout_ipending = 0;
    }
}

static void serial_rx_timeout(void *opaque)
{
    SerialState *s = opaque;
    if (serial_fifo_on(s) && s->rx_count > 0) {
        s->timeout_ipending = 1;
        serial_update_irq(s);
    }
}

static void serial_rx_clear(SerialState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->timeout_ipending = 0;
    timer_del(&s->rx_timer);
    serial_update_lsr_dr(s);
}

/* One character reaches the receiver (from the line or from the loopback path). */
static void serial_rx_byte(SerialState *s, uint8_t b)
{
    unsigned cap = serial_rx_capacity(s);
    if (s->rx_count >= cap) {
        /* Overrun: without FIFOs the new character overwrites RBR; with FIFOs the FIFO is
         * kept and the character in the shift register is lost (TL16C550 LSR bit 1). */
        if (!serial_fifo_on(s)) {
            s->rx_fifo[s->rx_head] = b;
        }
        s->lsr |= LSR_OE;
    } else {
        s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = b;
        s->rx_count++;
    }
    s->timeout_ipending = 0;
    serial_update_lsr_dr(s);
    serial_restart_timeout(s);
}

/* Modem status inputs now: loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (TL16C550
 * MCR bit 4); otherwise a connected host side holds CTS, DSR and DCD, and a socket peer that
 * goes away drops them, like a modem losing carrier. */
static uint8_t serial_modem_inputs(const SerialState *s)
{
    if (s->mcr & MCR_LOOP) {
        uint8_t v = 0;
        v |= (s->mcr & MCR_RTS) ? MSR_CTS : 0;
        v |= (s->mcr & MCR_DTR) ? MSR_DSR : 0;
        v |= (s->mcr & MCR_OUT1) ? MSR_RI : 0;
        v |= (s->mcr & MCR_OUT2) ? MSR_DCD : 0;
        return v;
    }
    return s->carrier ? (MSR_CTS | MSR_DSR | MSR_DCD) : 0;
}

static void serial_update_msr(SerialState *s)
{
    uint8_t now = serial_modem_inputs(s);
    uint8_t old = s->msr & 0xF0;
    uint8_t changed = now ^ old;
    uint8_t delta = 0;
    delta |= (changed & MSR_CTS) ? MSR_DCTS : 0;
    delta |= (changed & MSR_DSR) ? MSR_DDSR : 0;
    delta |= (changed & MSR_DCD) ? MSR_DDCD : 0;
    /* TERI is set on the trailing edge of RI only (RI going inactive). */
    delta |= ((old & MSR_RI) && !(now & MSR_RI)) ? MSR_TERI : 0;
    s->msr = (uint8_t)(now | (s->msr & MSR_DELTAS) | delta);
}

static void serial_transmit(SerialState *s, uint8_t b)
{
    /* THR write clears the THRE interrupt (TL16C550 interrupt table: "writing into the
     * transmitter holding register"). */
    s->thr_ipending = 0;
    s->lsr &= (uint8_t) ~(LSR_THRE | LSR_TEMT);
    serial_update_irq(s);
    if (s->mcr & MCR_LOOP) {
        /* Loopback: the transmitter output is wired to the receiver input and the line
         * stays marking (TL16C550 MCR bit 4). */
        serial_rx_byte(s, b);
    } else {
        chr_write(s->chr, &b, 1);
    }
    /* The character leaves at once, so holding register and shifter are empty again and
     * THRE raises its interrupt anew: a fresh edge per character as the driver expects. */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = 1;
    serial_update_irq(s);
}

static uint64_t serial_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = 0xFF;
    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB) {
            v = s->dll;
            break;
        }
        if (s->rx_count == 0) {
            /* RBR keeps the last character; reading an empty FIFO returns it again. */
            v = s->rx_fifo[s->rx_head];
            break;
        }
        v = s->rx_fifo[s->rx_head];
        s->rx_count--;
        if (s->rx_count > 0) {
            s->rx_head = (uint8_t)((s->rx_head + 1) % SERIAL_FIFO_SIZE);
        }
        s->timeout_ipending = 0;
        serial_update_lsr_dr(s);
        serial_restart_timeout(s);
        serial_update_irq(s);
        if (!(s->mcr & MCR_LOOP)) {
            chr_accept_input(s->chr);
        }
        break;
    case UART_IER:
        v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
        break;
    case UART_IIR: {
        uint8_t id = serial_iir_id(s);
        v = (uint8_t)(id | (serial_fifo_on(s) ? IIR_FIFO : 0));
        /* Reading IIR clears a THRE interrupt when it is the one reported. */
        if (id == IIR_THRI) {
            s->thr_ipending = 0;
            serial_update_irq(s);
        }
        break;
    }
    case UART_LCR:
        v = s->lcr;
        break;
    case UART_MCR:
        v = s->mcr;
        break;
    case UART_LSR:
        v = s->lsr;
        /* Reading LSR clears OE, PE, FE and BI; bit 7 follows the errors in the FIFO. */
        s->lsr &= (uint8_t) ~(LSR_ERRORS | LSR_RXFE);
        serial_update_irq(s);
        break;
    case UART_MSR:
        v = s->msr;
        s->msr &= (uint8_t)~MSR_DELTAS;
        serial_update_irq(s);
        break;
    case UART_SCR:
        v = s->scr;
        break;
    }
    return v;
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    /* Changing FCR0 clears both FIFOs; the other bits are programmed only with FCR0 set
     * (TL16C550 FCR description). */
    if ((val ^ s->fcr) & FCR_ENABLE) {
        serial_rx_clear(s);
    }
    if (val & FCR_ENABLE) {
        if (val & FCR_RX_RESET) {
            serial_rx_clear(s);
        }
        /* TX reset: the transmitter never holds data, nothing to drop. */
        s->fcr = val & 0xC9;
    } else {
        s->fcr = 0;
    }
    serial_update_irq(s);
    if (!(s->mcr & MCR_LOOP)) {
        chr_accept_input(s->chr);
    }
}

static void serial_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    SerialState *s = opaque;
    uint8_t val = (uint8_t)val64;
    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB) {
            s->dll = val;
        } else {
            serial_transmit(s, val);
        }
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = val;
        } else {
            uint8_t old = s->ier;
            s->ier = val & 0x0F;
            /* Enabling ETBEI while THR is empty raises the THRE interrupt (Linux 8250 probes
             * this at startup). */
            if (!(old & IER_ETBEI) && (s->ier & IER_ETBEI) && (s->lsr & LSR_THRE)) {
                s->thr_ipending = 1;
            }
            serial_update_irq(s);
        }
        break;
    case UART_IIR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        break;
    case UART_MCR: {
        uint8_t old = s->mcr;
        s->mcr = val & 0x1F;
        serial_update_msr(s);
        serial_update_irq(s);
        if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP)) {
            chr_accept_input(s->chr);
        }
        break;
    }
    case UART_LSR:
        /* LSR is for factory test on the 16550A; writes are ignored here. */
        LOG_ONCE(&s->m->log, LOG_UNIMP, "serial@%x: LSR write 0x%02x ignored\n", s->base, val);
        break;
    case UART_MSR:
        LOG_ONCE(&s->m->log, LOG_UNIMP, "serial@%x: MSR write 0x%02x ignored\n", s->base, val);
        break;
    case UART_SCR:
        s->scr = val;
        break;
    }
}

static const IOOps serial_ops = {
    .read = serial_read,
    .write = serial_write,
    .min_access = 1,
    .max_access = 1,
};

/* ---- character backend side ---- */

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return 0; /* the serial input is disconnected in loopback mode */
    }
    return (int)(serial_rx_capacity(s) - s->rx_count);
}

static void serial_receive(void *opaque, const uint8_t *buf, size_t len)
{
    SerialState *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        serial_rx_byte(s, buf[i]);
    }
    serial_update_irq(s);
}

static void serial_event(void *opaque, int event)
{
    SerialState *s = opaque;
    if (event != CHR_EVENT_OPENED && event != CHR_EVENT_CLOSED) {
        return;
    }
    s->carrier = event == CHR_EVENT_OPENED;
    serial_update_msr(s);
    serial_update_irq(s);
}

/* ---- lifecycle ---- */

static void serial_reset(void *opaque)
{
    SerialState *s = opaque;
    /* Master reset (TL16C550 "Reset Functions" table): IER, FCR, LCR, MCR cleared, LSR =
     * 0x60, MSR deltas cleared; RBR, THR, divisor latches and SCR are not affected. */
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr = LSR_THRE | LSR_TEMT;
    s->msr = serial_modem_inputs(s);
    s->thr_ipending = 0;
    serial_rx_clear(s);
    serial_update_irq(s);
    chr_accept_input(s->chr);
}

static int serial_post_load(void *opaque)
{
    SerialState *s = opaque;
    s->rx_head %= SERIAL_FIFO_SIZE;
    if (s->rx_count > serial_rx_capacity(s)) {
        s->rx_count = (uint8_t)serial_rx_capacity(s);
    }
    s->ier &= 0x0F;
    s->mcr &= 0x1F;
    s->irq_out = -1;
    serial_update_irq(s);
    return 0;
}

SerialState *serial_new(Machine *m, uint16_t base, IRQLine *irq, CharBackend *chr)
{
    SerialState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    s->chr = chr;
    s->irq = irq;
    s->base = base;
    s->irq_out = -1;
    s->carrier = 1;
    snprintf(s->id, sizeof(s->id), "serial@%x", base);
    timer_init(&s->rx_timer, &m->clock, serial_rx_timeout, s);
    s->handle = port_map(&m->io, s->id, base, 8, &serial_ops, s);
    if (s->handle < 0) {
        free(s);
        return NULL;
    }
    if (machine_add_reset(m, serial_reset, s) < 0 ||
        vmstate_register(&m->vmstate, s->id, &serial_vmstate, s) < 0) {
        port_unmap(&m->io, s->handle);
        free(s);
        return NULL;
    }
    serial_reset(s);
    if (chr) {
        CharFrontend fe = {
            .can_receive = serial_can_receive,
            .receive = serial_receive,
            .event = serial_event,
            .opaque = s,
        };
        chr_set_frontend(chr, &fe);
    }
    return s;
}

void serial_free(SerialState *s)
{
    free(s);
}
