/* i8237.h: the two 8237A DMA controllers of a PC (channels 0-3 byte-wide at ports 0x00-0x0F,
 * channels 4-7 word-wide at 0xC0-0xDF) and their page registers (0x81-0x8F). */
#ifndef ANYVM_DEVICES_I8237_H
#define ANYVM_DEVICES_I8237_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

typedef struct I8237 I8237;

/* i8237_new: both controllers on m->io and m->mem. Port 0x80 stays with the POST-code device
 * (its page register is unused on a PC). Registers reset and vmstate "dma". NULL on failure.
 * Free with i8237_free() after machine_free(). */
I8237 *i8237_new(Machine *m);
void i8237_free(I8237 *d);

/* i8237_channel_ready: channel ch (0..7) is unmasked, so a device's DREQ would be served. */
bool i8237_channel_ready(const I8237 *d, int ch);

/* i8237_write_memory / i8237_read_memory: a device on channel ch moves up to len bytes into
 * (write) or out of (read) guest memory at the channel's programmed address, as far as the
 * count allows. Returns the bytes moved (0 when masked or the mode is the other direction;
 * a verify-mode channel counts without touching memory). *tc (may be NULL) says whether the
 * terminal count was reached (then the channel masks itself unless in autoinitialize mode). */
size_t i8237_write_memory(I8237 *d, int ch, const uint8_t *buf, size_t len, bool *tc);
size_t i8237_read_memory(I8237 *d, int ch, uint8_t *buf, size_t len, bool *tc);

#endif
