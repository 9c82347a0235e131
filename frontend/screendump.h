/* screendump.h: writing a DisplaySurface (or any 32-bit RGB buffer) to a PNG file. */
#ifndef ANYVM_FRONTEND_SCREENDUMP_H
#define ANYVM_FRONTEND_SCREENDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/display.h"

/* png_write_rgb32: write w x h pixels (0x00RRGGBB, stride pixels per row) as an 8-bit RGB PNG
 * to path. Returns 0, or -errno with a message in err. */
int png_write_rgb32(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    char *err, size_t errlen) __attribute__((warn_unused_result));

/* ppm_write_rgb32: the same as a binary PPM (P6), the format QEMU's screendump defaults to. */
int ppm_write_rgb32(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    char *err, size_t errlen) __attribute__((warn_unused_result));

/* screendump_surface: png_write_rgb32 of a whole surface. */
int screendump_surface(const DisplaySurface *s, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
