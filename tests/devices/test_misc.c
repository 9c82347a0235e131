/* test_misc.c: the small chipset ports through the bus: port 0x92 (fast A20/reset), the POST
 * code port 0x80, the 0xE9 debug console and the isa-debug-exit port. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "devices/debugcon.h"
#include "devices/debugexit.h"
#include "devices/port80.h"
#include "devices/port92.h"
#include "tests/devices/chipset_harness.h"

typedef struct HookLog {
    int resets;
    int a20;
    int a20_calls;
} HookLog;

static void hook_reset(void *opaque)
{
    ((HookLog *)opaque)->resets++;
}

static void hook_a20(void *opaque, int on)
{
    HookLog *h = opaque;
    h->a20 = on;
    h->a20_calls++;
}

Test(port92, fast_a20_bit_drives_hook_and_reads_back)
{
    Machine *m = th_machine();
    HookLog h = {0};
    Port92Hooks hooks = {.reset = hook_reset, .set_a20 = hook_a20, .opaque = &h};
    Port92 *p = port92_new(m, &hooks);
    cr_assert_not_null(p);
    cr_assert_eq(th_inb(m, 0x92), 0x00);
    th_outb(m, 0x92, 0x02);
    cr_assert_eq(h.a20, 1);
    cr_assert_eq(h.a20_calls, 1);
    cr_assert_eq(port92_a20(p), 1);
    cr_assert_eq(th_inb(m, 0x92), 0x02);
    th_outb(m, 0x92, 0x02);
    cr_assert_eq(h.a20_calls, 1, "no change, no call");
    th_outb(m, 0x92, 0x00);
    cr_assert_eq(h.a20, 0);
    cr_assert_eq(h.resets, 0);
    machine_free(m);
    port92_free(p);
}

Test(port92, fast_reset_on_rising_bit0_only)
{
    Machine *m = th_machine();
    HookLog h = {0};
    Port92Hooks hooks = {.reset = hook_reset, .set_a20 = hook_a20, .opaque = &h};
    Port92 *p = port92_new(m, &hooks);
    th_outb(m, 0x92, 0x03);
    cr_assert_eq(h.resets, 1);
    th_outb(m, 0x92, 0x03);
    cr_assert_eq(h.resets, 1, "bit 0 must go back to 0 before it resets again");
    th_outb(m, 0x92, 0x02);
    th_outb(m, 0x92, 0x03);
    cr_assert_eq(h.resets, 2);
    machine_reset(m);
    cr_assert_eq(th_inb(m, 0x92), 0x00, "system reset clears the register");
    cr_assert_eq(h.a20, 0);
    cr_assert_eq(h.resets, 2);
    machine_free(m);
    port92_free(p);
}

Test(port92, without_reset_hook_requests_machine_reset)
{
    Machine *m = th_machine();
    Port92 *p = port92_new(m, NULL);
    th_outb(m, 0x92, 0x01);
    cr_assert(m->reset_requested);
    machine_free(m);
    port92_free(p);
}

Test(port80, post_code_is_kept_and_logged_under_dev_port80)
{
    char path[] = "/tmp/anyvm-port80-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    cfg.icount_shift = 0;
    strcpy(cfg.log_items, "dev:port80");
    snprintf(cfg.log_file, sizeof(cfg.log_file), "%s", path);
    char err[256];
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    Port80 *p = port80_new(m);
    cr_assert_not_null(p);
    th_outb(m, 0x80, 0x3C);
    cr_assert_eq(th_inb(m, 0x80), 0x3C);
    cr_assert_eq(port80_last(p), 0x3C);
    machine_free(m); /* closes the log */
    port80_free(p);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[256] = "";
    cr_assert_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(path);
    cr_assert_str_eq(line, "port80: POST code 0x3c\n");
}

typedef struct CaptureChar {
    CharBackend cb;
    uint8_t buf[64];
    size_t len;
} CaptureChar;

static size_t capture_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    CaptureChar *c = (CaptureChar *)cb;
    for (size_t i = 0; i < len && c->len < sizeof(c->buf); i++) {
        c->buf[c->len++] = buf[i];
    }
    return len;
}

static const CharBackendOps capture_ops = {.write = capture_write};

Test(debugcon, writes_reach_backend_and_reads_return_e9)
{
    Machine *m = th_machine();
    CaptureChar cap = {.cb = {.ops = &capture_ops}};
    DebugCon *d = debugcon_new(m, 0xE9, &cap.cb);
    cr_assert_not_null(d);
    th_outb(m, 0xE9, 'o');
    th_outb(m, 0xE9, 'k');
    th_outb(m, 0xE9, '\n');
    cr_assert_eq(cap.len, 3);
    cr_assert_arr_eq(cap.buf, "ok\n", 3);
    cr_assert_eq(th_inb(m, 0xE9), 0xE9);
    machine_free(m);
    debugcon_free(d);
}

Test(debugexit, write_exits_with_value_shifted_left_plus_one)
{
    Machine *m = th_machine();
    DebugExit *d = debugexit_new(m, 0x501, 2);
    cr_assert_not_null(d);
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
    th_outb(m, 0x501, 0x10);
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_DEBUG_EXIT);
    cr_assert_eq(m->exit_status, 0x21);
    machine_free(m);
    debugexit_free(d);
}

Test(debugexit, word_write_at_custom_base)
{
    Machine *m = th_machine();
    DebugExit *d = debugexit_new(m, 0xF4, 4);
    cr_assert_not_null(d);
    port_write(&m->io, 0xF4, 0x0000, 2);
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    cr_assert_eq(m->exit_status, 1, "value 0 exits with status 1");
    cr_assert_eq(port_read(&m->io, 0xF4, 1), 0xFF, "the port reads as absent");
    machine_free(m);
    debugexit_free(d);
}

Test(misc, all_ports_coexist_and_snapshot)
{
    Machine *m = th_machine();
    Port92 *p92 = port92_new(m, NULL);
    Port80 *p80 = port80_new(m);
    DebugCon *dc = debugcon_new(m, 0xE9, NULL);
    DebugExit *de = debugexit_new(m, 0x501, 2);
    cr_assert(p92 && p80 && dc && de);
    th_outb(m, 0x80, 0x11);
    th_outb(m, 0x92, 0x02);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&m->vmstate, &buf, &len), 0);
    th_outb(m, 0x80, 0x22);
    th_outb(m, 0x92, 0x00);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(th_inb(m, 0x80), 0x11);
    cr_assert_eq(th_inb(m, 0x92), 0x02);
    machine_free(m);
    port92_free(p92);
    port80_free(p80);
    debugcon_free(dc);
    debugexit_free(de);
}
