/* display_sdl.h: the SDL2 window (-display sdl): the guest's DisplaySurface scaled to the
 * window, keyboard and mouse into the board's InputSink. */
#ifndef ANYVM_FRONTEND_DISPLAY_SDL_H
#define ANYVM_FRONTEND_DISPLAY_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/display.h"
#include "core/machine.h"

#define SDL_DISPLAY_DEFAULT_HZ 60

typedef struct SdlDisplay SdlDisplay;

/* sdl_display_new: open the window for src (and send input to input, which may be NULL) and
 * refresh it refresh_hz times a second from a host timer (timerfd) watched by m's main loop;
 * the same tick polls SDL's events, so nothing spins. Returns NULL with a message in err when
 * SDL cannot open a window (no X server, built without SDL). Free with sdl_display_free()
 * before machine_free(). */
SdlDisplay *sdl_display_new(Machine *m, DisplaySource *src, InputSink *input, int refresh_hz,
                            char *err, size_t errlen);
void sdl_display_free(SdlDisplay *d);

/* sdl_display_refresh: one tick: handle pending events, render the guest's changes, present
 * the changed parts. Returns true if the window was redrawn. */
bool sdl_display_refresh(SdlDisplay *d);

/* sdl_display_screenshot: read back what the window shows and write it as PNG. Returns 0 or
 * -errno with a message in err. */
int sdl_display_screenshot(SdlDisplay *d, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* sdl_display_frames: how many frames were presented since the window opened, and (secs) the
 * seconds since then (-d stats prints them at exit). */
uint64_t sdl_display_frames(const SdlDisplay *d, double *secs);

/* sdl_display_title: the current window title (for tests). */
const char *sdl_display_title(const SdlDisplay *d);

/* sdl_display_toggle_fullscreen / sdl_display_set_grab: what Ctrl+Alt+F and Ctrl+Alt+G do. */
void sdl_display_toggle_fullscreen(SdlDisplay *d);
void sdl_display_set_grab(SdlDisplay *d, bool grab);
bool sdl_display_grabbed(const SdlDisplay *d);

#endif
