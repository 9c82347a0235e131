/* ps2.c: PS/2 keyboard and mouse devices (IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard and Auxiliary Device Controller" and the keyboard/mouse command sections).
 *
 * Each device has a bounded byte queue that the 8042 drains one byte at a time. Command
 * responses always fit: when the queue is full, the oldest bytes give way to the response.
 */
#include "devices/ps2.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vmstate.h"

#define PS2_QUEUE_SIZE 64

enum {
    PS2_ACK = 0xFA,
    PS2_RESEND = 0xFE,
    PS2_BAT_OK = 0xAA,
    PS2_ECHO = 0xEE,
};

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint8_t rptr;
    uint8_t count;
} PS2Queue;

struct PS2Kbd {
    PS2Queue q;
    uint8_t pending;      /* command waiting for its argument (0xED, 0xF0, 0xF3), 0 = none */
    uint8_t scancode_set; /* 1..3 */
    bool scanning;
    uint8_t leds;
    uint8_t typematic;
    uint8_t last_sent;
    PS2NotifyFn notify;
    void *opaque;
    Logger *log;
};

struct PS2Mouse {
    PS2Queue q;
    uint8_t pending; /* 0xE8 or 0xF3 waiting for the argument */
    bool reporting;
    bool remote;
    bool wrap;
    bool scaling21;
    uint8_t resolution;
    uint8_t sample_rate;
    uint8_t id;       /* 0 standard, 3 IntelliMouse, 4 IntelliMouse Explorer */
    uint8_t rates[3]; /* the last three sample rates set, newest last */
    uint8_t buttons;
    bool buttons_changed;
    int32_t dx, dy, dz; /* motion not yet reported (PS/2 orientation: y up) */
    uint8_t last_sent;
    PS2NotifyFn notify;
    void *opaque;
    Logger *log;
};

static const VMStateField ps2_kbd_fields[] = {
    VMSTATE_BUFFER(PS2Kbd, q.data),   VMSTATE_U8(PS2Kbd, q.rptr),
    VMSTATE_U8(PS2Kbd, q.count),      VMSTATE_U8(PS2Kbd, pending),
    VMSTATE_U8(PS2Kbd, scancode_set), VMSTATE_BOOL(PS2Kbd, scanning),
    VMSTATE_U8(PS2Kbd, leds),         VMSTATE_U8(PS2Kbd, typematic),
    VMSTATE_U8(PS2Kbd, last_sent),    VMSTATE_END,
};

static int ps2_kbd_post_load(void *opaque);

static const VMStateDesc ps2_kbd_vmstate = {
    .name = "ps2-kbd",
    .version = 1,
    .fields = ps2_kbd_fields,
    .post_load = ps2_kbd_post_load,
};

static const VMStateField ps2_mouse_fields[] = {
    VMSTATE_BUFFER(PS2Mouse, q.data),
    VMSTATE_U8(PS2Mouse, q.rptr),
    VMSTATE_U8(PS2Mouse, q.count),
    VMSTATE_U8(PS2Mouse, pending),
    VMSTATE_BOOL(PS2Mouse, reporting),
    VMSTATE_BOOL(PS2Mouse, remote),
    VMSTATE_BOOL(PS2Mouse, wrap),
    VMSTATE_BOOL(PS2Mouse, scaling21),
    VMSTATE_U8(PS2Mouse, resolution),
    VMSTATE_U8(PS2Mouse, sample_rate),
    VMSTATE_U8(PS2Mouse, id),
    VMSTATE_U8_ARRAY(PS2Mouse, rates, 3),
    VMSTATE_U8(PS2Mouse, buttons),
    VMSTATE_BOOL(PS2Mouse, buttons_changed),
    VMSTATE_I32(PS2Mouse, dx),
    VMSTATE_I32(PS2Mouse, dy),
    VMSTATE_I32(PS2Mouse, dz),
    VMSTATE_U8(PS2Mouse, last_sent),
    VMSTATE_END,
};

static int ps2_mouse_post_load(void *opaque);

static const VMStateDesc ps2_mouse_vmstate = {
    .name = "ps2-mouse",
    .version = 1,
    .fields = ps2_mouse_fields,
    .post_load = ps2_mouse_post_load,
};

/* The 8042's set 2 -> set 1 translation for bytes 0x00-0x7F (IBM PS/2 technical reference,
 * "Scan Code Translation"); 0x83 and 0x84 translate too, other bytes pass unchanged. */
/* clang-format off */
static const uint8_t set2_to_set1[128] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
};
/* clang-format on */

