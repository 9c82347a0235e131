/* debugcon.c: the debug console port: every byte written is passed to a character backend
 * (stderr without one); a read returns 0xE9, which is how guests detect the port (Bochs's
 * "port e9 hack"). It holds no state, so its vmstate description is empty. */
#include "devices/debugcon.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/vmstate.h"

struct DebugCon {
    CharBackend *cb;
    int port;
};

static const VMStateField debugcon_fields[] = {
    VMSTATE_END,
};

static const VMStateDesc debugcon_vmstate = {
    .name = "debugcon",
    .version = 1,
    .fields = debugcon_fields,
};

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0xE9;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    DebugCon *d = opaque;
    uint8_t b = (uint8_t)val;
    if (d->cb) {
        chr_write(d->cb, &b, 1);
    } else {
        fputc(b, stderr);
    }
}

static const IOOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .min_access = 1,
    .max_access = 1,
};

DebugCon *debugcon_new(Machine *m, uint16_t port, CharBackend *cb)
{
    DebugCon *d = calloc(1, sizeof(*d));
    if (!d) {
        return NULL;
    }
    d->cb = cb;
    d->port = port_map(&m->io, "debugcon", port, 1, &debugcon_ops, d);
    if (d->port < 0) {
        free(d);
        return NULL;
    }
    char id[32];
    snprintf(id, sizeof(id), "debugcon@%x", port);
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, id, &debugcon_vmstate, d) < 0) {
        return NULL;
    }
    return d;
}

void debugcon_free(DebugCon *d)
{
    free(d);
}
