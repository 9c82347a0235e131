/* test_i8042.c: the 8042 controller with its PS/2 keyboard and mouse through ports 0x60/0x64:
 * controller commands, command byte, translation, output port (A20, reset), IRQ1/IRQ12, the
 * keyboard and mouse command sets and IntelliMouse detection. */
#include <criterion/criterion.h>

#include "devices/i8042.h"
#include "tests/devices/chipset_harness.h"

typedef struct KbcFixture {
    Machine *m;
    I8042 *kbc;
    IRQRecorder irq1, irq12;
    int resets;
    int a20;
    int a20_calls;
} KbcFixture;

static void hook_reset(void *opaque)
{
    ((KbcFixture *)opaque)->resets++;
}

static void hook_a20(void *opaque, int on)
{
    KbcFixture *f = opaque;
    f->a20 = on;
    f->a20_calls++;
}

static void fixture_init(KbcFixture *f)
{
    memset(f, 0, sizeof(*f));
    f->m = th_machine();
    th_irq_init(&f->irq1, f->m);
    th_irq_init(&f->irq12, f->m);
    I8042Hooks hooks = {.reset = hook_reset, .set_a20 = hook_a20, .opaque = f};
    f->kbc = i8042_new(f->m, &f->irq1.line, &f->irq12.line, &hooks);
    cr_assert_not_null(f->kbc);
}

static void fixture_fini(KbcFixture *f)
{
    machine_free(f->m);
    i8042_free(f->kbc);
}

static uint8_t status(KbcFixture *f)
{
    return th_inb(f->m, 0x64);
}

static void cmd(KbcFixture *f, uint8_t c)
{
    th_outb(f->m, 0x64, c);
}

static void data(KbcFixture *f, uint8_t d)
{
    th_outb(f->m, 0x60, d);
}

/* Read the output buffer, which must be full. */
static uint8_t read_out(KbcFixture *f)
{
    cr_assert(status(f) & 0x01, "output buffer full expected");
    return th_inb(f->m, 0x60);
}

static void expect_empty(KbcFixture *f)
{
    cr_assert_eq(status(f) & 0x01, 0, "output buffer empty expected");
}

static void mouse_cmd(KbcFixture *f, uint8_t c)
{
    cmd(f, 0xD4);
    data(f, c);
}

Test(i8042, self_test_returns_55_and_sets_system_flag)
{
    KbcFixture f;
    fixture_init(&f);
    cr_assert_eq(status(&f) & 0x04, 0);
    cmd(&f, 0xAA);
    cr_assert_eq(read_out(&f), 0x55);
    cr_assert_eq(status(&f) & 0x04, 0x04);
    expect_empty(&f);
    fixture_fini(&f);
}

Test(i8042, interface_tests_report_no_error)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xAB);
    cr_assert_eq(read_out(&f), 0x00);
    cmd(&f, 0xA9);
    cr_assert_eq(read_out(&f), 0x00);
    fixture_fini(&f);
}

Test(i8042, command_byte_read_write_and_sys_bit)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x20);
    cr_assert_eq(read_out(&f), 0x43, "IRQs and translation on after reset");
    cmd(&f, 0x60);
    data(&f, 0x65);
    cmd(&f, 0x20);
    cr_assert_eq(read_out(&f), 0x65);
    cr_assert_eq(status(&f) & 0x04, 0x04, "command byte bit 2 is the SYS flag");
    fixture_fini(&f);
}

Test(i8042, status_cmd_bit_tracks_last_port_written)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xAD);
    cr_assert_eq(status(&f) & 0x08, 0x08);
    data(&f, 0xEE);
    cr_assert_eq(status(&f) & 0x08, 0x00);
    cr_assert_eq(status(&f) & 0x10, 0x10, "keyboard not inhibited");
    fixture_fini(&f);
}