uint8_t ps2_set2_to_set1(uint8_t code)
{
    if (code < 0x80) {
        return set2_to_set1[code];
    }
    if (code == 0x83) {
        return 0x41; /* F7 */
    }
    if (code == 0x84) {
        return 0x54; /* SysRq */
    }
    return code;
}

/* --- queue ------------------------------------------------------------------------------- */

static unsigned q_room(const PS2Queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static void q_clear(PS2Queue *q)
{
    q->rptr = 0;
    q->count = 0;
}

static void q_push(PS2Queue *q, uint8_t v)
{
    if (q->count >= PS2_QUEUE_SIZE) {
        /* Make room by dropping the oldest byte (only command responses get here). */
        q->rptr = (uint8_t)((q->rptr + 1) % PS2_QUEUE_SIZE);
        q->count--;
    }
    q->data[(q->rptr + q->count) % PS2_QUEUE_SIZE] = v;
    q->count++;
}

static int q_pop(PS2Queue *q)
{
    if (q->count == 0) {
        return -1;
    }
    uint8_t v = q->data[q->rptr];
    q->rptr = (uint8_t)((q->rptr + 1) % PS2_QUEUE_SIZE);
    q->count--;
    return v;
}

static void q_sanitize(PS2Queue *q)
{
    q->rptr %= PS2_QUEUE_SIZE;
    if (q->count > PS2_QUEUE_SIZE) {
        q->count = PS2_QUEUE_SIZE;
    }
}

/* --- keyboard ------------------------------------------------------------------------------ */

static void kbd_defaults(PS2Kbd *kbd)
{
    kbd->scancode_set = 2;
    kbd->typematic = 0x2B; /* 10.9 characters/s after 500 ms */
    kbd->pending = 0;
}

static void kbd_send(PS2Kbd *kbd, uint8_t v)
{
    q_push(&kbd->q, v);
}

static void kbd_notify(PS2Kbd *kbd)
{
    if (kbd->notify && kbd->q.count) {
        kbd->notify(kbd->opaque);
    }
}

static void kbd_command(PS2Kbd *kbd, uint8_t val)
{
    switch (val) {
    case 0xFF: /* reset: ACK, then the basic assurance test passes */
        q_clear(&kbd->q);
        kbd_defaults(kbd);
        kbd->leds = 0;
        kbd->scanning = true;
        kbd_send(kbd, PS2_ACK);
        kbd_send(kbd, PS2_BAT_OK);
        break;
    case 0xFE: /* resend the last byte sent */
        kbd_send(kbd, kbd->last_sent);
        break;
    case 0xF6: /* set default, keep scanning */
        q_clear(&kbd->q);
        kbd_defaults(kbd);
        kbd->scanning = true;
        kbd_send(kbd, PS2_ACK);
        break;
    case 0xF5: /* default disable */
        q_clear(&kbd->q);
        kbd_defaults(kbd);
        kbd->scanning = false;
        kbd_send(kbd, PS2_ACK);
        break;
    case 0xF4: /* enable */
        q_clear(&kbd->q);
        kbd->scanning = true;
        kbd_send(kbd, PS2_ACK);
        break;
    case 0xF2: /* read ID: MF2 keyboard */
        kbd_send(kbd, PS2_ACK);
        kbd_send(kbd, 0xAB);
        kbd_send(kbd, 0x83);
        break;
    case 0xEE:
        kbd_send(kbd, PS2_ECHO);
        break;
    case 0xED: /* set LEDs */
    case 0xF0: /* select scancode set */
    case 0xF3: /* typematic rate/delay */
        kbd->pending = val;
        kbd_send(kbd, PS2_ACK);
        break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
    case 0xFD:
        /* Set 3 key attribute commands: acknowledged, no effect. */
        LOG_ONCE(kbd->log, LOG_UNIMP, "ps2-kbd: set 3 key attribute command 0x%02x\n", val);
        kbd_send(kbd, PS2_ACK);
        break;
    default:
        LOG_ONCE(kbd->log, LOG_GUEST_ERROR, "ps2-kbd: unknown command 0x%02x\n", val);
        kbd_send(kbd, PS2_RESEND);
        break;
    }
}

void ps2_kbd_write(PS2Kbd *kbd, uint8_t val)
{
    uint8_t pending = kbd->pending;
    kbd->pending = 0;
    if (pending && val < 0xED) {
        switch (pending) {
        case 0xED:
            kbd->leds = val & 7;
            kbd_send(kbd, PS2_ACK);
            break;
        case 0xF3:
            kbd->typematic = val & 0x7F;
            kbd_send(kbd, PS2_ACK);
            break;
        default: /* 0xF0 */
            if (val == 0) {
                kbd_send(kbd, PS2_ACK);
                kbd_send(kbd, kbd->scancode_set);
            } else if (val <= 3) {
                kbd->scancode_set = val;
                kbd_send(kbd, PS2_ACK);
                if (val == 3) {
                    LOG_ONCE(kbd->log, LOG_UNIMP, "ps2-kbd: scancode set 3 (set 2 is sent)\n");
                }
            } else {
                kbd_send(kbd, PS2_RESEND);
            }
            break;
        }
    } else {
        /* A command byte ends any pending argument. */
        kbd_command(kbd, val);
    }
    kbd_notify(kbd);
}

int ps2_kbd_read(PS2Kbd *kbd)
{
    int v = q_pop(&kbd->q);
    if (v >= 0) {
        kbd->last_sent = (uint8_t)v;
    }
    return v;
}

bool ps2_kbd_has_data(const PS2Kbd *kbd)
{
    return kbd->q.count > 0;
}

uint8_t ps2_kbd_leds(const PS2Kbd *kbd)
{
    return kbd->leds;
}

/* Queue a key sequence in the active set, or the overrun code when it does not fit. */
static void kbd_queue_seq(PS2Kbd *kbd, const uint8_t *seq, unsigned n)
{
    uint8_t out[8];
    unsigned len = 0;
    if (kbd->scancode_set == 1) {
        bool brk = false;
        for (unsigned i = 0; i < n; i++) {
            if (seq[i] == 0xF0) {
                brk = true;
                continue;
            }
            out[len++] = (uint8_t)(ps2_set2_to_set1(seq[i]) | (brk ? 0x80 : 0));
            brk = false;
        }
    } else {
        memcpy(out, seq, n);
        len = n;
    }
    /* Keep one byte free for the overrun code. */
    if (len + 1 > q_room(&kbd->q)) {
        uint8_t overrun = kbd->scancode_set == 1 ? 0xFF : 0x00;
        PS2Queue *q = &kbd->q;
        bool already = q->count && q->data[(q->rptr + q->count - 1) % PS2_QUEUE_SIZE] == overrun;
        if (q_room(q) > 0 && !already) {
            kbd_send(kbd, overrun);
        }
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        kbd_send(kbd, out[i]);
    }
}

void ps2_kbd_key(PS2Kbd *kbd, uint16_t code, bool down)
{
    if (!kbd->scanning) {
        return;
    }
    uint8_t seq[8];
    unsigned n = 0;
    if (code == PS2_KEY_PAUSE) {
        static const uint8_t pause[8] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (!down) {
            return;
        }
        memcpy(seq, pause, sizeof(pause));
        n = sizeof(pause);
    } else {
        if ((code >> 8) == 0xE0) {
            seq[n++] = 0xE0;
        }
        if (!down) {
            seq[n++] = 0xF0;
        }
        seq[n++] = (uint8_t)code;
    }
    kbd_queue_seq(kbd, seq, n);
    kbd_notify(kbd);
}

static void ps2_kbd_reset(void *opaque)
{
    PS2Kbd *kbd = opaque;
    q_clear(&kbd->q);
    kbd_defaults(kbd);
    kbd->leds = 0;
    kbd->scanning = true;
    kbd->last_sent = 0;
}

static int ps2_kbd_post_load(void *opaque)
{
    PS2Kbd *kbd = opaque;
    q_sanitize(&kbd->q);
    if (kbd->scancode_set < 1 || kbd->scancode_set > 3) {
        kbd->scancode_set = 2;
    }
    return 0;
}

PS2Kbd *ps2_kbd_new(Machine *m, PS2NotifyFn notify, void *opaque)
{
    PS2Kbd *kbd = calloc(1, sizeof(*kbd));
    if (!kbd) {
        return NULL;
    }
    kbd->notify = notify;
    kbd->opaque = opaque;
    kbd->log = &m->log;
    ps2_kbd_reset(kbd);
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "ps2-kbd", &ps2_kbd_vmstate, kbd) < 0 ||
        machine_add_reset(m, ps2_kbd_reset, kbd) < 0) {
        return NULL;
    }
    return kbd;
}

