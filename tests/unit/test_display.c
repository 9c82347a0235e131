/* test_display.c: the display plumbing without a window: dirty-rectangle bookkeeping, the
 * key tables, PNG screendumps, and the monitor/QMP display and input commands on a VGA. */
#include <criterion/criterion.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/display.h"
#include "core/machine.h"
#include "devices/ps2.h"
#include "devices/vga.h"
#include "frontend/display_cmds.h"
#include "frontend/keymap.h"
#include "frontend/monitor.h"
#include "frontend/qmp.h"
#include "frontend/screendump.h"

Test(display_surface, dirty_rects_merge_strips_and_collapse_on_overflow)
{
    DisplaySurface s = {0};
    cr_assert_eq(display_surface_resize(&s, 100, 50), 0);
    cr_assert(s.resized);
    cr_assert_eq(s.n_dirty, 1);
    display_surface_clear_dirty(&s);
    display_surface_add_dirty(&s, 0, 10, 100, 1);
    display_surface_add_dirty(&s, 0, 11, 100, 1);
    cr_assert_eq(s.n_dirty, 1, "touching full-width strips merge");
    cr_assert_eq(s.dirty[0].h, 2);
    display_surface_add_dirty(&s, -5, 45, 20, 20);
    cr_assert_eq(s.n_dirty, 2);
    cr_assert_eq(s.dirty[1].x, 0);
    cr_assert_eq(s.dirty[1].w, 15);
    cr_assert_eq(s.dirty[1].h, 5, "clipped to the surface");
    for (int i = 0; i < DISPLAY_MAX_DIRTY; i++) {
        display_surface_add_dirty(&s, i * 3 % 90, i, 2, 1);
    }
    cr_assert_leq(s.n_dirty, DISPLAY_MAX_DIRTY);
    cr_assert_eq(display_surface_resize(&s, 0, 10), -EINVAL);
    cr_assert_eq(display_surface_resize(&s, DISPLAY_MAX_WIDTH + 1, 10), -EINVAL);
    display_surface_free(&s);
}

Test(keymap, hid_usages_map_to_set_2_including_extended_keys_and_pause)
{
    cr_assert_eq(keymap_hid_to_set2(0x04), 0x1C);   /* a */
    cr_assert_eq(keymap_hid_to_set2(0x28), 0x5A);   /* Return */
    cr_assert_eq(keymap_hid_to_set2(0x58), 0xE05A); /* keypad Enter */
    cr_assert_eq(keymap_hid_to_set2(0x52), 0xE075); /* Up */
    cr_assert_eq(keymap_hid_to_set2(0xE4), 0xE014); /* right Ctrl */
    cr_assert_eq(keymap_hid_to_set2(0xE6), 0xE011); /* right Alt */
    cr_assert_eq(keymap_hid_to_set2(0x48), PS2_KEY_PAUSE);
    cr_assert_eq(keymap_hid_to_set2(0x40), 0x83); /* F7 */
    cr_assert_eq(keymap_hid_to_set2(0x00), 0);
    cr_assert_eq(keymap_hid_to_set2(0x1000), 0);
    cr_assert_eq(keymap_hid_to_set2(-1), 0);
}

Test(keymap, qemu_key_names_resolve)
{
    cr_assert_eq(keymap_name_to_set2("ctrl"), 0x14);
    cr_assert_eq(keymap_name_to_set2("alt"), 0x11);
    cr_assert_eq(keymap_name_to_set2("delete"), 0xE071);
    cr_assert_eq(keymap_name_to_set2("z"), 0x1A);
    cr_assert_eq(keymap_name_to_set2("0"), 0x45);
    cr_assert_eq(keymap_name_to_set2("f12"), 0x07);
    cr_assert_eq(keymap_name_to_set2("kp_0"), 0x70);
    cr_assert_eq(keymap_name_to_set2("kp_enter"), 0xE05A);
    cr_assert_eq(keymap_name_to_set2("0x1c"), 0x1C);
    cr_assert_eq(keymap_name_to_set2("nosuchkey"), 0);
    cr_assert_eq(keymap_name_to_set2("f13"), 0);
}