Test(i8042, keyboard_reset_acks_then_bat_with_irq1)
{
    KbcFixture f;
    fixture_init(&f);
    data(&f, 0xFF);
    cr_assert_eq(f.irq1.level, 1);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(f.irq1.rises, 2, "the next byte raises IRQ1 again");
    cr_assert_eq(read_out(&f), 0xAA);
    cr_assert_eq(f.irq1.level, 0);
    expect_empty(&f);
    fixture_fini(&f);
}

Test(i8042, keyboard_echo_leds_and_identify)
{
    KbcFixture f;
    fixture_init(&f);
    data(&f, 0xEE);
    cr_assert_eq(read_out(&f), 0xEE);
    data(&f, 0xED);
    cr_assert_eq(read_out(&f), 0xFA);
    data(&f, 0x05);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(ps2_kbd_leds(i8042_kbd(f.kbc)), 5);
    data(&f, 0xF2);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0xAB);
    cr_assert_eq(read_out(&f), 0x41, "83 is translated to 41 with XLAT on");
    cmd(&f, 0x60);
    data(&f, 0x01); /* translation off */
    data(&f, 0xF2);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0xAB);
    cr_assert_eq(read_out(&f), 0x83);
    fixture_fini(&f);
}

Test(i8042, scancode_set_query_and_select)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x60);
    data(&f, 0x01);
    data(&f, 0xF0);
    cr_assert_eq(read_out(&f), 0xFA);
    data(&f, 0x00);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x02);
    data(&f, 0xF0);
    data(&f, 0x01);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0xFA);
    ps2_kbd_key(i8042_kbd(f.kbc), 0x1C, true);
    ps2_kbd_key(i8042_kbd(f.kbc), 0x1C, false);
    cr_assert_eq(read_out(&f), 0x1E, "the keyboard itself sends set 1");
    cr_assert_eq(read_out(&f), 0x9E);
    fixture_fini(&f);
}

Test(i8042, set2_keys_translated_to_set1_when_xlat_set)
{
    KbcFixture f;
    fixture_init(&f);
    PS2Kbd *kbd = i8042_kbd(f.kbc);
    ps2_kbd_key(kbd, 0x1C, true); /* A */
    cr_assert_eq(f.irq1.level, 1);
    cr_assert_eq(read_out(&f), 0x1E);
    ps2_kbd_key(kbd, 0x1C, false);
    cr_assert_eq(read_out(&f), 0x9E, "F0 1C becomes 9E");
    ps2_kbd_key(kbd, 0xE075, true); /* up arrow */
    ps2_kbd_key(kbd, 0xE075, false);
    cr_assert_eq(read_out(&f), 0xE0);
    cr_assert_eq(read_out(&f), 0x48);
    cr_assert_eq(read_out(&f), 0xE0);
    cr_assert_eq(read_out(&f), 0xC8);
    expect_empty(&f);
    fixture_fini(&f);
}

Test(i8042, raw_set2_codes_without_xlat)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x60);
    data(&f, 0x01);
    ps2_kbd_key(i8042_kbd(f.kbc), 0x76, true); /* Esc */
    ps2_kbd_key(i8042_kbd(f.kbc), 0x76, false);
    cr_assert_eq(read_out(&f), 0x76);
    cr_assert_eq(read_out(&f), 0xF0);
    cr_assert_eq(read_out(&f), 0x76);
    fixture_fini(&f);
}

Test(i8042, disable_keyboard_holds_data_until_enabled)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xAD);
    ps2_kbd_key(i8042_kbd(f.kbc), 0x29, true);
    expect_empty(&f);
    cr_assert_eq(f.irq1.level, 0);
    cmd(&f, 0xAE);
    cr_assert_eq(read_out(&f), 0x39);
    fixture_fini(&f);
}

Test(i8042, keyboard_interrupt_needs_command_byte_bit0)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x60);
    data(&f, 0x40);
    ps2_kbd_key(i8042_kbd(f.kbc), 0x29, true);
    cr_assert_eq(status(&f) & 0x01, 0x01);
    cr_assert_eq(f.irq1.level, 0, "polled mode: no IRQ1");
    cr_assert_eq(read_out(&f), 0x39);
    fixture_fini(&f);
}

