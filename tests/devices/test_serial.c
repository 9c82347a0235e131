/* test_serial.c: the 16550A UART driven through the port bus, without a CPU. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/chardev.h"
#include "core/clock.h"
#include "core/irq.h"
#include "core/machine.h"
#include "core/vmstate.h"
#include "devices/serial.h"

#define BASE SERIAL_COM1_BASE

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

typedef struct TestChr {
    CharBackend cb;
    uint8_t out[256];
    size_t n_out;
    int accept_calls;
} TestChr;

typedef struct IrqSink {
    int level;
    int rises;
} IrqSink;

static Machine *m;
static SerialState *uart;
static TestChr chr;
static IrqSink sink;
static IRQLine line;

static size_t tchr_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    TestChr *t = cb->priv;
    for (size_t i = 0; i < len && t->n_out < sizeof(t->out); i++) {
        t->out[t->n_out++] = buf[i];
    }
    return len;
}

static void tchr_accept(CharBackend *cb)
{
    TestChr *t = cb->priv;
    t->accept_calls++;
}

static const CharBackendOps tchr_ops = {
    .write = tchr_write,
    .accept_input = tchr_accept,
};

static void sink_handler(void *opaque, int n, int level)
{
    IrqSink *s = opaque;
    if (level && !s->level) {
        s->rises++;
    }
    s->level = level;
}

static void setup(void)
{
    MachineConfig cfg;
    char err[256];
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    cfg.icount_shift = 0; /* 1 ns per instruction: virtual time moves only when told */
    m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    memset(&chr, 0, sizeof(chr));
    chr.cb.ops = &tchr_ops;
    chr.cb.priv = &chr;
    memset(&sink, 0, sizeof(sink));
    irq_init(&line, sink_handler, &sink, SERIAL_COM1_IRQ);
    uart = serial_new(m, BASE, &line, &chr.cb);
    cr_assert_not_null(uart);
}

static void teardown(void)
{
    machine_free(m);
    serial_free(uart);
}

static uint8_t rd(unsigned off)
{
    return (uint8_t)port_read(&m->io, (uint16_t)(BASE + off), 1);
}

static void wr(unsigned off, uint8_t v)
{
    port_write(&m->io, (uint16_t)(BASE + off), v, 1);
}

/* Hand bytes to the UART the way a backend does: only as many as can_receive allows. */
static size_t feed(const char *s, size_t n)
{
    int room = chr.cb.fe.can_receive(chr.cb.fe.opaque);
    size_t k = n < (size_t)room ? n : (size_t)room;
    if (k) {
        chr.cb.fe.receive(chr.cb.fe.opaque, (const uint8_t *)s, k);
    }
    return k;
}

static void advance_ns(int64_t ns)
{
    clock_advance_icount(&m->clock, (uint64_t)ns);
    clock_run_timers(&m->clock);
}

TestSuite(serial, .init = setup, .fini = teardown);

Test(serial, reset_state_has_empty_transmitter_and_no_interrupt)
{
    cr_assert_eq(rd(LSR), 0x60);
    cr_assert_eq(rd(IIR), 0x01);
    cr_assert_eq(rd(IER), 0x00);
    cr_assert_eq(rd(MCR), 0x00);
    cr_assert_eq(rd(MSR) & 0xF0, 0xB0, "CTS, DSR and DCD of an attached terminal");
}

Test(serial, divisor_latch_is_reached_only_with_dlab)
{
    wr(IER, 0x05);
    wr(LCR, 0x83);
    wr(RBR, 0x0C);
    wr(IER, 0x01);
    cr_assert_eq(rd(RBR), 0x0C);
    cr_assert_eq(rd(IER), 0x01);
    wr(LCR, 0x03);
    cr_assert_eq(rd(IER), 0x05, "IER kept while DLM was written");
    cr_assert_eq(rd(LCR), 0x03);
    cr_assert_eq(chr.n_out, 0, "DLL write must not transmit");
}

Test(serial, scratch_register_holds_its_value)
{
    wr(SCR, 0xA5);
    cr_assert_eq(rd(SCR), 0xA5);
}

Test(serial, transmitted_bytes_reach_the_backend)
{
    wr(RBR, 'h');
    wr(RBR, 'i');
    cr_assert_eq(chr.n_out, 2);
    cr_assert_eq(memcmp(chr.out, "hi", 2), 0);
    cr_assert_eq(rd(LSR) & 0x60, 0x60, "THRE and TEMT set once the byte is out");
}

