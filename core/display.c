/* display.c: DisplaySurface allocation and dirty-rectangle bookkeeping. */
#include "core/display.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int display_surface_resize(DisplaySurface *s, int w, int h)
{
    if (w <= 0 || h <= 0 || w > DISPLAY_MAX_WIDTH || h > DISPLAY_MAX_HEIGHT) {
        return -EINVAL;
    }
    if (s->pixels && s->width == w && s->height == h) {
        return 0;
    }
    uint32_t *p = calloc((size_t)w * (size_t)h, sizeof(uint32_t));
    if (!p) {
        return -ENOMEM;
    }
    free(s->pixels);
    s->pixels = p;
    s->width = w;
    s->height = h;
    s->stride = w;
    s->resized = true;
    s->n_dirty = 0;
    display_surface_add_dirty(s, 0, 0, w, h);
    return 0;
}

void display_surface_free(DisplaySurface *s)
{
    free(s->pixels);
    s->pixels = NULL;
    s->width = s->height = s->stride = 0;
    s->n_dirty = 0;
}

static void rect_union(DisplayRect *a, const DisplayRect *b)
{
    int x0 = a->x < b->x ? a->x : b->x;
    int y0 = a->y < b->y ? a->y : b->y;
    int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
    a->x = x0;
    a->y = y0;
    a->w = x1 - x0;
    a->h = y1 - y0;
}

void display_surface_add_dirty(DisplaySurface *s, int x, int y, int w, int h)
{
    if (x < 0) {
        w += x;
        x = 0;
    }
    if (y < 0) {
        h += y;
        y = 0;
    }
    if (x + w > s->width) {
        w = s->width - x;
    }
    if (y + h > s->height) {
        h = s->height - y;
    }
    if (w <= 0 || h <= 0) {
        return;
    }
    DisplayRect r = {x, y, w, h};
    if (s->n_dirty > 0) {
        /* Rows rendered top to bottom arrive as touching full-width strips: extend the last. */
        DisplayRect *l = &s->dirty[s->n_dirty - 1];
        if (l->x == r.x && l->w == r.w && l->y + l->h >= r.y && r.y + r.h >= l->y) {
            rect_union(l, &r);
            return;
        }
    }
    if (s->n_dirty < DISPLAY_MAX_DIRTY) {
        s->dirty[s->n_dirty++] = r;
        return;
    }
    for (int i = 1; i < s->n_dirty; i++) {
        rect_union(&s->dirty[0], &s->dirty[i]);
    }
    rect_union(&s->dirty[0], &r);
    s->n_dirty = 1;
}

void display_surface_clear_dirty(DisplaySurface *s)
{
    s->n_dirty = 0;
    s->resized = false;
}
