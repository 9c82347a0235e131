/* test_display_sdl.c: the SDL2 window under Xvfb: a test pattern and a VGA text screen shown
 * and read back as screenshots (saved under build/.../artifacts), keyboard events reaching the
 * input sink as set 2 codes, the grab hotkey and title, the timer-driven refresh, and the
 * render + present frame rate of a 1024x768x32 VBE mode. Skips when Xvfb cannot start. */
#define _GNU_SOURCE
#include <SDL.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/display.h"
#include "core/machine.h"
#include "devices/vga.h"
#include "frontend/display_sdl.h"

#define ARTIFACTS ANYVM_BINARY_DIR "/artifacts"

static pid_t xvfb_pid = -1;
static char xvfb_why[256];

static bool start_xvfb(void)
{
    int n = 90 + (int)(getpid() % 100);
    char disp[16], sock[64];
    snprintf(disp, sizeof(disp), ":%d", n);
    snprintf(sock, sizeof(sock), "/tmp/.X11-unix/X%d", n);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(xvfb_why, sizeof(xvfb_why), "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("Xvfb", "Xvfb", disp, "-screen", "0", "1280x1024x24", "-nolisten", "tcp",
               (char *)NULL);
        _exit(127);
    }
    xvfb_pid = pid;
    for (int i = 0; i < 100; i++) {
        struct stat st;
        if (stat(sock, &st) == 0) {
            setenv("DISPLAY", disp, 1);
            return true;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            xvfb_pid = -1;
            snprintf(xvfb_why, sizeof(xvfb_why), "Xvfb exited (status %d; is it installed? "
                     "scripts/deps.sh installs xvfb)", WEXITSTATUS(status));
            return false;
        }
        usleep(50000);
    }
    snprintf(xvfb_why, sizeof(xvfb_why), "Xvfb did not create %s within 5 s", sock);
    return false;
}

static void stop_xvfb(void)
{
    if (xvfb_pid > 0) {
        kill(xvfb_pid, SIGTERM);
        waitpid(xvfb_pid, NULL, 0);
        xvfb_pid = -1;
    }
}

static Machine *m;

static void setup(void)
{
    mkdir(ARTIFACTS, 0755);
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    char err[128];
    m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    setenv("SDL_VIDEODRIVER", "x11", 1);
    setenv("SDL_AUDIODRIVER", "dummy", 1);
    if (!start_xvfb()) {
        stop_xvfb();
        machine_free(m);
        m = NULL;
    }
}

static void teardown(void)
{
    machine_free(m);
    stop_xvfb();
}

#define NEED_X()                                                                              \
    do {                                                                                      \
        if (!m) {                                                                             \
            cr_skip_test("no X server for the SDL test: %s", xvfb_why);                       \
        }                                                                                     \
    } while (0)

TestSuite(sdl, .init = setup, .fini = teardown, .timeout = 120);

/* A DisplaySource showing eight vertical colour bars, counting its update calls. */
typedef struct Pattern {
    DisplaySurface s;
    DisplaySource src;
    int updates;
} Pattern;

static const uint32_t bars[8] = {0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
                                 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000};

static DisplaySurface *pattern_update(void *opaque)
{
    Pattern *p = opaque;
    p->updates++;
    return &p->s;
}

static void pattern_init(Pattern *p, int w, int h)
{
    memset(p, 0, sizeof(*p));
    cr_assert_eq(display_surface_resize(&p->s, w, h), 0);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            p->s.pixels[y * p->s.stride + x] = bars[x * 8 / w];
        }
    }
    p->src.update = pattern_update;
    p->src.opaque = p;
}