Test(serial, loopback_returns_bytes_and_keeps_line_silent)
{
    wr(MCR, 0x10);
    wr(RBR, 'A');
    cr_assert_eq(chr.n_out, 0);
    cr_assert_eq(rd(LSR) & 0x01, 0x01);
    cr_assert_eq(rd(RBR), 'A');
    cr_assert_eq(rd(LSR) & 0x01, 0x00);
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 0, "line input is cut in loopback");
}

Test(serial, loopback_wires_modem_outputs_to_inputs)
{
    wr(MCR, 0x1A); /* LOOP | OUT2 | RTS: Linux's 8250 probe expects CTS|DCD */
    cr_assert_eq(rd(MSR) & 0xF0, 0x90);
    wr(MCR, 0x15); /* LOOP | OUT1 | DTR */
    cr_assert_eq(rd(MSR) & 0xF0, 0x60);
}

Test(serial, msr_delta_bits_set_on_change_and_clear_on_read)
{
    wr(MCR, 0x10); /* loopback, all outputs off: CTS, DSR, DCD drop */
    uint8_t v = rd(MSR);
    cr_assert_eq(v & 0x0B, 0x0B, "DCTS, DDSR, DDCD: 0x%02x", v);
    cr_assert_eq(v & 0x04, 0, "TERI only on RI's trailing edge");
    cr_assert_eq(rd(MSR) & 0x0F, 0, "read clears deltas");
    wr(MCR, 0x14); /* RI on */
    cr_assert_eq(rd(MSR) & 0x04, 0);
    wr(MCR, 0x10); /* RI off: trailing edge */
    cr_assert_eq(rd(MSR) & 0x0F, 0x04);
}

Test(serial, thre_interrupt_is_cleared_by_reading_iir)
{
    wr(MCR, 0x08); /* OUT2 gates the IRQ onto the bus */
    wr(IER, 0x02);
    cr_assert_eq(sink.level, 1);
    cr_assert_eq(rd(IIR), 0x02);
    cr_assert_eq(sink.level, 0);
    cr_assert_eq(rd(IIR), 0x01, "a second read finds nothing pending");
}

Test(serial, thr_write_rearms_thre_with_a_fresh_edge)
{
    wr(MCR, 0x08);
    wr(IER, 0x02);
    cr_assert_eq(sink.rises, 1);
    cr_assert_eq(rd(IIR), 0x02);
    wr(RBR, 'x');
    cr_assert_eq(sink.rises, 2);
    wr(RBR, 'y');
    cr_assert_eq(sink.rises, 3, "each character gives the edge-triggered PIC a new edge");
    cr_assert_eq(rd(IIR), 0x02);
}

Test(serial, enabling_etbei_again_raises_thre)
{
    wr(IER, 0x02);
    cr_assert_eq(rd(IIR), 0x02);
    wr(IER, 0x00);
    wr(IER, 0x02);
    cr_assert_eq(rd(IIR), 0x02, "Linux's startup THRE probe needs this");
}

Test(serial, irq_needs_out2_and_is_off_in_loopback)
{
    wr(IER, 0x02);
    cr_assert_eq(sink.level, 0, "OUT2 clear: the interrupt does not leave the card");
    wr(MCR, 0x08);
    cr_assert_eq(sink.level, 1);
    wr(MCR, 0x18);
    cr_assert_eq(sink.level, 0);
    cr_assert_eq(rd(IIR), 0x02, "IIR still reports it");
}

Test(serial, iir_reports_sources_by_priority)
{
    wr(IER, 0x0F);
    wr(MCR, 0x10); /* loopback: also makes modem deltas pending */
    rd(IIR);       /* consume the THRE interrupt from enabling ETBEI */
    wr(RBR, '1');
    wr(RBR, '2'); /* no FIFO: overwrites RBR, overrun */
    cr_assert_eq(rd(IIR), 0x06, "line status first");
    cr_assert_eq(rd(LSR) & 0x03, 0x03, "OE and DR");
    cr_assert_eq(rd(LSR) & 0x02, 0x00, "LSR read cleared OE");
    cr_assert_eq(rd(IIR), 0x04, "then received data");
    cr_assert_eq(rd(RBR), '2');
    cr_assert_eq(rd(IIR), 0x02, "then THR empty");
    cr_assert_eq(rd(IIR), 0x00, "then modem status");
    rd(MSR);
    cr_assert_eq(rd(IIR), 0x01);
}

