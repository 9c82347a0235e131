/* port80.c: the POST code port at 0x80. Writes are kept (reads return the last code, like a
 * POST card's latch) and logged with -d dev:port80. Guests also write here as an I/O delay. */
#include "devices/port80.h"

#include <stdlib.h>

#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

struct Port80 {
    uint8_t code;
    Logger *log;
    int port;
};

static const VMStateField port80_fields[] = {
    VMSTATE_U8(Port80, code),
    VMSTATE_END,
};

static const VMStateDesc port80_vmstate = {
    .name = "port80",
    .version = 1,
    .fields = port80_fields,
};

static uint64_t port80_read(void *opaque, uint64_t addr, unsigned size)
{
    Port80 *p = opaque;
    return p->code;
}

static void port80_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Port80 *p = opaque;
    p->code = (uint8_t)val;
    if (log_dev_enabled(p->log, "port80")) {
        log_msg(p->log, LOG_DEV, "port80: POST code 0x%02x\n", p->code);
    }
}

static const IOOps port80_ops = {
    .read = port80_read,
    .write = port80_write,
    .min_access = 1,
    .max_access = 1,
};

Port80 *port80_new(Machine *m)
{
    Port80 *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->log = &m->log;
    p->port = port_map(&m->io, "port80", 0x80, 1, &port80_ops, p);
    if (p->port < 0) {
        free(p);
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "port80", &port80_vmstate, p) < 0) {
        return NULL;
    }
    return p;
}

void port80_free(Port80 *p)
{
    free(p);
}

uint8_t port80_last(const Port80 *p)
{
    return p->code;
}
