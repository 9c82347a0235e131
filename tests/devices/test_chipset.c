/* test_chipset.c: all chipset devices of this tier on one machine, hammered with pseudo-random
 * port traffic while virtual time advances; afterwards each must still answer its documented
 * init sequence. Guards the "the guest can never crash or wedge a device" rule (run it under
 * the asan preset too). */
#include <criterion/criterion.h>

#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/mc146818.h"
#include "devices/port80.h"
#include "devices/port92.h"
#include "tests/devices/chipset_harness.h"

static void intr_cb(void *opaque, int level)
{
    *(int *)opaque = level;
}

static void noop_reset(void *opaque)
{
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

Test(chipset, random_port_traffic_leaves_devices_working)
{
    static const uint16_t ports[] = {0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x41, 0x42,
                                     0x43, 0x61, 0x70, 0x71, 0x60,  0x64,  0x80, 0x92};
    const unsigned nports = sizeof(ports) / sizeof(ports[0]);
    Machine *m = th_machine();
    int intr = 0;
    I8259 *pic = i8259_new(m, intr_cb, &intr);
    I8254 *pit = i8254_new(m, i8259_irq(pic, 0));
    MC146818 *rtc = mc146818_new(m, i8259_irq(pic, 8), MC146818_START_HOST);
    I8042Hooks kh = {.reset = noop_reset};
    I8042 *kbc = i8042_new(m, i8259_irq(pic, 1), i8259_irq(pic, 12), &kh);
    Port92Hooks ph = {.reset = noop_reset};
    Port92 *p92 = port92_new(m, &ph);
    Port80 *p80 = port80_new(m);
    cr_assert(pic && pit && rtc && kbc && p92 && p80);

    uint32_t seed = 0x12345678;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = xorshift(&seed);
        uint16_t port = ports[r % nports];
        uint8_t val = (uint8_t)(r >> 8);
        if (r & 0x10000000) {
            th_inb(m, port);
        } else {
            th_outb(m, port, val);
        }
        if ((r & 0x7F000000) == 0) {
            i8259_intr_ack(pic);
        }
        if ((i & 255) == 0) {
            ps2_kbd_key(i8042_kbd(kbc), (uint16_t)(r & 0x7F), (r >> 20) & 1);
            ps2_mouse_move(i8042_mouse(kbc), (int)(r % 601) - 300, (int)(r % 37) - 18, 1, r & 7);
            th_advance(m, (int64_t)(r % 50000));
        }
    }

    /* Every device still follows its documented behaviour. */
    th_outb(m, 0x20, 0x11);
    th_outb(m, 0x21, 0x08);
    th_outb(m, 0x21, 0x04);
    th_outb(m, 0x21, 0x01);
    th_outb(m, 0xA0, 0x11);
    th_outb(m, 0xA1, 0x70);
    th_outb(m, 0xA1, 0x02);
    th_outb(m, 0xA1, 0x01);
    th_outb(m, 0x4D0, 0x00);
    th_outb(m, 0x4D1, 0x00);
    th_outb(m, 0x21, 0xFE); /* only the timer */
    th_outb(m, 0xA1, 0xFF);
    th_outb(m, 0x43, 0x34);
    th_outb(m, 0x40, 100);
    th_outb(m, 0x40, 0);
    th_advance(m, 200000);
    cr_assert_eq(intr, 1, "PIT mode 2 interrupts through the PIC");
    cr_assert_eq(i8259_intr_ack(pic), 0x08);

    while (th_inb(m, 0x64) & 0x01) {
        th_inb(m, 0x60);
    }
    th_outb(m, 0x64, 0xAA);
    cr_assert_eq(th_inb(m, 0x60), 0x55);

    th_outb(m, 0x70, 0x0D);
    cr_assert_eq(th_inb(m, 0x71), 0x80);
    th_outb(m, 0x70, 0x0A);
    th_outb(m, 0x71, 0x26);
    th_outb(m, 0x70, 0x0B);
    th_outb(m, 0x71, 0x02);
    th_outb(m, 0x70, 0x00);
    uint8_t s0 = th_inb(m, 0x71);
    th_advance(m, 1000000000);
    th_outb(m, 0x70, 0x00);
    cr_assert_neq(th_inb(m, 0x71), s0, "the RTC still ticks");

    machine_free(m);
    i8259_free(pic);
    i8254_free(pit);
    mc146818_free(rtc);
    i8042_free(kbc);
    port92_free(p92);
    port80_free(p80);
}
