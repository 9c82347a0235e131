/* i8042.c: the 8042 keyboard controller (IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard and Auxiliary Device Controller"): status register, command byte, controller
 * commands, output port (reset line and A20 gate), set 2 -> set 1 translation, IRQ1/IRQ12.
 *
 * Commands and data are processed as soon as they are written, so the input buffer is never
 * seen full. The output buffer holds one byte; when the guest reads it, the next byte comes
 * from the controller's own responses, then the keyboard, then the mouse.
 */
#include "devices/i8042.h"

#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

enum {
    ST_OBF = 0x01,
    ST_IBF = 0x02,
    ST_SYS = 0x04,
    ST_CMD = 0x08,
    ST_UNLOCKED = 0x10,
    ST_AUXB = 0x20,
    ST_TIMEOUT = 0x40,
    ST_PARITY = 0x80,
};

enum {
    CB_KBD_INT = 0x01,
    CB_AUX_INT = 0x02,
    CB_SYS = 0x04,
    CB_KBD_DISABLE = 0x10,
    CB_AUX_DISABLE = 0x20,
    CB_XLAT = 0x40,
};

enum {
    OP_RESET_N = 0x01,
    OP_A20 = 0x02,
    OP_KBD_OBF = 0x10,
    OP_AUX_OBF = 0x20,
};

enum { SRC_KBD = 1, SRC_AUX = 2 };

#define KBC_RESP_SIZE 8

struct I8042 {
    uint8_t status;
    uint8_t ram[32]; /* ram[0] is the command byte */
    uint8_t outport;
    uint8_t pending; /* controller command waiting for its data byte, 0 = none */
    uint8_t obuf;
    uint8_t obuf_src;
    bool xlat_break;             /* a set 2 break prefix (F0) was swallowed by translation */
    uint8_t resp[KBC_RESP_SIZE]; /* controller responses waiting for the output buffer */
    uint8_t resp_src[KBC_RESP_SIZE];
    uint8_t resp_n;
    uint8_t irq1_level, irq12_level;
    PS2Kbd *kbd;
    PS2Mouse *mouse;
    IRQLine *irq1, *irq12;
    I8042Hooks hooks;
    Machine *m;
    Logger *log;
    int ports[2];
};

static const VMStateField kbc_fields[] = {
    VMSTATE_U8(I8042, status),
    VMSTATE_BUFFER(I8042, ram),
    VMSTATE_U8(I8042, outport),
    VMSTATE_U8(I8042, pending),
    VMSTATE_U8(I8042, obuf),
    VMSTATE_U8(I8042, obuf_src),
    VMSTATE_BOOL(I8042, xlat_break),
    VMSTATE_BUFFER(I8042, resp),
    VMSTATE_BUFFER(I8042, resp_src),
    VMSTATE_U8(I8042, resp_n),
    VMSTATE_U8(I8042, irq1_level),
    VMSTATE_U8(I8042, irq12_level),
    VMSTATE_END,
};

static int kbc_post_load(void *opaque);

static const VMStateDesc kbc_vmstate = {
    .name = "i8042",
    .version = 1,
    .fields = kbc_fields,
    .post_load = kbc_post_load,
};

static void kbc_update_irq(I8042 *k)
{
    uint8_t cb = k->ram[0];
    bool full = k->status & ST_OBF;
    uint8_t l1 = full && k->obuf_src == SRC_KBD && (cb & CB_KBD_INT);
    uint8_t l12 = full && k->obuf_src == SRC_AUX && (cb & CB_AUX_INT);
    if (l1 != k->irq1_level) {
        k->irq1_level = l1;
        irq_set(k->irq1, l1);
    }
    if (l12 != k->irq12_level) {
        k->irq12_level = l12;
        irq_set(k->irq12, l12);
    }
}

static void kbc_fill(I8042 *k, uint8_t val, uint8_t src)
{
    k->obuf = val;
    k->obuf_src = src;
    k->status |= ST_OBF;
    if (src == SRC_AUX) {
        k->status |= ST_AUXB;
    } else {
        k->status &= ~ST_AUXB;
    }
}

/* Move the next waiting byte into an empty output buffer. */
static void kbc_refill(I8042 *k)
{
    if (!(k->status & ST_OBF)) {
        if (k->resp_n) {
            uint8_t v = k->resp[0];
            uint8_t src = k->resp_src[0];
            k->resp_n--;
            memmove(k->resp, k->resp + 1, k->resp_n);
            memmove(k->resp_src, k->resp_src + 1, k->resp_n);
            kbc_fill(k, v, src);
        } else if (!(k->ram[0] & CB_KBD_DISABLE) && ps2_kbd_has_data(k->kbd)) {
            /* With XLAT the controller swallows F0 and sets bit 7 of the next code. */
            for (int guard = 0; guard < 256; guard++) {
                int v = ps2_kbd_read(k->kbd);
                if (v < 0) {
                    break;
                }
                if (!(k->ram[0] & CB_XLAT)) {
                    kbc_fill(k, (uint8_t)v, SRC_KBD);
                    break;
                }
                if (v == 0xF0) {
                    k->xlat_break = true;
                    continue;
                }
                uint8_t t = ps2_set2_to_set1((uint8_t)v);
                if (k->xlat_break) {
                    t |= 0x80;
                    k->xlat_break = false;
                }
                kbc_fill(k, t, SRC_KBD);
                break;
            }
        }
        if (!(k->status & ST_OBF) && !(k->ram[0] & CB_AUX_DISABLE) &&
            ps2_mouse_has_data(k->mouse)) {
            int v = ps2_mouse_read(k->mouse);
            if (v >= 0) {
                kbc_fill(k, (uint8_t)v, SRC_AUX);
            }
        }
    }
    kbc_update_irq(k);
}