Test(i8042, output_port_drives_a20)
{
    KbcFixture f;
    fixture_init(&f);
    cr_assert_eq(i8042_a20(f.kbc), 1);
    cmd(&f, 0xD1);
    data(&f, 0xDD);
    cr_assert_eq(f.a20_calls, 1);
    cr_assert_eq(f.a20, 0);
    cmd(&f, 0xD0);
    cr_assert_eq(read_out(&f) & 0x03, 0x01);
    cmd(&f, 0xD1);
    data(&f, 0xDF);
    cr_assert_eq(f.a20, 1);
    cr_assert_eq(f.a20_calls, 2);
    cmd(&f, 0xD0);
    cr_assert_eq(read_out(&f) & 0x03, 0x03);
    cr_assert_eq(f.resets, 0);
    fixture_fini(&f);
}

Test(i8042, pulse_fe_and_output_port_bit0_reset_machine)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xFF);
    cr_assert_eq(f.resets, 0, "FF pulses nothing");
    cmd(&f, 0xFE);
    cr_assert_eq(f.resets, 1);
    cmd(&f, 0xD1);
    data(&f, 0xCE);
    cr_assert_eq(f.resets, 2);
    fixture_fini(&f);
}

Test(i8042, write_output_buffers_d2_d3)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xD2);
    data(&f, 0x42);
    cr_assert_eq(f.irq1.level, 1);
    cr_assert_eq(status(&f) & 0x20, 0);
    cr_assert_eq(read_out(&f), 0x42);
    cmd(&f, 0xD3);
    data(&f, 0x24);
    cr_assert_eq(f.irq12.level, 1);
    cr_assert_eq(status(&f) & 0x21, 0x21, "AUXB marks mouse data");
    cr_assert_eq(read_out(&f), 0x24);
    cr_assert_eq(f.irq12.level, 0);
    fixture_fini(&f);
}

Test(i8042, mouse_reset_and_id_through_d4_with_irq12)
{
    KbcFixture f;
    fixture_init(&f);
    mouse_cmd(&f, 0xFF);
    cr_assert_eq(f.irq12.level, 1);
    cr_assert_eq(status(&f) & 0x20, 0x20);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0xAA);
    cr_assert_eq(read_out(&f), 0x00);
    mouse_cmd(&f, 0xF2);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x00);
    cr_assert_eq(f.irq1.rises, 0, "mouse bytes never raise IRQ1");
    fixture_fini(&f);
}

static void set_rate(KbcFixture *f, uint8_t rate)
{
    mouse_cmd(f, 0xF3);
    cr_assert_eq(read_out(f), 0xFA);
    mouse_cmd(f, rate);
    cr_assert_eq(read_out(f), 0xFA);
}

Test(i8042, intellimouse_rate_sequence_gives_id3_and_wheel_packets)
{
    KbcFixture f;
    fixture_init(&f);
    set_rate(&f, 200);
    set_rate(&f, 100);
    set_rate(&f, 80);
    mouse_cmd(&f, 0xF2);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x03);
    mouse_cmd(&f, 0xF4);
    cr_assert_eq(read_out(&f), 0xFA);
    ps2_mouse_move(i8042_mouse(f.kbc), 10, -5, 1, PS2_BUTTON_LEFT);
    cr_assert_eq(read_out(&f), 0x09, "left button, always-one bit, positive x and y");
    cr_assert_eq(read_out(&f), 10);
    cr_assert_eq(read_out(&f), 5, "screen up is PS/2 positive");
    cr_assert_eq(read_out(&f), 1);
    expect_empty(&f);
    ps2_mouse_move(i8042_mouse(f.kbc), -3, 2, -1, 0);
    cr_assert_eq(read_out(&f), 0x38, "x and y sign bits");
    cr_assert_eq(read_out(&f), 0xFD);
    cr_assert_eq(read_out(&f), 0xFE);
    cr_assert_eq(read_out(&f), 0xFF);
    fixture_fini(&f);
}

