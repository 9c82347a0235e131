/* display_cmds.c: screendump, sendkey, send-key, input-send-event, info screen and
 * x-query-screen-text on the shared monitor command tables. */
#include "frontend/display_cmds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ps2.h"
#include "frontend/keymap.h"
#include "frontend/screendump.h"

#define SENDKEY_MAX 16

struct DisplayCmds {
    MonitorHub *hub;
    unsigned buttons; /* input-send-event button state */
};

char *display_text_rows(DisplaySource *src, int *cols, int *rows, char *err, size_t errlen)
{
    if (!src || !src->text) {
        snprintf(err, errlen, "no display adapter");
        return NULL;
    }
    enum { MAX_CELLS = 256 * 128 };
    uint16_t *cells = malloc(MAX_CELLS * sizeof(*cells));
    if (!cells) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int c, r;
    if (src->text(src->opaque, cells, MAX_CELLS, &c, &r) < 0) {
        free(cells);
        snprintf(err, errlen, "the display is not in a text mode");
        return NULL;
    }
    if ((long)c * r > MAX_CELLS) {
        r = MAX_CELLS / c;
    }
    char *out = malloc((size_t)r * ((size_t)c + 1) + 1);
    if (!out) {
        free(cells);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *p = out;
    for (int y = 0; y < r; y++) {
        char *line = p;
        for (int x = 0; x < c; x++) {
            unsigned ch = cells[y * c + x] & 0xFF;
            *p++ = ch == 0 ? ' ' : (ch >= 0x20 && ch < 0x7F) ? (char)ch : '?';
        }
        while (p > line && p[-1] == ' ') {
            p--;
        }
        *p++ = '\n';
    }
    *p = '\0';
    free(cells);
    *cols = c;
    *rows = r;
    return out;
}

static int do_screendump(Machine *m, const char *path, bool ppm, char *err, size_t errlen)
{
    if (!m->display) {
        snprintf(err, errlen, "no display adapter");
        return -ENODEV;
    }
    DisplaySurface *s = m->display->update(m->display->opaque);
    if (ppm) {
        return ppm_write_rgb32(path, s->pixels, s->width, s->height, s->stride, err, errlen);
    }
    return screendump_surface(s, path, err, errlen);
}

static void hmp_screendump(Monitor *mon, const char *args, void *opaque)
{
    char err[256];
    if (!*args) {
        monitor_printf(mon, "screendump: missing file name\n");
        return;
    }
    if (do_screendump(monitor_machine(mon), args, false, err, sizeof(err)) < 0) {
        monitor_printf(mon, "screendump: %s\n", err);
    }
}

/* Press keys[0..n) in order, then release them in reverse (a chord such as ctrl-alt-delete). */
static void send_chord(const InputSink *in, const uint16_t *keys, int n)
{
    for (int i = 0; i < n; i++) {
        keymap_send(in, keys[i], true);
    }
    for (int i = n - 1; i >= 0; i--) {
        keymap_send(in, keys[i], false);
    }
}

static void hmp_sendkey(Monitor *mon, const char *args, void *opaque)
{
    Machine *m = monitor_machine(mon);
    if (!m->input) {
        monitor_printf(mon, "sendkey: no keyboard\n");
        return;
    }
    uint16_t keys[SENDKEY_MAX];
    int n = 0;
    const char *p = args;
    while (*p && *p != ' ') {
        size_t len = strcspn(p, "- ");
        char name[32];
        if (len == 0 || len >= sizeof(name) || n == SENDKEY_MAX) {
            monitor_printf(mon, "sendkey: bad key list '%s'\n", args);
            return;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        keys[n] = keymap_name_to_set2(name);
        if (!keys[n]) {
            monitor_printf(mon, "sendkey: unknown key '%s'\n", name);
            return;
        }
        n++;
        p += len;
        if (*p == '-') {
            p++;
        }
    }
    if (n == 0) {
        monitor_printf(mon, "sendkey: missing keys (e.g. sendkey ctrl-alt-delete)\n");
        return;
    }
    send_chord(m->input, keys, n);
}

static void hmp_info_screen(Monitor *mon, const char *args, void *opaque)
{
    char err[128];
    int cols, rows;
    char *text = display_text_rows(monitor_machine(mon)->display, &cols, &rows, err,
                                   sizeof(err));
    if (!text) {
        monitor_printf(mon, "%s\n", err);
        return;
    }
    monitor_printf(mon, "%dx%d text\n", cols, rows);
    monitor_printf(mon, "%s", text);
    free(text);
}

static QmpErrorClass qmp_screendump(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                    char *err, size_t errlen, void *opaque)
{
    const char *file = json_get_string(args, "filename");
    if (!file) {
        snprintf(err, errlen, "Parameter 'filename' is missing");
        return QMP_ERR_GENERIC;
    }
    /* QEMU's optional "format": "ppm" or "png"; anyvm defaults to PNG. */
    const char *fmt = json_get_string(args, "format");
    if (fmt && strcmp(fmt, "png") && strcmp(fmt, "ppm")) {
        snprintf(err, errlen, "Parameter 'format' must be 'png' or 'ppm'");
        return QMP_ERR_GENERIC;
    }
    if (do_screendump(hub->m, file, fmt && !strcmp(fmt, "ppm"), err, errlen) < 0) {
        return QMP_ERR_GENERIC;
    }
    return QMP_OK;
}

/* A KeyValue: {"type": "qcode", "data": "ctrl"} or {"type": "number", "data": 0x1d}. The
 * number form is a set 1 code (QEMU's convention); only plain codes and E0 codes map. */
static uint16_t key_value(const JsonValue *kv)
{
    if (!kv || kv->type != JSON_OBJECT) {
        return 0;
    }
    const char *type = json_get_string(kv, "type");
    const JsonValue *data = json_object_get(kv, "data");
    if (!type || !data) {
        return 0;
    }
    if (!strcmp(type, "qcode") && data->type == JSON_STRING) {
        return keymap_name_to_set2(data->str);
    }
    if (!strcmp(type, "number") && data->type == JSON_NUMBER && data->is_int) {
        /* Find the set 2 code whose 8042 translation is this set 1 code. */
        for (int usage = 0; usage < 0xE8; usage++) {
            uint16_t s2 = keymap_hid_to_set2(usage);
            if (!s2 || s2 > 0xFF) {
                continue;
            }
            if (ps2_set2_to_set1((uint8_t)s2) == (data->integer & 0x7F) &&
                (data->integer & 0xFF00) == 0) {
                return s2;
            }
        }
    }
    return 0;
}

static QmpErrorClass qmp_send_key(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                  char *err, size_t errlen, void *opaque)
{
    const JsonValue *keys = json_object_get(args, "keys");
    if (!keys || keys->type != JSON_ARRAY || keys->n == 0) {
        snprintf(err, errlen, "Parameter 'keys' is missing or empty");
        return QMP_ERR_GENERIC;
    }
    if (!hub->m->input) {
        snprintf(err, errlen, "no keyboard");
        return QMP_ERR_GENERIC;
    }
    if (keys->n > SENDKEY_MAX) {
        snprintf(err, errlen, "too many keys (at most %d)", SENDKEY_MAX);
        return QMP_ERR_GENERIC;
    }
    uint16_t codes[SENDKEY_MAX];
    for (size_t i = 0; i < keys->n; i++) {
        codes[i] = key_value(keys->items[i]);
        if (!codes[i]) {
            snprintf(err, errlen, "Parameter 'keys' item %zu is not a known key", i);
            return QMP_ERR_GENERIC;
        }
    }
    send_chord(hub->m->input, codes, (int)keys->n);
    return QMP_OK;
}

static unsigned button_bit(const char *name)
{
    static const char *const names[] = {"left", "right", "middle", "side", "extra"};
    for (unsigned i = 0; i < 5; i++) {
        if (!strcmp(name, names[i])) {
            return 1u << i;
        }
    }
    return 0;
}

static QmpErrorClass qmp_input_send_event(MonitorHub *hub, const JsonValue *args,
                                          JsonValue **ret, char *err, size_t errlen,
                                          void *opaque)
{
    DisplayCmds *dc = opaque;
    const JsonValue *evs = json_object_get(args, "events");
    InputSink *in = hub->m->input;
    if (!evs || evs->type != JSON_ARRAY) {
        snprintf(err, errlen, "Parameter 'events' is missing");
        return QMP_ERR_GENERIC;
    }
    if (!in) {
        snprintf(err, errlen, "no input devices");
        return QMP_ERR_GENERIC;
    }
    /* Validate everything first so a bad event list changes nothing. */
    for (int pass = 0; pass < 2; pass++) {
        int dx = 0, dy = 0, dz = 0;
        bool moved = false;
        unsigned buttons = dc->buttons;
        for (size_t i = 0; i < evs->n; i++) {
            const JsonValue *ev = evs->items[i];
            const char *type = ev && ev->type == JSON_OBJECT ? json_get_string(ev, "type") : 0;
            const JsonValue *data = type ? json_object_get(ev, "data") : NULL;
            if (!data || data->type != JSON_OBJECT) {
                snprintf(err, errlen, "event %zu: missing 'type' or 'data'", i);
                return QMP_ERR_GENERIC;
            }
            const JsonValue *down = json_object_get(data, "down");
            if (!strcmp(type, "key")) {
                uint16_t code = key_value(json_object_get(data, "key"));
                if (!code || !down || down->type != JSON_BOOL) {
                    snprintf(err, errlen, "event %zu: bad key event", i);
                    return QMP_ERR_GENERIC;
                }
                if (pass) {
                    keymap_send(in, code, down->boolean);
                }
            } else if (!strcmp(type, "btn")) {
                const char *b = json_get_string(data, "button");
                unsigned bit = b ? button_bit(b) : 0;
                bool wheel = b && (!strcmp(b, "wheel-up") || !strcmp(b, "wheel-down"));
                if ((!bit && !wheel) || !down || down->type != JSON_BOOL) {
                    snprintf(err, errlen, "event %zu: bad button event", i);
                    return QMP_ERR_GENERIC;
                }
                if (wheel) {
                    dz += down->boolean ? (!strcmp(b, "wheel-up") ? -1 : 1) : 0;
                } else {
                    buttons = down->boolean ? (buttons | bit) : (buttons & ~bit);
                }
                moved = true;
            } else if (!strcmp(type, "rel")) {
                const char *axis = json_get_string(data, "axis");
                const JsonValue *v = json_object_get(data, "value");
                if (!axis || !v || v->type != JSON_NUMBER || !v->is_int ||
                    v->integer < -65536 || v->integer > 65536 ||
                    (strcmp(axis, "x") && strcmp(axis, "y"))) {
                    snprintf(err, errlen, "event %zu: bad rel event", i);
                    return QMP_ERR_GENERIC;
                }
                if (axis[0] == 'x') {
                    dx += (int)v->integer;
                } else {
                    dy += (int)v->integer;
                }
                moved = true;
            } else {
                snprintf(err, errlen, "event %zu: type '%s' not supported", i, type);
                return QMP_ERR_GENERIC;
            }
        }
        if (pass && moved && in->mouse) {
            dc->buttons = buttons;
            in->mouse(in->opaque, dx, dy, dz, buttons);
        }
    }
    return QMP_OK;
}

static QmpErrorClass qmp_query_screen_text(MonitorHub *hub, const JsonValue *args,
                                           JsonValue **ret, char *err, size_t errlen,
                                           void *opaque)
{
    int cols, rows;
    char *text = display_text_rows(hub->m->display, &cols, &rows, err, errlen);
    if (!text) {
        return QMP_ERR_GENERIC;
    }
    JsonValue *o = json_object();
    JsonValue *lines = json_array();
    if (!o || !lines) {
        json_free(o);
        json_free(lines);
        free(text);
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_array_append(lines, json_string_len(p, len));
        p += len + (nl ? 1 : 0);
    }
    free(text);
    json_object_set(o, "cols", json_int(cols));
    json_object_set(o, "rows", json_int(rows));
    json_object_set(o, "lines", lines);
    *ret = o;
    return QMP_OK;
}

DisplayCmds *display_cmds_new(MonitorHub *hub)
{
    DisplayCmds *dc = calloc(1, sizeof(*dc));
    if (!dc) {
        return NULL;
    }
    dc->hub = hub;
    if (monitor_register(hub, "screendump", "FILE", "save the screen as a PNG image",
                         hmp_screendump, dc) < 0 ||
        monitor_register(hub, "sendkey", "KEYS", "send a key chord, e.g. ctrl-alt-delete",
                         hmp_sendkey, dc) < 0 ||
        monitor_register_info(hub, "screen", "the text screen's contents", hmp_info_screen,
                              dc) < 0 ||
        qmp_register(hub, "screendump", qmp_screendump, dc) < 0 ||
        qmp_register(hub, "send-key", qmp_send_key, dc) < 0 ||
        qmp_register(hub, "input-send-event", qmp_input_send_event, dc) < 0 ||
        qmp_register(hub, "x-query-screen-text", qmp_query_screen_text, dc) < 0) {
        return NULL; /* dc stays allocated: the commands registered so far point at it */
    }
    return dc;
}

void display_cmds_free(DisplayCmds *dc)
{
    free(dc);
}
