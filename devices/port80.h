/* port80.h: the POST code port (0x80): firmware progress codes, logged under dev:port80. */
#ifndef ANYVM_DEVICES_PORT80_H
#define ANYVM_DEVICES_PORT80_H

#include <stdint.h>

#include "core/machine.h"

typedef struct Port80 Port80;

/* port80_new: map port 0x80 and register vmstate "port80". Returns NULL on failure; the caller
 * owns the result (port80_free, after the machine). */
Port80 *port80_new(Machine *m);

/* port80_free: release the port. NULL is fine. */
void port80_free(Port80 *p);

/* port80_last: the last POST code written (0 before any). */
uint8_t port80_last(const Port80 *p);

#endif