Test(i8042, standard_mouse_sends_three_byte_packets_and_splits_large_motion)
{
    KbcFixture f;
    fixture_init(&f);
    mouse_cmd(&f, 0xF4);
    cr_assert_eq(read_out(&f), 0xFA);
    ps2_mouse_move(i8042_mouse(f.kbc), 300, 0, 3, 0);
    cr_assert_eq(read_out(&f), 0x08);
    cr_assert_eq(read_out(&f), 255);
    cr_assert_eq(read_out(&f), 0);
    cr_assert_eq(read_out(&f), 0x08);
    cr_assert_eq(read_out(&f), 45);
    cr_assert_eq(read_out(&f), 0);
    expect_empty(&f);
    fixture_fini(&f);
}

Test(i8042, mouse_status_request_and_settings)
{
    KbcFixture f;
    fixture_init(&f);
    mouse_cmd(&f, 0xE8);
    cr_assert_eq(read_out(&f), 0xFA);
    mouse_cmd(&f, 0x03);
    cr_assert_eq(read_out(&f), 0xFA);
    mouse_cmd(&f, 0xE7);
    cr_assert_eq(read_out(&f), 0xFA);
    mouse_cmd(&f, 0xF0);
    cr_assert_eq(read_out(&f), 0xFA);
    mouse_cmd(&f, 0xE9);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x50, "remote mode, 2:1 scaling, reporting off");
    cr_assert_eq(read_out(&f), 0x03);
    cr_assert_eq(read_out(&f), 100);
    fixture_fini(&f);
}

Test(i8042, remote_mode_read_data_returns_accumulated_motion)
{
    KbcFixture f;
    fixture_init(&f);
    mouse_cmd(&f, 0xF0);
    cr_assert_eq(read_out(&f), 0xFA);
    mouse_cmd(&f, 0xF4);
    cr_assert_eq(read_out(&f), 0xFA);
    ps2_mouse_move(i8042_mouse(f.kbc), 4, 0, 0, PS2_BUTTON_RIGHT);
    expect_empty(&f);
    mouse_cmd(&f, 0xEB);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x0A);
    cr_assert_eq(read_out(&f), 4);
    cr_assert_eq(read_out(&f), 0);
    fixture_fini(&f);
}

Test(i8042, disable_aux_holds_mouse_bytes)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0xA7);
    mouse_cmd(&f, 0xF2);
    expect_empty(&f);
    cmd(&f, 0x20);
    cr_assert_eq(read_out(&f) & 0x20, 0x20);
    cmd(&f, 0xA8);
    cr_assert_eq(read_out(&f), 0xFA);
    cr_assert_eq(read_out(&f), 0x00);
    fixture_fini(&f);
}

Test(i8042, keyboard_queue_is_bounded_with_overrun_code)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x60);
    data(&f, 0x01);
    PS2Kbd *kbd = i8042_kbd(f.kbc);
    for (int i = 0; i < 1000; i++) {
        ps2_kbd_key(kbd, 0x1C, (i & 1) == 0);
    }
    int n = 0;
    uint8_t last = 0;
    while (status(&f) & 0x01) {
        last = th_inb(f.m, 0x60);
        n++;
        cr_assert_lt(n, 200, "the queue must be bounded");
    }
    cr_assert_eq(last, 0x00, "set 2 overrun code ends the stream");
    fixture_fini(&f);
}

Test(i8042, snapshot_restores_command_byte_and_output_buffer)
{
    KbcFixture f;
    fixture_init(&f);
    cmd(&f, 0x60);
    data(&f, 0x45);
    cmd(&f, 0xD2);
    data(&f, 0x77);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&f.m->vmstate, &buf, &len), 0);
    cr_assert_eq(read_out(&f), 0x77);
    cmd(&f, 0x60);
    data(&f, 0x00);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&f.m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(read_out(&f), 0x77);
    cmd(&f, 0x20);
    cr_assert_eq(read_out(&f), 0x45);
    fixture_fini(&f);
}