typedef struct Captured {
    uint16_t codes[64];
    bool down[64];
    int n;
    int mdx, mdy, mdz;
    unsigned mbuttons;
    int mouse_calls;
} Captured;

static void cap_key(void *opaque, uint16_t code, bool down)
{
    Captured *c = opaque;
    if (c->n < 64) {
        c->codes[c->n] = code;
        c->down[c->n++] = down;
    }
}

static void cap_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    Captured *c = opaque;
    c->mdx += dx;
    c->mdy += dy;
    c->mdz += dz;
    c->mbuttons = buttons;
    c->mouse_calls++;
}

Test(keymap, print_screen_sends_its_fake_shift_around_e0_7c)
{
    Captured c = {0};
    InputSink in = {cap_key, cap_mouse, &c};
    keymap_send(&in, KEYMAP_PRINT, true);
    keymap_send(&in, KEYMAP_PRINT, false);
    cr_assert_eq(c.n, 4);
    cr_assert_eq(c.codes[0], 0xE012);
    cr_assert_eq(c.codes[1], 0xE07C);
    cr_assert_eq(c.codes[2], 0xE07C);
    cr_assert_eq(c.codes[3], 0xE012);
    cr_assert(!c.down[3]);
}

/* Read a PNG back with libpng: returns RGB bytes (caller frees). */
static uint8_t *read_png(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    png_init_io(png, f);
    png_read_info(png, info);
    *w = (int)png_get_image_width(png, info);
    *h = (int)png_get_image_height(png, info);
    cr_assert_eq(png_get_color_type(png, info), PNG_COLOR_TYPE_RGB);
    cr_assert_eq(png_get_bit_depth(png, info), 8);
    uint8_t *buf = malloc((size_t)*w * (size_t)*h * 3);
    for (int y = 0; y < *h; y++) {
        png_read_row(png, buf + (size_t)y * (size_t)*w * 3, NULL);
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return buf;
}

Test(screendump, png_holds_the_surface_pixels)
{
    DisplaySurface s = {0};
    cr_assert_eq(display_surface_resize(&s, 7, 3), 0);
    s.pixels[0] = 0x123456;
    s.pixels[2 * 7 + 6] = 0xFF8001;
    const char *path = ANYVM_BINARY_DIR "/test_screendump.png";
    char err[128];
    cr_assert_eq(screendump_surface(&s, path, err, sizeof(err)), 0, "%s", err);
    int w, h;
    uint8_t *rgb = read_png(path, &w, &h);
    cr_assert_eq(w, 7);
    cr_assert_eq(h, 3);
    cr_assert_eq(rgb[0], 0x12);
    cr_assert_eq(rgb[1], 0x34);
    cr_assert_eq(rgb[2], 0x56);
    size_t last = ((size_t)2 * 7 + 6) * 3;
    cr_assert_eq(rgb[last], 0xFF);
    cr_assert_eq(rgb[last + 1], 0x80);
    cr_assert_eq(rgb[last + 2], 0x01);
    free(rgb);
    cr_assert_lt(screendump_surface(&s, "/nonexistent-dir/x.png", err, sizeof(err)), 0);
    display_surface_free(&s);
}

/* ---- monitor commands on a machine with a VGA ---- */

static Machine *m;
static VGAState *vga;
static MonitorHub *hub;
static DisplayCmds *dc;
static QmpServer *q;
static Captured cap;
static InputSink sink;

static void cmd_setup(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    char err[128];
    m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    vga = vga_new(m, NULL, 0);
    cr_assert_not_null(vga);
    memset(&cap, 0, sizeof(cap));
    sink = (InputSink){cap_key, cap_mouse, &cap};
    m->display = vga_display_source(vga);
    m->input = &sink;
    hub = monitor_hub_new(m);
    dc = display_cmds_new(hub);
    cr_assert_not_null(dc);
    q = qmp_new(hub, NULL);
    char *r = qmp_handle_text(q, "{\"execute\": \"qmp_capabilities\"}", 31);
    free(r);
}

static void cmd_teardown(void)
{
    qmp_free(q);
    monitor_hub_free(hub);
    display_cmds_free(dc);
    machine_free(m);
    vga_free(vga);
}

static char *qmp(const char *text)
{
    char *r = qmp_handle_text(q, text, strlen(text));
    cr_assert_not_null(r);
    return r;
}

/* Mode 3's shape, enough for the text grid: 80x25 in odd/even at 0xB8000. */
static void text_mode(void)
{
    static const uint8_t crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00,
                                     0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                     0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
    port_write(&m->io, 0x3C2, 0x67, 1);
    for (unsigned i = 0; i < 25; i++) {
        port_write(&m->io, 0x3D4, i, 1);
        port_write(&m->io, 0x3D5, crtc[i], 1);
    }
    port_write(&m->io, 0x3C4, 4, 1);
    port_write(&m->io, 0x3C5, 0x02, 1);
    port_write(&m->io, 0x3CE, 5, 1);
    port_write(&m->io, 0x3CF, 0x10, 1);
    port_write(&m->io, 0x3CE, 6, 1);
    port_write(&m->io, 0x3CF, 0x0E, 1);
    (void)port_read(&m->io, 0x3DA, 1);
    port_write(&m->io, 0x3C0, 0x20, 1); /* PAS: display on */
    const char *msg = "Hello, VGA";
    for (unsigned i = 0; msg[i]; i++) {
        mem_write(&m->mem, 0xB8000 + 160 * 2 + 2 * i, (uint8_t)msg[i], 1);
        mem_write(&m->mem, 0xB8000 + 160 * 2 + 2 * i + 1, 0x07, 1);
    }
}

TestSuite(display_cmds, .init = cmd_setup, .fini = cmd_teardown);

Test(display_cmds, x_query_screen_text_returns_rows)
{
    text_mode();
    char *r = qmp("{\"execute\": \"x-query-screen-text\"}");
    cr_assert(strstr(r, "\"cols\": 80"), "%s", r);
    cr_assert(strstr(r, "\"rows\": 25"), "%s", r);
    cr_assert(strstr(r, "\"lines\": [\"\", \"\", \"Hello, VGA\", \"\""), "%s", r);
    free(r);
    int cols, rows;
    char err[64];
    char *t = display_text_rows(m->display, &cols, &rows, err, sizeof(err));
    cr_assert_not_null(t, "%s", err);
    cr_assert_eq(strncmp(t, "\n\nHello, VGA\n", 13), 0);
    free(t);
}

Test(display_cmds, screen_text_query_fails_cleanly_in_graphics_mode)
{
    port_write(&m->io, 0x3CE, 6, 1);
    port_write(&m->io, 0x3CF, 0x05, 1);
    char *r = qmp("{\"execute\": \"x-query-screen-text\"}");
    cr_assert(strstr(r, "not in a text mode"), "%s", r);
    free(r);
}

Test(display_cmds, qmp_screendump_writes_a_png_of_the_screen)
{
    text_mode();
    const char *path = ANYVM_BINARY_DIR "/test_qmp_screendump.png";
    remove(path);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "{\"execute\": \"screendump\", \"arguments\": {\"filename\": "
                               "\"%s\"}}", path);
    char *r = qmp(cmd);
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    int w, h;
    free(read_png(path, &w, &h));
    cr_assert_eq(w, 720);
    cr_assert_eq(h, 400);
    r = qmp("{\"execute\": \"screendump\"}");
    cr_assert(strstr(r, "'filename' is missing"), "%s", r);
    free(r);
    const char *ppm = ANYVM_BINARY_DIR "/test_qmp_screendump.ppm";
    snprintf(cmd, sizeof(cmd), "{\"execute\": \"screendump\", \"arguments\": {\"filename\": "
                               "\"%s\", \"format\": \"ppm\"}}", ppm);
    r = qmp(cmd);
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    FILE *f = fopen(ppm, "rb");
    cr_assert_not_null(f);
    char hdr[32] = {0};
    cr_assert_eq(fread(hdr, 1, 15, f), 15);
    fseek(f, 0, SEEK_END);
    cr_assert_eq(ftell(f), 15 + 720 * 400 * 3);
    fclose(f);
    cr_assert_str_eq(hdr, "P6\n720 400\n255\n");
}

