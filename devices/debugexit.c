/* debugexit.c: the debug-exit port for test guests, with QEMU's isa-debug-exit semantics: any
 * write of value v (1, 2 or 4 bytes) requests shutdown with exit status (v << 1) | 1, so a
 * guest can never produce status 0 by accident. Reads return all-ones (no read handler). */
#include "devices/debugexit.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

struct DebugExit {
    Machine *m;
    int port;
};

static const VMStateField debugexit_fields[] = {
    VMSTATE_END,
};

static const VMStateDesc debugexit_vmstate = {
    .name = "debugexit",
    .version = 1,
    .fields = debugexit_fields,
};

static void debugexit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    DebugExit *d = opaque;
    int status = (int)(((uint32_t)val << 1) | 1);
    if (log_dev_enabled(&d->m->log, "debugexit")) {
        log_msg(&d->m->log, LOG_DEV, "debugexit: write 0x%x, exit status %d\n", (unsigned)val,
                status);
    }
    machine_request_shutdown(d->m, SHUTDOWN_DEBUG_EXIT, status);
}

static const IOOps debugexit_ops = {
    .read = NULL,
    .write = debugexit_write,
    .min_access = 1,
    .max_access = 4,
};

DebugExit *debugexit_new(Machine *m, uint16_t iobase, uint16_t iosize)
{
    DebugExit *d = calloc(1, sizeof(*d));
    if (!d) {
        return NULL;
    }
    d->m = m;
    if (iosize == 0) {
        iosize = 1;
    }
    d->port = port_map(&m->io, "debugexit", iobase, iosize, &debugexit_ops, d);
    if (d->port < 0) {
        free(d);
        return NULL;
    }
    char id[32];
    snprintf(id, sizeof(id), "debugexit@%x", iobase);
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, id, &debugexit_vmstate, d) < 0) {
        return NULL;
    }
    return d;
}

void debugexit_free(DebugExit *d)
{
    free(d);
}