Test(serial, fcr_enable_shows_in_iir_high_bits)
{
    wr(FCR, 0x01);
    cr_assert_eq(rd(IIR) & 0xC0, 0xC0);
    wr(FCR, 0x00);
    cr_assert_eq(rd(IIR) & 0xC0, 0x00);
}

Test(serial, fifo_trigger_levels_gate_received_data_interrupt)
{
    static const struct {
        uint8_t fcr;
        unsigned level;
    } cases[] = {
        {0x01, 1},
        {0x41, 4},
        {0x81, 8},
        {0xC1, 14},
    };
    wr(MCR, 0x08);
    wr(IER, 0x01);
    for (size_t c = 0; c < 4; c++) {
        wr(FCR, 0x07 | cases[c].fcr); /* enable + clear both FIFOs + trigger */
        cr_assert_eq(rd(LSR) & 0x01, 0);
        for (unsigned i = 1; i < cases[c].level; i++) {
            cr_assert_eq(feed("a", 1), 1);
        }
        cr_assert_eq(rd(IIR), 0xC1, "below trigger %u", cases[c].level);
        cr_assert_eq(sink.level, 0);
        cr_assert_eq(feed("b", 1), 1);
        cr_assert_eq(rd(IIR), 0xC4, "at trigger %u", cases[c].level);
        cr_assert_eq(sink.level, 1);
        rd(RBR);
        if (cases[c].level > 1) {
            cr_assert_eq(rd(IIR), 0xC1, "one below trigger again");
        }
    }
}

Test(serial, fifo_keeps_order_and_overrun_drops_the_seventeenth)
{
    wr(FCR, 0x01);
    wr(MCR, 0x10);
    for (int i = 0; i < 17; i++) {
        wr(RBR, (uint8_t)('A' + i));
    }
    cr_assert_eq(rd(LSR) & 0x03, 0x03, "DR and OE");
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(rd(RBR), 'A' + i);
    }
    cr_assert_eq(rd(LSR) & 0x01, 0);
}

Test(serial, input_respects_fifo_space_and_asks_for_more_after_reads)
{
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 1, "no FIFO: one holding byte");
    cr_assert_eq(feed("xy", 2), 1);
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 0);
    cr_assert_eq(rd(RBR), 'x');
    wr(FCR, 0x01);
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 16);
    const char *msg = "0123456789abcdefOVER";
    cr_assert_eq(feed(msg, 20), 16);
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 0);
    cr_assert_eq(rd(LSR) & 0x02, 0, "backpressure means no overrun");
    int before = chr.accept_calls;
    cr_assert_eq(rd(RBR), '0');
    cr_assert_gt(chr.accept_calls, before, "the backend is told to send again");
    cr_assert_eq(chr.cb.fe.can_receive(chr.cb.fe.opaque), 1);
    cr_assert_eq(feed(msg + 16, 4), 1);
    for (int i = 1; i < 16; i++) {
        cr_assert_eq(rd(RBR), (uint8_t)msg[i]);
    }
    cr_assert_eq(rd(RBR), 'O');
}

Test(serial, receive_timeout_fires_after_four_character_times)
{
    /* 115200 baud, 8N1: one character is 10 bits of 16 clocks at 1.8432 MHz = 86805 ns. */
    wr(LCR, 0x83);
    wr(RBR, 0x01);
    wr(IER, 0x00);
    wr(LCR, 0x03);
    wr(FCR, 0x81); /* trigger 8 */
    wr(MCR, 0x08);
    wr(IER, 0x01);
    cr_assert_eq(feed("ab", 2), 2);
    cr_assert_eq(rd(IIR), 0xC1);
    advance_ns(4 * 86805 - 1000);
    cr_assert_eq(rd(IIR), 0xC1, "not yet");
    cr_assert_eq(sink.level, 0);
    advance_ns(2000);
    cr_assert_eq(rd(IIR), 0xCC, "character timeout");
    cr_assert_eq(sink.level, 1);
    cr_assert_eq(rd(RBR), 'a');
    cr_assert_eq(rd(IIR), 0xC1, "an RBR read clears the timeout");
    cr_assert_eq(sink.level, 0);
    advance_ns(4 * 86805 + 1000);
    cr_assert_eq(rd(IIR), 0xCC, "and restarts it for the byte left");
    cr_assert_eq(rd(RBR), 'b');
    advance_ns(10 * 86805);
    cr_assert_eq(rd(IIR), 0xC1, "no timeout with an empty FIFO");
}