static void kbc_notify(void *opaque)
{
    kbc_refill(opaque);
}

/* Queue a controller response (command results and 0xD2/0xD3 echoes). */
static void kbc_respond(I8042 *k, uint8_t val, uint8_t src)
{
    if (k->resp_n >= KBC_RESP_SIZE) {
        LOG_ONCE(k->log, LOG_GUEST_ERROR, "i8042: response overflow, byte dropped\n");
        return;
    }
    k->resp[k->resp_n] = val;
    k->resp_src[k->resp_n] = src;
    k->resp_n++;
    kbc_refill(k);
}

static void kbc_do_reset(I8042 *k)
{
    if (k->hooks.reset) {
        k->hooks.reset(k->hooks.opaque);
    } else {
        machine_request_reset(k->m, SHUTDOWN_GUEST_RESET);
    }
}

static void kbc_write_outport(I8042 *k, uint8_t val)
{
    uint8_t old = k->outport;
    k->outport = val;
    if ((old ^ val) & OP_A20) {
        if (k->hooks.set_a20) {
            k->hooks.set_a20(k->hooks.opaque, (val & OP_A20) != 0);
        }
    }
    /* Bit 0 drives the system reset line, active low. */
    if (!(val & OP_RESET_N)) {
        kbc_do_reset(k);
    }
}

static void kbc_write_cmdbyte(I8042 *k, uint8_t val)
{
    k->ram[0] = val;
    /* The command byte's system flag is the status register's SYS bit. */
    if (val & CB_SYS) {
        k->status |= ST_SYS;
    } else {
        k->status &= ~ST_SYS;
    }
    kbc_refill(k);
}

static void kbc_command(I8042 *k, uint8_t cmd)
{
    if (log_dev_enabled(k->log, "i8042")) {
        log_msg(k->log, LOG_DEV, "i8042: command 0x%02x\n", cmd);
    }
    if (cmd >= 0x20 && cmd <= 0x3F) {
        kbc_respond(k, k->ram[cmd & 0x1F], SRC_KBD);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        k->pending = cmd;
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse output port bits 0-3 that are 0 in the command (about 6 us); bit 0 is the
         * reset line. */
        if (!(cmd & 0x01)) {
            kbc_do_reset(k);
        }
        return;
    }
    switch (cmd) {
    case 0xA4: /* password installed? no */
        kbc_respond(k, 0xF1, SRC_KBD);
        break;
    case 0xA7:
        kbc_write_cmdbyte(k, k->ram[0] | CB_AUX_DISABLE);
        break;
    case 0xA8:
        kbc_write_cmdbyte(k, k->ram[0] & ~CB_AUX_DISABLE);
        break;
    case 0xA9: /* auxiliary interface test: no error */
    case 0xAB: /* keyboard interface test: no error */
        kbc_respond(k, 0x00, SRC_KBD);
        break;
    case 0xAA: /* self test passed; the system flag is set after a successful self test */
        k->status |= ST_SYS;
        k->ram[0] |= CB_SYS;
        kbc_respond(k, 0x55, SRC_KBD);
        break;
    case 0xAD:
        kbc_write_cmdbyte(k, k->ram[0] | CB_KBD_DISABLE);
        break;
    case 0xAE:
        kbc_write_cmdbyte(k, k->ram[0] & ~CB_KBD_DISABLE);
        break;
    case 0xC0: /* input port: keyboard not inhibited */
        kbc_respond(k, 0x80, SRC_KBD);
        break;
    case 0xD0: { /* output port, with bits 4/5 showing the output buffer interrupts */
        uint8_t v =
            (uint8_t)((k->outport & ~(OP_KBD_OBF | OP_AUX_OBF)) |
                      (k->irq1_level ? OP_KBD_OBF : 0) | (k->irq12_level ? OP_AUX_OBF : 0));
        kbc_respond(k, v, SRC_KBD);
        break;
    }
    case 0xDD: /* A20 off (an extension several controllers have) */
        kbc_write_outport(k, k->outport & ~OP_A20);
        break;
    case 0xDF: /* A20 on */
        kbc_write_outport(k, k->outport | OP_A20);
        break;
    case 0xE0: /* test inputs: clock and data low */
        kbc_respond(k, 0x00, SRC_KBD);
        break;
    default:
        LOG_ONCE(k->log, LOG_UNIMP, "i8042: controller command 0x%02x unimplemented\n", cmd);
        break;
    }
}