Test(display_cmds, send_key_presses_in_order_and_releases_in_reverse)
{
    char *r = qmp("{\"execute\": \"send-key\", \"arguments\": {\"keys\": ["
                  "{\"type\": \"qcode\", \"data\": \"ctrl\"},"
                  "{\"type\": \"qcode\", \"data\": \"alt\"},"
                  "{\"type\": \"qcode\", \"data\": \"delete\"}]}}");
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    cr_assert_eq(cap.n, 6);
    uint16_t want[6] = {0x14, 0x11, 0xE071, 0xE071, 0x11, 0x14};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(cap.codes[i], want[i]);
        cr_assert_eq(cap.down[i], i < 3);
    }
    r = qmp("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": \"number\", "
            "\"data\": 30}]}}"); /* set 1 code 0x1E is 'a' */
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    cr_assert_eq(cap.codes[6], 0x1C);
    r = qmp("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": \"qcode\", "
            "\"data\": \"bogus\"}]}}");
    cr_assert(strstr(r, "not a known key"), "%s", r);
    free(r);
    cr_assert_eq(cap.n, 8);
}

Test(display_cmds, human_sendkey_parses_chords)
{
    Monitor *mon = monitor_new(hub, NULL);
    monitor_handle_line(mon, "sendkey shift-a");
    cr_assert_eq(cap.n, 4);
    cr_assert_eq(cap.codes[0], 0x12);
    cr_assert_eq(cap.codes[1], 0x1C);
    monitor_handle_line(mon, "sendkey nope");
    cr_assert_eq(cap.n, 4);
    monitor_free(mon);
}