static uint8_t *read_png(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_read_info(png, info);
    *w = (int)png_get_image_width(png, info);
    *h = (int)png_get_image_height(png, info);
    uint8_t *buf = malloc((size_t)*w * (size_t)*h * 3);
    for (int y = 0; y < *h; y++) {
        png_read_row(png, buf + (size_t)y * (size_t)*w * 3, NULL);
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return buf;
}

static uint32_t png_px(const uint8_t *rgb, int w, int x, int y)
{
    const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

typedef struct Keys {
    uint16_t codes[32];
    bool down[32];
    int n;
    int dx, dy, dz;
    unsigned buttons;
    int moves;
} Keys;

static void keys_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    Keys *k = opaque;
    k->dx += dx;
    k->dy += dy;
    k->dz += dz;
    k->buttons = buttons;
    k->moves++;
}

static void keys_key(void *opaque, uint16_t code, bool down)
{
    Keys *k = opaque;
    if (k->n < 32) {
        k->codes[k->n] = code;
        k->down[k->n++] = down;
    }
}

Test(sdl, window_shows_the_test_pattern_in_a_screenshot)
{
    NEED_X();
    Pattern p;
    pattern_init(&p, 320, 200);
    char err[256];
    SdlDisplay *d = sdl_display_new(m, &p.src, NULL, 60, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    for (int i = 0; i < 5; i++) {
        sdl_display_refresh(d);
        SDL_Delay(20);
    }
    const char *path = ARTIFACTS "/sdl_test_pattern.png";
    cr_assert_eq(sdl_display_screenshot(d, path, err, sizeof(err)), 0, "%s", err);
    int w, h;
    uint8_t *rgb = read_png(path, &w, &h);
    cr_assert_geq(w, 320);
    cr_assert_geq(h, 200);
    /* Sample the middle of each bar, scaled to whatever size the window got. */
    for (int b = 0; b < 8; b++) {
        int x = (b * 2 + 1) * w / 16;
        cr_assert_eq(png_px(rgb, w, x, h / 2), bars[b], "bar %d at x=%d", b, x);
    }
    free(rgb);
    cr_assert(strstr(sdl_display_title(d), "running"), "%s", sdl_display_title(d));
    cr_assert(strstr(sdl_display_title(d), "320x200"), "%s", sdl_display_title(d));
    sdl_display_free(d);
    display_surface_free(&p.s);
}

Test(sdl, refresh_runs_from_the_machine_loop_timer)
{
    NEED_X();
    Pattern p;
    pattern_init(&p, 64, 64);
    char err[256];
    SdlDisplay *d = sdl_display_new(m, &p.src, NULL, 50, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    int64_t t0 = host_monotonic_ns(NULL);
    while (host_monotonic_ns(NULL) - t0 < 300000000) {
        machine_poll(m, 50000000);
    }
    /* 50 Hz over 300 ms: about 15 ticks; allow for a slow, shared machine. */
    cr_assert_geq(p.updates, 5, "updates %d", p.updates);
    cr_assert_leq(p.updates, 20, "updates %d", p.updates);
    machine_pause(m);
    sdl_display_refresh(d);
    cr_assert(strstr(sdl_display_title(d), "paused"), "%s", sdl_display_title(d));
    sdl_display_free(d);
    display_surface_free(&p.s);
}

static void push_key(SDL_Scancode sc, bool down)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    ev.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.key.keysym.scancode = sc;
    SDL_PushEvent(&ev);
}

Test(sdl, keys_become_set_2_codes_and_ctrl_alt_g_toggles_the_grab)
{
    NEED_X();
    Pattern p;
    pattern_init(&p, 64, 64);
    Keys k = {0};
    InputSink in = {keys_key, keys_mouse, &k};
    char err[256];
    SdlDisplay *d = sdl_display_new(m, &p.src, &in, 60, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);
    sdl_display_refresh(d);
    push_key(SDL_SCANCODE_A, true);
    push_key(SDL_SCANCODE_A, false);
    push_key(SDL_SCANCODE_KP_ENTER, true);
    push_key(SDL_SCANCODE_PAUSE, true);
    sdl_display_refresh(d);
    cr_assert_eq(k.n, 4);
    cr_assert_eq(k.codes[0], 0x1C);
    cr_assert(k.down[0]);
    cr_assert_eq(k.codes[1], 0x1C);
    cr_assert(!k.down[1]);
    cr_assert_eq(k.codes[2], 0xE05A);
    cr_assert_eq(k.codes[3], 0xE114);
    SDL_SetModState(KMOD_LCTRL | KMOD_LALT);
    push_key(SDL_SCANCODE_G, true);
    sdl_display_refresh(d);
    SDL_SetModState(KMOD_NONE);
    cr_assert(sdl_display_grabbed(d));
    cr_assert_eq(k.n, 4, "the hotkey is not sent to the guest");
    cr_assert(strstr(sdl_display_title(d), "Ctrl+Alt+G"), "%s", sdl_display_title(d));
    /* Grabbed: relative motion with the buttons held, and the wheel, reach the mouse. */
    SDL_Event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = SDL_MOUSEMOTION;
    ev.motion.xrel = 7;
    ev.motion.yrel = -3;
    ev.motion.state = SDL_BUTTON_LMASK | SDL_BUTTON_RMASK;
    SDL_PushEvent(&ev);
    memset(&ev, 0, sizeof(ev));
    ev.type = SDL_MOUSEWHEEL;
    ev.wheel.y = 2; /* away from the user */
    ev.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
    SDL_PushEvent(&ev);
    sdl_display_refresh(d);
    cr_assert_eq(k.dx, 7);
    cr_assert_eq(k.dy, -3);
    cr_assert_eq(k.dz, -2);
    cr_assert_eq(k.buttons, 3);
    /* Ctrl+Alt+F goes fullscreen and back without disturbing the picture. */
    sdl_display_toggle_fullscreen(d);
    sdl_display_refresh(d);
    sdl_display_toggle_fullscreen(d);
    cr_assert(sdl_display_refresh(d), "the window is presented again after the switch");
    sdl_display_set_grab(d, false);
    cr_assert(!sdl_display_grabbed(d));
    sdl_display_free(d);
    display_surface_free(&p.s);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
    return (double)host_monotonic_ns(NULL) / 1e9;
}

Test(sdl, vga_text_and_vbe_frames_through_the_window_with_measured_rates)
{
    NEED_X();
    VGAState *vga = vga_new(m, NULL, 0);
    cr_assert_not_null(vga);
    char err[256];
    SdlDisplay *d = sdl_display_new(m, vga_display_source(vga), NULL, 60, err, sizeof(err));
    cr_assert_not_null(d, "%s", err);

    /* An idle 80x25 text screen: what one refresh tick costs once nothing changes. */
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
    for (unsigned i = 0; i < 16; i++) {
        port_write(&m->io, 0x3C0, i, 1);
        port_write(&m->io, 0x3C0, i, 1);
    }
    port_write(&m->io, 0x3C0, 0x12, 1); /* colour plane enable: all four */
    port_write(&m->io, 0x3C0, 0x0F, 1);
    port_write(&m->io, 0x3C0, 0x20, 1);
    port_write(&m->io, 0x3C8, 7, 1);
    for (int i = 0; i < 3; i++) {
        port_write(&m->io, 0x3C9, 42, 1);
    }
    for (unsigned i = 0; i < 80 * 25; i++) {
        mem_write(&m->mem, 0xB8000 + 2 * i, 0xDB, 1); /* a font-less glyph: empty */
        mem_write(&m->mem, 0xB8000 + 2 * i + 1, 0x70, 1); /* grey background */
    }
    sdl_display_refresh(d);
    cr_assert_eq(sdl_display_screenshot(d, ARTIFACTS "/sdl_text_mode.png", err, sizeof(err)),
                 0, "%s", err);
    int w, h;
    uint8_t *rgb = read_png(ARTIFACTS "/sdl_text_mode.png", &w, &h);
    cr_assert_eq(png_px(rgb, w, w / 2, h / 2), 0xAAAAAA);
    free(rgb);
    const int idle_ticks = 600;
    double c0 = cpu_seconds();
    int presented = 0;
    for (int i = 0; i < idle_ticks; i++) {
        presented += sdl_display_refresh(d);
    }
    double idle_cpu = (cpu_seconds() - c0) / idle_ticks;

    /* 1024x768x32 VBE: every frame rewrites the whole framebuffer. */
    port_write(&m->io, 0x1CE, VBE_INDEX_XRES, 2);
    port_write(&m->io, 0x1CF, 1024, 2);
    port_write(&m->io, 0x1CE, VBE_INDEX_YRES, 2);
    port_write(&m->io, 0x1CF, 768, 2);
    port_write(&m->io, 0x1CE, VBE_INDEX_BPP, 2);
    port_write(&m->io, 0x1CF, 32, 2);
    port_write(&m->io, 0x1CE, VBE_INDEX_ENABLE, 2);
    port_write(&m->io, 0x1CF, VBE_ENABLED | VBE_LFB_ENABLED, 2);
    uint32_t *fb = (uint32_t *)vga_vram(vga);
    const int frames = 120;
    double spent = 0; /* in render + present only, not in the test's own drawing */
    for (int f = 0; f < frames; f++) {
        uint32_t colour = (uint32_t)(f * 0x010203) & 0xFFFFFF;
        for (int i = 0; i < 1024 * 768; i++) {
            fb[i] = colour ^ (uint32_t)i;
        }
        double t0 = wall_seconds();
        cr_assert(sdl_display_refresh(d));
        spent += wall_seconds() - t0;
    }
    double fps = frames / spent;
    cr_assert_eq(sdl_display_screenshot(d, ARTIFACTS "/sdl_vbe_1024x768.png", err,
                                        sizeof(err)), 0, "%s", err);
    rgb = read_png(ARTIFACTS "/sdl_vbe_1024x768.png", &w, &h);
    cr_assert_eq(w, 1024);
    cr_assert_eq(h, 768);
    uint32_t last = (uint32_t)((frames - 1) * 0x010203) & 0xFFFFFF;
    cr_assert_eq(png_px(rgb, w, 5, 0), (last ^ 5u) & 0xFFFFFF);
    free(rgb);

    FILE *f = fopen(ARTIFACTS "/display_bench.txt", "w");
    if (f) {
        fprintf(f, "vbe_1024x768x32_full_frames_per_s %.1f\n", fps);
        fprintf(f, "idle_text_tick_cpu_us %.2f\n", idle_cpu * 1e6);
        fprintf(f, "idle_text_cpu_percent_at_60hz %.4f\n", idle_cpu * 60 * 100);
        fprintf(f, "idle_text_ticks_presented %d of %d\n", presented, idle_ticks);
        fclose(f);
    }
    cr_log_info("VBE 1024x768x32 render+present: %.1f frames/s; idle text tick: %.2f us CPU "
                "(%.4f%% at 60 Hz), %d of %d ticks presented",
                fps, idle_cpu * 1e6, idle_cpu * 60 * 100, presented, idle_ticks);
    cr_assert_gt(fps, 5.0);
    cr_assert_leq(presented, 2, "an idle screen is (almost) never presented again");
    sdl_display_free(d);
    vga_free(vga);
}