static void kbc_data(I8042 *k, uint8_t val)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        if (cmd == 0x60) {
            kbc_write_cmdbyte(k, val);
        } else {
            k->ram[cmd & 0x1F] = val;
        }
        return;
    }
    switch (cmd) {
    case 0xD1:
        kbc_write_outport(k, val);
        break;
    case 0xD2: /* as if the keyboard sent it */
        kbc_respond(k, val, SRC_KBD);
        break;
    case 0xD3: /* as if the mouse sent it */
        kbc_respond(k, val, SRC_AUX);
        break;
    case 0xD4:
        ps2_mouse_write(k->mouse, val);
        break;
    default:
        ps2_kbd_write(k->kbd, val);
        break;
    }
}

static uint64_t kbc_data_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042 *k = opaque;
    /* Reading the data port empties the output buffer (an empty one reads the stale byte). */
    uint8_t v = k->obuf;
    k->status &= ~(ST_OBF | ST_AUXB);
    kbc_update_irq(k);
    kbc_refill(k);
    return v;
}

static void kbc_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8042 *k = opaque;
    k->status &= ~ST_CMD;
    kbc_data(k, (uint8_t)val);
}

static uint64_t kbc_status_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042 *k = opaque;
    return k->status;
}

static void kbc_cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8042 *k = opaque;
    k->status |= ST_CMD;
    kbc_command(k, (uint8_t)val);
}

static const IOOps kbc_data_ops = {
    .read = kbc_data_read,
    .write = kbc_data_write,
    .min_access = 1,
    .max_access = 1,
};

static const IOOps kbc_cmd_ops = {
    .read = kbc_status_read,
    .write = kbc_cmd_write,
    .min_access = 1,
    .max_access = 1,
};

static void kbc_reset(void *opaque)
{
    I8042 *k = opaque;
    k->status = ST_UNLOCKED;
    memset(k->ram, 0, sizeof(k->ram));
    /* Interrupts on, translation on: what a PC BIOS leaves and what the status SYS bit will
     * reflect once the firmware sets it. */
    k->ram[0] = CB_KBD_INT | CB_AUX_INT | CB_XLAT;
    uint8_t old = k->outport;
    k->outport = 0xCF; /* reset line high, A20 on, clock/data lines idle */
    if ((old ^ k->outport) & OP_A20 && k->hooks.set_a20) {
        k->hooks.set_a20(k->hooks.opaque, 1);
    }
    k->pending = 0;
    k->obuf = 0;
    k->obuf_src = 0;
    k->xlat_break = false;
    k->resp_n = 0;
    kbc_update_irq(k);
}

static int kbc_post_load(void *opaque)
{
    I8042 *k = opaque;
    if (k->resp_n > KBC_RESP_SIZE) {
        k->resp_n = KBC_RESP_SIZE;
    }
    uint8_t l1 = k->irq1_level, l12 = k->irq12_level;
    k->irq1_level = !l1;
    k->irq12_level = !l12;
    kbc_update_irq(k);
    return 0;
}

I8042 *i8042_new(Machine *m, IRQLine *irq1, IRQLine *irq12, const I8042Hooks *hooks)
{
    I8042 *k = calloc(1, sizeof(*k));
    if (!k) {
        return NULL;
    }
    k->m = m;
    k->log = &m->log;
    k->irq1 = irq1;
    k->irq12 = irq12;
    if (hooks) {
        k->hooks = *hooks;
    }
    k->kbd = ps2_kbd_new(m, kbc_notify, k);
    k->mouse = ps2_mouse_new(m, kbc_notify, k);
    if (!k->kbd || !k->mouse) {
        return NULL; /* registered parts stay allocated, see below */
    }
    k->outport = 0xCF;
    k->irq1_level = k->irq12_level = 1; /* so reset drives both lines low once */
    kbc_reset(k);
    k->ports[0] = port_map(&m->io, "i8042-data", 0x60, 1, &kbc_data_ops, k);
    k->ports[1] = port_map(&m->io, "i8042-cmd", 0x64, 1, &kbc_cmd_ops, k);
    if (k->ports[0] < 0 || k->ports[1] < 0) {
        LOG_ONCE(k->log, LOG_GUEST_ERROR, "i8042: ports 0x60/0x64 busy\n");
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "i8042", &kbc_vmstate, k) < 0 ||
        machine_add_reset(m, kbc_reset, k) < 0) {
        return NULL;
    }
    return k;
}

void i8042_free(I8042 *k)
{
    if (!k) {
        return;
    }
    ps2_kbd_free(k->kbd);
    ps2_mouse_free(k->mouse);
    free(k);
}

PS2Kbd *i8042_kbd(I8042 *k)
{
    return k->kbd;
}

PS2Mouse *i8042_mouse(I8042 *k)
{
    return k->mouse;
}

int i8042_a20(const I8042 *k)
{
    return (k->outport & OP_A20) != 0;
}