Test(display_cmds, input_send_event_moves_the_mouse_and_tracks_buttons)
{
    char *r = qmp("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
                  "{\"type\": \"rel\", \"data\": {\"axis\": \"x\", \"value\": 10}},"
                  "{\"type\": \"rel\", \"data\": {\"axis\": \"y\", \"value\": -4}},"
                  "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"left\"}}]}}");
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    cr_assert_eq(cap.mouse_calls, 1);
    cr_assert_eq(cap.mdx, 10);
    cr_assert_eq(cap.mdy, -4);
    cr_assert_eq(cap.mbuttons, 1);
    r = qmp("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
            "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"wheel-down\"}},"
            "{\"type\": \"key\", \"data\": {\"down\": true, \"key\": {\"type\": \"qcode\", "
            "\"data\": \"b\"}}}]}}");
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    free(r);
    cr_assert_eq(cap.mdz, 1);
    cr_assert_eq(cap.mbuttons, 1, "the left button is still held");
    cr_assert_eq(cap.codes[0], 0x32);
    /* A bad event anywhere in the list sends nothing. */
    r = qmp("{\"execute\": \"input-send-event\", \"arguments\": {\"events\": ["
            "{\"type\": \"rel\", \"data\": {\"axis\": \"x\", \"value\": 5}},"
            "{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": 5}}]}}");
    cr_assert(strstr(r, "not supported"), "%s", r);
    free(r);
    cr_assert_eq(cap.mouse_calls, 2);
}
