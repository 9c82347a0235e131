/* display_sdl.c: the SDL2 window: guest surface to a streaming texture (dirty rectangles
 * only), scaled with the aspect ratio kept; keyboard to PS/2 set 2, relative mouse when
 * grabbed; Ctrl+Alt+F fullscreen, Ctrl+Alt+G grab/release.
 *
 * Everything runs on the main loop's thread: a timerfd at the refresh rate is one of the
 * machine's watched fds, and its handler polls SDL events and redraws. An idle guest costs one
 * wake-up per tick, a dirty check in the adapter, and no presentation. */
#define _GNU_SOURCE
#include "frontend/display_sdl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "frontend/keymap.h"
#include "frontend/screendump.h"

#ifdef ANYVM_HAVE_SDL
#include <SDL.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct SdlDisplay {
    Machine *m;
    DisplaySource *src;
    InputSink *input;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;
    int timer_fd;
    bool fullscreen, grabbed;
    bool need_present;
    unsigned buttons;
    RunState last_state;
    int last_w, last_h;
    char title[160];
    uint64_t frames;      /* presents since the window opened */
    int64_t opened_ns;
};

static void update_title(SdlDisplay *d, int w, int h)
{
    RunState st = d->m->state;
    if (st == d->last_state && w == d->last_w && h == d->last_h && d->title[0]) {
        return;
    }
    d->last_state = st;
    d->last_w = w;
    d->last_h = h;
    snprintf(d->title, sizeof(d->title), "anyvm - %s - %dx%d%s",
             st == RUN_STATE_PAUSED ? "paused" : "running", w, h,
             d->grabbed ? " - Ctrl+Alt+G releases the mouse" : "");
    SDL_SetWindowTitle(d->win, d->title);
}

void sdl_display_set_grab(SdlDisplay *d, bool grab)
{
    if (grab && !d->input) {
        return;
    }
    d->grabbed = grab;
    SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(d->win, grab ? SDL_TRUE : SDL_FALSE);
    d->title[0] = '\0';
    update_title(d, d->last_w, d->last_h);
}

bool sdl_display_grabbed(const SdlDisplay *d)
{
    return d->grabbed;
}

void sdl_display_toggle_fullscreen(SdlDisplay *d)
{
    d->fullscreen = !d->fullscreen;
    SDL_SetWindowFullscreen(d->win, d->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    d->need_present = true;
}

const char *sdl_display_title(const SdlDisplay *d)
{
    return d->title;
}

static unsigned sdl_buttons(Uint32 state)
{
    unsigned b = 0;
    if (state & SDL_BUTTON(SDL_BUTTON_LEFT)) {
        b |= 1;
    }
    if (state & SDL_BUTTON(SDL_BUTTON_RIGHT)) {
        b |= 2;
    }
    if (state & SDL_BUTTON(SDL_BUTTON_MIDDLE)) {
        b |= 4;
    }
    if (state & SDL_BUTTON(SDL_BUTTON_X1)) {
        b |= 8;
    }
    if (state & SDL_BUTTON(SDL_BUTTON_X2)) {
        b |= 16;
    }
    return b;
}

static void mouse_send(SdlDisplay *d, int dx, int dy, int dz)
{
    if (d->input && d->input->mouse && d->grabbed) {
        d->input->mouse(d->input->opaque, dx, dy, dz, d->buttons);
    }
}

static void handle_key(SdlDisplay *d, const SDL_KeyboardEvent *k)
{
    bool down = k->type == SDL_KEYDOWN;
    SDL_Keymod mod = SDL_GetModState();
    if (down && (mod & KMOD_CTRL) && (mod & KMOD_ALT)) {
        if (k->keysym.scancode == SDL_SCANCODE_F) {
            sdl_display_toggle_fullscreen(d);
            return;
        }
        if (k->keysym.scancode == SDL_SCANCODE_G) {
            sdl_display_set_grab(d, !d->grabbed);
            return;
        }
    }
    if (k->repeat && !down) {
        return;
    }
    keymap_send(d->input, keymap_hid_to_set2(k->keysym.scancode), down);
}

static void handle_events(SdlDisplay *d)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            machine_request_shutdown(d->m, SHUTDOWN_HOST_QUIT, 0);
            break;
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            handle_key(d, &ev.key);
            break;
        case SDL_MOUSEMOTION:
            d->buttons = sdl_buttons(ev.motion.state);
            mouse_send(d, ev.motion.xrel, ev.motion.yrel, 0);
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            if (!d->grabbed) {
                if (ev.type == SDL_MOUSEBUTTONDOWN && ev.button.button == SDL_BUTTON_LEFT) {
                    sdl_display_set_grab(d, true); /* a click in the window grabs */
                }
                break;
            }
            d->buttons = sdl_buttons(SDL_GetMouseState(NULL, NULL));
            mouse_send(d, 0, 0, 0);
            break;
        case SDL_MOUSEWHEEL: {
            int dz = ev.wheel.y;
            if (ev.wheel.direction == SDL_MOUSEWHEEL_FLIPPED) {
                dz = -dz;
            }
            mouse_send(d, 0, 0, -dz); /* SDL: positive is away from the user */
            break;
        }
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
                d->need_present = true;
            }
            if (ev.window.event == SDL_WINDOWEVENT_FOCUS_LOST && d->grabbed) {
                sdl_display_set_grab(d, false);
            }
            break;
        default:
            break;
        }
    }
}