void ps2_kbd_free(PS2Kbd *kbd)
{
    free(kbd);
}

/* --- mouse --------------------------------------------------------------------------------- */

static void mouse_defaults(PS2Mouse *ms)
{
    ms->sample_rate = 100;
    ms->resolution = 2;
    ms->scaling21 = false;
    ms->remote = false;
    ms->reporting = false;
    ms->pending = 0;
}

static void mouse_notify(PS2Mouse *ms)
{
    if (ms->notify && ms->q.count) {
        ms->notify(ms->opaque);
    }
}

static unsigned mouse_packet_size(const PS2Mouse *ms)
{
    return ms->id >= 3 ? 4 : 3;
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling of a reported count (PS/2 mouse, "Scaling"). */
static int32_t mouse_scale(int32_t v)
{
    static const int8_t small[6] = {0, 1, 1, 3, 6, 9};
    int32_t a = v < 0 ? -v : v;
    int32_t s = a <= 5 ? small[a] : 2 * a;
    return v < 0 ? -s : s;
}

/* Queue one movement packet from the accumulated motion (at most 255 counts per axis). */
static void mouse_packet(PS2Mouse *ms)
{
    int32_t x = clamp32(ms->dx, -255, 255);
    int32_t y = clamp32(ms->dy, -255, 255);
    int32_t z = clamp32(ms->dz, -8, 7);
    ms->dx -= x;
    ms->dy -= y;
    ms->dz -= z;
    if (ms->scaling21 && !ms->remote) {
        x = clamp32(mouse_scale(x), -255, 255);
        y = clamp32(mouse_scale(y), -255, 255);
    }
    uint8_t b0 = (uint8_t)(0x08 | (ms->buttons & 7) | (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0));
    q_push(&ms->q, b0);
    q_push(&ms->q, (uint8_t)x);
    q_push(&ms->q, (uint8_t)y);
    if (ms->id == 4) {
        q_push(&ms->q, (uint8_t)((z & 0x0F) | ((ms->buttons & 0x18) << 1)));
    } else if (ms->id == 3) {
        q_push(&ms->q, (uint8_t)z);
    }
    ms->buttons_changed = false;
}

/* Stream mode: send packets while there is motion and room for whole packets. */
static void mouse_stream(PS2Mouse *ms)
{
    if (!ms->reporting || ms->remote || ms->wrap) {
        return;
    }
    for (int guard = 0; guard < PS2_QUEUE_SIZE; guard++) {
        bool moved = ms->dx || ms->dy || (ms->dz && ms->id >= 3) || ms->buttons_changed;
        if (!moved || q_room(&ms->q) < mouse_packet_size(ms)) {
            break;
        }
        mouse_packet(ms);
    }
    if (ms->id < 3) {
        ms->dz = 0;
    }
}

static void mouse_set_rate(PS2Mouse *ms, uint8_t rate)
{
    ms->sample_rate = rate;
    ms->rates[0] = ms->rates[1];
    ms->rates[1] = ms->rates[2];
    ms->rates[2] = rate;
    /* IntelliMouse detection: sample rates 200, 100, 80 switch to ID 3 (wheel); then 200, 200,
     * 80 switch to ID 4 (wheel and buttons 4/5). */
    if (ms->rates[0] == 200 && ms->rates[1] == 100 && ms->rates[2] == 80) {
        ms->id = 3;
    } else if (ms->id == 3 && ms->rates[0] == 200 && ms->rates[1] == 200 && ms->rates[2] == 80) {
        ms->id = 4;
    }
}

static void mouse_command(PS2Mouse *ms, uint8_t val)
{
    /* A command interrupts any packet in flight: its response comes next. */
    q_clear(&ms->q);
    switch (val) {
    case 0xFF: /* reset: ACK, BAT passed, ID */
        mouse_defaults(ms);
        ms->id = 0;
        ms->wrap = false;
        ms->dx = ms->dy = ms->dz = 0;
        memset(ms->rates, 0, sizeof(ms->rates));
        q_push(&ms->q, PS2_ACK);
        q_push(&ms->q, PS2_BAT_OK);
        q_push(&ms->q, 0x00);
        break;
    case 0xFE:
        q_push(&ms->q, ms->last_sent);
        break;
    case 0xF6: /* set defaults */
        mouse_defaults(ms);
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xF5: /* disable data reporting */
        ms->reporting = false;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xF4: /* enable data reporting */
        ms->reporting = true;
        ms->dx = ms->dy = ms->dz = 0;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xF3: /* set sample rate */
    case 0xE8: /* set resolution */
        ms->pending = val;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xF2: /* get device ID */
        q_push(&ms->q, PS2_ACK);
        q_push(&ms->q, ms->id);
        break;
    case 0xF0: /* remote mode */
        ms->remote = true;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xEA: /* stream mode */
        ms->remote = false;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xEE: /* wrap (echo) mode */
        ms->wrap = true;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xEC: /* reset wrap mode */
        ms->wrap = false;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xEB: /* read data: one packet even without motion */
        q_push(&ms->q, PS2_ACK);
        mouse_packet(ms);
        break;
    case 0xE9: { /* status request */
        uint8_t s = (uint8_t)((ms->remote ? 0x40 : 0) | (ms->reporting ? 0x20 : 0) |
                              (ms->scaling21 ? 0x10 : 0) | ((ms->buttons & 1) << 2) |
                              ((ms->buttons & 4) >> 1) | ((ms->buttons & 2) >> 1));
        q_push(&ms->q, PS2_ACK);
        q_push(&ms->q, s);
        q_push(&ms->q, ms->resolution);
        q_push(&ms->q, ms->sample_rate);
        break;
    }
    case 0xE7:
        ms->scaling21 = true;
        q_push(&ms->q, PS2_ACK);
        break;
    case 0xE6:
        ms->scaling21 = false;
        q_push(&ms->q, PS2_ACK);
        break;
    default:
        LOG_ONCE(ms->log, LOG_GUEST_ERROR, "ps2-mouse: unknown command 0x%02x\n", val);
        q_push(&ms->q, PS2_RESEND);
        break;
    }
}

void ps2_mouse_write(PS2Mouse *ms, uint8_t val)
{
    uint8_t pending = ms->pending;
    ms->pending = 0;
    if (ms->wrap && val != 0xEC && val != 0xFF) {
        q_push(&ms->q, val); /* wrap mode echoes everything else */
    } else if (pending == 0xF3) {
        mouse_set_rate(ms, val);
        q_push(&ms->q, PS2_ACK);
    } else if (pending == 0xE8) {
        ms->resolution = val & 3;
        q_push(&ms->q, PS2_ACK);
    } else {
        mouse_command(ms, val);
    }
    mouse_notify(ms);
}

int ps2_mouse_read(PS2Mouse *ms)
{
    int v = q_pop(&ms->q);
    if (v >= 0) {
        ms->last_sent = (uint8_t)v;
        if (ms->q.count == 0) {
            mouse_stream(ms);
        }
    }
    return v;
}

bool ps2_mouse_has_data(const PS2Mouse *ms)
{
    return ms->q.count > 0;
}

void ps2_mouse_move(PS2Mouse *ms, int dx, int dy, int dz, unsigned buttons)
{
    /* Accumulators saturate rather than overflow on absurd host input. */
    ms->dx = clamp32((int32_t)clamp32(dx, -65536, 65536) + ms->dx, -65536, 65536);
    ms->dy = clamp32(ms->dy - (int32_t)clamp32(dy, -65536, 65536), -65536, 65536);
    ms->dz = clamp32((int32_t)clamp32(dz, -256, 256) + ms->dz, -256, 256);
    if ((buttons & 0x1F) != ms->buttons) {
        ms->buttons = (uint8_t)(buttons & 0x1F);
        ms->buttons_changed = true;
    }
    mouse_stream(ms);
    mouse_notify(ms);
}

static void ps2_mouse_reset(void *opaque)
{
    PS2Mouse *ms = opaque;
    q_clear(&ms->q);
    mouse_defaults(ms);
    ms->id = 0;
    ms->wrap = false;
    ms->buttons = 0;
    ms->buttons_changed = false;
    ms->dx = ms->dy = ms->dz = 0;
    memset(ms->rates, 0, sizeof(ms->rates));
    ms->last_sent = 0;
}

static int ps2_mouse_post_load(void *opaque)
{
    PS2Mouse *ms = opaque;
    q_sanitize(&ms->q);
    if (ms->id != 0 && ms->id != 3 && ms->id != 4) {
        ms->id = 0;
    }
    ms->dx = clamp32(ms->dx, -65536, 65536);
    ms->dy = clamp32(ms->dy, -65536, 65536);
    ms->dz = clamp32(ms->dz, -256, 256);
    return 0;
}

PS2Mouse *ps2_mouse_new(Machine *m, PS2NotifyFn notify, void *opaque)
{
    PS2Mouse *ms = calloc(1, sizeof(*ms));
    if (!ms) {
        return NULL;
    }
    ms->notify = notify;
    ms->opaque = opaque;
    ms->log = &m->log;
    ps2_mouse_reset(ms);
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "ps2-mouse", &ps2_mouse_vmstate, ms) < 0 ||
        machine_add_reset(m, ps2_mouse_reset, ms) < 0) {
        return NULL;
    }
    return ms;
}

void ps2_mouse_free(PS2Mouse *ms)
{
    free(ms);
}