Test(serial, receive_timeout_follows_the_programmed_baud_rate)
{
    /* 9600 baud (divisor 12), 7E2: 1 + 7 + 1 + 2 = 11 bits of 1/9600 s -> 4 chars 4.583 ms. */
    wr(LCR, 0x80);
    wr(RBR, 12);
    wr(LCR, 0x1E);
    wr(FCR, 0xC1);
    wr(IER, 0x01);
    cr_assert_eq(feed("z", 1), 1);
    advance_ns(4583333 - 5000);
    cr_assert_eq(rd(IIR), 0xC1);
    advance_ns(10000);
    cr_assert_eq(rd(IIR), 0xCC);
}

Test(serial, no_receive_timeout_without_fifo)
{
    wr(IER, 0x01);
    cr_assert_eq(feed("q", 1), 1);
    cr_assert_eq(rd(IIR), 0x04, "non-FIFO: one byte is data available");
    advance_ns(100000000);
    cr_assert_eq(rd(IIR), 0x04);
}

Test(serial, machine_reset_restores_power_on_registers)
{
    wr(IER, 0x0F);
    wr(LCR, 0x1B);
    wr(MCR, 0x1F);
    wr(FCR, 0x01);
    wr(SCR, 0x42);
    machine_reset(m);
    cr_assert_eq(rd(IER), 0);
    cr_assert_eq(rd(LCR), 0);
    cr_assert_eq(rd(MCR), 0);
    cr_assert_eq(rd(IIR), 0x01);
    cr_assert_eq(rd(LSR), 0x60);
    cr_assert_eq(rd(SCR), 0x42, "SCR is not affected by master reset");
}

Test(serial, vmstate_round_trip_restores_fifo_and_registers)
{
    wr(FCR, 0xC1);
    wr(IER, 0x05);
    wr(SCR, 0x77);
    cr_assert_eq(feed("snap", 4), 4);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&m->vmstate, &buf, &len), 0);
    rd(RBR);
    rd(RBR);
    wr(SCR, 0x00);
    wr(IER, 0x00);
    char err[256];
    cr_assert_eq(vmstate_load_buf(&m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(rd(SCR), 0x77);
    cr_assert_eq(rd(IER), 0x05);
    cr_assert_eq(rd(RBR), 's');
    cr_assert_eq(rd(RBR), 'n');
    cr_assert_eq(rd(RBR), 'a');
    cr_assert_eq(rd(RBR), 'p');
}

Test(serial, random_guest_traffic_keeps_invariants)
{
    uint32_t x = 777;
    for (int i = 0; i < 100000; i++) {
        x = x * 1664525u + 1013904223u;
        unsigned off = (x >> 8) & 7;
        uint8_t v = (uint8_t)(x >> 16);
        switch ((x >> 28) & 3) {
        case 0:
            wr(off, v);
            break;
        case 1:
            feed("0123456789abcdefghij", (x >> 11) & 15);
            break;
        case 2:
            advance_ns((x >> 4) & 0xFFFFF);
            break;
        default:
            rd(off);
            break;
        }
        int room = chr.cb.fe.can_receive(chr.cb.fe.opaque);
        cr_assert(room >= 0 && room <= 16, "can_receive %d", room);
        cr_assert_eq(rd(LSR) & 0x60, 0x60, "transmitter always drained");
    }
}

Test(serial, backend_disconnect_drops_carrier_with_modem_status_interrupt)
{
    wr(MCR, 0x0B);
    wr(IER, 0x08);
    rd(MSR);
    chr.cb.fe.event(chr.cb.fe.opaque, CHR_EVENT_CLOSED);
    cr_assert_eq(rd(IIR), 0x00, "modem status interrupt");
    cr_assert_eq(sink.level, 1, "reading IIR does not clear a modem status interrupt");
    uint8_t v = rd(MSR);
    cr_assert_eq(v, 0x0B, "DCD, DSR, CTS dropped with deltas: 0x%02x", v);
    cr_assert_eq(sink.level, 0, "reading MSR does");
    chr.cb.fe.event(chr.cb.fe.opaque, CHR_EVENT_OPENED);
    cr_assert_eq(rd(MSR), 0xBB);
}
