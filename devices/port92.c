/* port92.c: system control port A at 0x92 (Intel PIIX3 datasheet, "Port 92h"): bit 0 is the
 * fast reset (INIT on a 0 to 1 transition), bit 1 the fast A20 gate. The board ORs this A20
 * gate with the 8042's. */
#include "devices/port92.h"

#include <stdlib.h>

#include "core/ioport.h"
#include "core/vmstate.h"

enum { P92_RESET = 0x01, P92_A20 = 0x02 };

struct Port92 {
    uint8_t val;
    Port92Hooks hooks;
    Machine *m;
    int port;
};

static const VMStateField port92_fields[] = {
    VMSTATE_U8(Port92, val),
    VMSTATE_END,
};

static const VMStateDesc port92_vmstate = {
    .name = "port92",
    .version = 1,
    .fields = port92_fields,
};

static void port92_set(Port92 *p, uint8_t val)
{
    uint8_t old = p->val;
    p->val = val;
    if (((old ^ val) & P92_A20) && p->hooks.set_a20) {
        p->hooks.set_a20(p->hooks.opaque, (val & P92_A20) != 0);
    }
    if (!(old & P92_RESET) && (val & P92_RESET)) {
        if (p->hooks.reset) {
            p->hooks.reset(p->hooks.opaque);
        } else {
            machine_request_reset(p->m, SHUTDOWN_GUEST_RESET);
        }
    }
}

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    Port92 *p = opaque;
    return p->val;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    port92_set(opaque, (uint8_t)val);
}

static const IOOps port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .min_access = 1,
    .max_access = 1,
};

static void port92_reset(void *opaque)
{
    Port92 *p = opaque;
    /* Reset clears the register; the reset bit must not retrigger. */
    p->val &= ~P92_RESET;
    port92_set(p, 0);
}

Port92 *port92_new(Machine *m, const Port92Hooks *hooks)
{
    Port92 *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->m = m;
    if (hooks) {
        p->hooks = *hooks;
    }
    p->port = port_map(&m->io, "port92", 0x92, 1, &port92_ops, p);
    if (p->port < 0) {
        free(p);
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "port92", &port92_vmstate, p) < 0 ||
        machine_add_reset(m, port92_reset, p) < 0) {
        return NULL;
    }
    return p;
}

void port92_free(Port92 *p)
{
    free(p);
}

int port92_a20(const Port92 *p)
{
    return (p->val & P92_A20) != 0;
}