static bool ensure_texture(SdlDisplay *d, int w, int h)
{
    if (d->tex && d->tex_w == w && d->tex_h == h) {
        return true;
    }
    if (d->tex) {
        SDL_DestroyTexture(d->tex);
    }
    d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w,
                               h);
    if (!d->tex) {
        return false;
    }
    d->tex_w = w;
    d->tex_h = h;
    SDL_RenderSetLogicalSize(d->ren, w, h);
    if (!d->fullscreen) {
        SDL_SetWindowSize(d->win, w, h);
    }
    return true;
}

bool sdl_display_refresh(SdlDisplay *d)
{
    handle_events(d);
    DisplaySurface *s = d->src->update(d->src->opaque);
    if (!s->pixels) {
        return false;
    }
    bool new_tex = !d->tex || d->tex_w != s->width || d->tex_h != s->height;
    if (!ensure_texture(d, s->width, s->height)) {
        return false;
    }
    if (new_tex || s->resized) {
        SDL_UpdateTexture(d->tex, NULL, s->pixels, s->stride * 4);
        d->need_present = true;
    } else {
        for (int i = 0; i < s->n_dirty; i++) {
            const DisplayRect *r = &s->dirty[i];
            SDL_Rect sr = {r->x, r->y, r->w, r->h};
            SDL_UpdateTexture(d->tex, &sr, s->pixels + (size_t)r->y * s->stride + r->x,
                              s->stride * 4);
            d->need_present = true;
        }
    }
    display_surface_clear_dirty(s);
    update_title(d, s->width, s->height);
    if (!d->need_present) {
        return false;
    }
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
    d->need_present = false;
    d->frames++;
    return true;
}

static void on_tick(void *opaque, int fd, short revents)
{
    SdlDisplay *d = opaque;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n));
    (void)r;
    sdl_display_refresh(d);
}

