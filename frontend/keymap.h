/* keymap.h: host key identities (USB HID usages, which SDL scancodes are; QEMU key names) to
 * PS/2 scancode set 2, and sending a key to an InputSink. */
#ifndef ANYVM_FRONTEND_KEYMAP_H
#define ANYVM_FRONTEND_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/display.h"

#define KEYMAP_PRINT 0xE07C /* Print Screen: sent as E0 12 E0 7C (fake shift first) */

/* keymap_hid_to_set2: the set 2 code (0xE0xx for E0 keys, PS2_KEY_PAUSE value 0xE114 for
 * Pause) of a USB HID keyboard usage / SDL_Scancode, or 0 when the key has none. */
uint16_t keymap_hid_to_set2(int usage);

/* keymap_name_to_set2: the set 2 code of a QEMU key name ("a", "ret", "ctrl_r", "f12",
 * "kp_enter"...), or of a number given as "0x1c"; 0 when unknown. */
uint16_t keymap_name_to_set2(const char *name);

/* keymap_send: press or release one key on sink (Print Screen's fake shift included). */
void keymap_send(const InputSink *sink, uint16_t set2, bool down);

#endif
