/* debugexit.h: QEMU's isa-debug-exit: a guest write ends the emulator with a chosen status. */
#ifndef ANYVM_DEVICES_DEBUGEXIT_H
#define ANYVM_DEVICES_DEBUGEXIT_H

#include <stdint.h>

#include "core/machine.h"

typedef struct DebugExit DebugExit;

/* debugexit_new: map ports [iobase, iobase+iosize) (QEMU's defaults: 0x501, 2). A write of
 * value v shuts the machine down with exit status (v << 1) | 1 (SHUTDOWN_DEBUG_EXIT). Returns
 * NULL on failure; the caller owns the result (debugexit_free, after the machine). */
DebugExit *debugexit_new(Machine *m, uint16_t iobase, uint16_t iosize);

/* debugexit_free: release the device. NULL is fine. */
void debugexit_free(DebugExit *d);

#endif
