/* display.h: what a display adapter hands the frontend (a framebuffer plus dirty rectangles,
 * a text grid) and what the frontend hands the board (keys and mouse motion). */
#ifndef ANYVM_CORE_DISPLAY_H
#define ANYVM_CORE_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DISPLAY_MAX_DIRTY 32
#define DISPLAY_MAX_WIDTH 2048
#define DISPLAY_MAX_HEIGHT 2048

typedef struct DisplayRect {
    int x, y, w, h;
} DisplayRect;

/* DisplaySurface: a 32-bit 0x00RRGGBB framebuffer the adapter renders into, with the
 * rectangles changed since the consumer last called display_surface_clear_dirty(). When more
 * rectangles pile up than fit, they collapse into their bounding box. */
typedef struct DisplaySurface {
    uint32_t *pixels; /* owned; stride pixels per row */
    int width, height, stride;
    DisplayRect dirty[DISPLAY_MAX_DIRTY];
    int n_dirty;
    bool resized;     /* the size changed since the last clear */
} DisplaySurface;

/* display_surface_resize: make the surface w x h (cleared to black, all dirty). Keeps the
 * buffer when the size is unchanged. Returns 0 or -ENOMEM / -EINVAL (w, h out of range). */
int display_surface_resize(DisplaySurface *s, int w, int h) __attribute__((warn_unused_result));

/* display_surface_free: release the pixels (the struct itself belongs to the caller). */
void display_surface_free(DisplaySurface *s);

/* display_surface_add_dirty: note that [x, x+w) x [y, y+h) changed (clipped to the surface). */
void display_surface_add_dirty(DisplaySurface *s, int x, int y, int w, int h);

/* display_surface_clear_dirty: the consumer has shown every change. */
void display_surface_clear_dirty(DisplaySurface *s);

/* DisplaySource: the board's display adapter as the frontend sees it.
 * update renders what changed since the last call and returns the surface (never NULL);
 * text copies the character grid (char | attribute << 8 per cell, row-major, at most max
 * cells) and returns 0 with *cols and *rows set, or -ENOTSUP when a graphics mode is shown. */
typedef struct DisplaySource {
    DisplaySurface *(*update)(void *opaque);
    int (*text)(void *opaque, uint16_t *cells, int max, int *cols, int *rows);
    void *opaque;
} DisplaySource;

/* InputSink: where host input goes. key takes a PS/2 set 2 code (0xE0xx for E0-prefixed keys,
 * PS2_KEY_PAUSE for Pause); mouse takes relative motion (dy > 0 down, dz > 0 wheel towards
 * the user) and the buttons held (bit 0 left, 1 right, 2 middle). */
typedef struct InputSink {
    void (*key)(void *opaque, uint16_t set2_code, bool down);
    void (*mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    void *opaque;
} InputSink;

#endif