SdlDisplay *sdl_display_new(Machine *m, DisplaySource *src, InputSink *input, int refresh_hz,
                            char *err, size_t errlen)
{
    if (!src) {
        snprintf(err, errlen, "the machine has no display adapter");
        return NULL;
    }
    if (refresh_hz <= 0 || refresh_hz > 1000) {
        refresh_hz = SDL_DISPLAY_DEFAULT_HZ;
    }
    SdlDisplay *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->m = m;
    d->src = src;
    d->input = input;
    d->timer_fd = -1;
    d->last_state = m->state;
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1"); /* SIGINT/SIGTERM stay the machine's */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        free(d);
        return NULL;
    }
    /* Without an X or Wayland server SDL falls back to its invisible offscreen driver: that
     * is no window at all unless the user asked for it with SDL_VIDEODRIVER. */
    const char *drv = SDL_GetCurrentVideoDriver();
    if (!getenv("SDL_VIDEODRIVER") && drv &&
        (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy"))) {
        snprintf(err, errlen, "no display server (SDL found only its %s driver)", drv);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        free(d);
        return NULL;
    }
    d->win = SDL_CreateWindow("anyvm", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
                              400, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (d->win) {
        d->ren = SDL_CreateRenderer(d->win, -1, SDL_RENDERER_ACCELERATED);
        if (!d->ren) {
            d->ren = SDL_CreateRenderer(d->win, -1, SDL_RENDERER_SOFTWARE);
        }
    }
    if (!d->win || !d->ren) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        sdl_display_free(d);
        return NULL;
    }
    d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (d->timer_fd < 0) {
        snprintf(err, errlen, "timerfd: %s", strerror(errno));
        sdl_display_free(d);
        return NULL;
    }
    long period = 1000000000L / refresh_hz;
    struct itimerspec its = {{0, period}, {0, period}};
    if (timerfd_settime(d->timer_fd, 0, &its, NULL) < 0 ||
        machine_add_fd(m, d->timer_fd, POLLIN, on_tick, d) < 0) {
        snprintf(err, errlen, "cannot start the display timer");
        close(d->timer_fd);
        d->timer_fd = -1;
        sdl_display_free(d);
        return NULL;
    }
    update_title(d, 640, 400);
    d->opened_ns = host_monotonic_ns(NULL);
    return d;
}

uint64_t sdl_display_frames(const SdlDisplay *d, double *secs)
{
    if (secs) {
        *secs = (double)(host_monotonic_ns(NULL) - d->opened_ns) / 1e9;
    }
    return d->frames;
}

void sdl_display_free(SdlDisplay *d)
{
    if (!d) {
        return;
    }
    if (d->timer_fd >= 0) {
        machine_remove_fd(d->m, d->timer_fd);
        close(d->timer_fd);
    }
    if (d->tex) {
        SDL_DestroyTexture(d->tex);
    }
    if (d->ren) {
        SDL_DestroyRenderer(d->ren);
    }
    if (d->win) {
        SDL_SetRelativeMouseMode(SDL_FALSE);
        SDL_DestroyWindow(d->win);
    }
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(d);
}

int sdl_display_screenshot(SdlDisplay *d, const char *path, char *err, size_t errlen)
{
    int w, h;
    if (SDL_GetRendererOutputSize(d->ren, &w, &h) != 0 || w <= 0 || h <= 0) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        return -EIO;
    }
    uint32_t *buf = malloc((size_t)w * (size_t)h * 4);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* Read back what was last presented: draw it again into the back buffer first. */
    SDL_RenderClear(d->ren);
    if (d->tex) {
        SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    }
    SDL_RenderSetLogicalSize(d->ren, 0, 0);
    int rc = SDL_RenderReadPixels(d->ren, NULL, SDL_PIXELFORMAT_RGB888, buf, w * 4);
    if (d->tex) {
        SDL_RenderSetLogicalSize(d->ren, d->tex_w, d->tex_h);
    }
    if (rc != 0) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        free(buf);
        return -EIO;
    }
    int r = png_write_rgb32(path, buf, w, h, w, err, errlen);
    free(buf);
    return r;
}
#else
SdlDisplay *sdl_display_new(Machine *m, DisplaySource *src, InputSink *input, int refresh_hz,
                            char *err, size_t errlen)
{
    snprintf(err, errlen, "built without SDL2");
    return NULL;
}

void sdl_display_free(SdlDisplay *d)
{
}

uint64_t sdl_display_frames(const SdlDisplay *d, double *secs)
{
    (void)d;
    if (secs) {
        *secs = 0;
    }
    return 0;
}

bool sdl_display_refresh(SdlDisplay *d)
{
    return false;
}

int sdl_display_screenshot(SdlDisplay *d, const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "built without SDL2");
    return -ENOTSUP;
}

const char *sdl_display_title(const SdlDisplay *d)
{
    return "";
}

void sdl_display_toggle_fullscreen(SdlDisplay *d)
{
}

void sdl_display_set_grab(SdlDisplay *d, bool grab)
{
}

bool sdl_display_grabbed(const SdlDisplay *d)
{
    return false;
}
#endif
