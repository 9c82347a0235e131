/* screendump.c: PNG output through libpng (monitor screendump, display screenshots). */
#include "frontend/screendump.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ANYVM_HAVE_PNG
#include <png.h>

/* libpng reports fatal errors with longjmp; keep everything the jump crosses out of locals
 * that the jump could clobber by doing the work in one function with volatile state. */
int png_write_rgb32(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    char *err, size_t errlen)
{
    if (!pixels || w <= 0 || h <= 0 || stride < w) {
        snprintf(err, errlen, "nothing to write (no display surface)");
        return -EINVAL;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    uint8_t *volatile row = malloc((size_t)w * 3);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!row || !png || !info) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        remove(path);
        snprintf(err, errlen, "%s: PNG write failed", path);
        return -EIO;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        const uint32_t *src = pixels + (size_t)y * stride;
        uint8_t *r = row;
        for (int x = 0; x < w; x++) {
            r[3 * x] = (uint8_t)(src[x] >> 16);
            r[3 * x + 1] = (uint8_t)(src[x] >> 8);
            r[3 * x + 2] = (uint8_t)src[x];
        }
        png_write_row(png, r);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fclose(f) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    return 0;
}
#else
int png_write_rgb32(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    char *err, size_t errlen)
{
    snprintf(err, errlen, "built without libpng");
    return -ENOTSUP;
}
#endif

int ppm_write_rgb32(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    char *err, size_t errlen)
{
    if (!pixels || w <= 0 || h <= 0 || stride < w) {
        snprintf(err, errlen, "nothing to write (no display surface)");
        return -EINVAL;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    uint8_t *row = malloc((size_t)w * 3);
    bool ok = row && fprintf(f, "P6\n%d %d\n255\n", w, h) > 0;
    for (int y = 0; ok && y < h; y++) {
        const uint32_t *src = pixels + (size_t)y * stride;
        for (int x = 0; x < w; x++) {
            row[3 * x] = (uint8_t)(src[x] >> 16);
            row[3 * x + 1] = (uint8_t)(src[x] >> 8);
            row[3 * x + 2] = (uint8_t)src[x];
        }
        ok = fwrite(row, 3, (size_t)w, f) == (size_t)w;
    }
    free(row);
    if (fclose(f) != 0 || !ok) {
        remove(path);
        snprintf(err, errlen, "%s: write failed", path);
        return -EIO;
    }
    return 0;
}

int screendump_surface(const DisplaySurface *s, const char *path, char *err, size_t errlen)
{
    return png_write_rgb32(path, s->pixels, s->width, s->height, s->stride, err, errlen);
}
