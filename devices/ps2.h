/* ps2.h: PS/2 keyboard (MF2, scancode set 2) and mouse (with IntelliMouse wheel) devices, as
 * seen from the keyboard controller's side of their serial links and from the host's input. */
#ifndef ANYVM_DEVICES_PS2_H
#define ANYVM_DEVICES_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "core/machine.h"

typedef struct PS2Kbd PS2Kbd;
typedef struct PS2Mouse PS2Mouse;

/* PS2NotifyFn: the device queued bytes for the controller. */
typedef void (*PS2NotifyFn)(void *opaque);

/* Key codes for ps2_kbd_key: the set 2 make code, 0xE0xx for E0-prefixed keys. */
#define PS2_KEY_PAUSE 0xE114 /* Pause: sends its E1 sequence on press, nothing on release */

/* Mouse buttons for ps2_mouse_move. */
enum {
    PS2_BUTTON_LEFT = 1,
    PS2_BUTTON_RIGHT = 2,
    PS2_BUTTON_MIDDLE = 4,
    PS2_BUTTON_4 = 8,
    PS2_BUTTON_5 = 16,
};

/* ps2_kbd_new / ps2_mouse_new: a device that calls notify(opaque) when it has bytes; registers
 * vmstate ("ps2-kbd"/"ps2-mouse") and a reset handler on m. NULL on failure. The caller owns
 * the result (free after the machine). */
PS2Kbd *ps2_kbd_new(Machine *m, PS2NotifyFn notify, void *opaque);
PS2Mouse *ps2_mouse_new(Machine *m, PS2NotifyFn notify, void *opaque);
void ps2_kbd_free(PS2Kbd *kbd);
void ps2_mouse_free(PS2Mouse *mouse);

/* ps2_kbd_write / ps2_mouse_write: a byte from the controller (a command or its argument). */
void ps2_kbd_write(PS2Kbd *kbd, uint8_t val);
void ps2_mouse_write(PS2Mouse *mouse, uint8_t val);

/* ps2_kbd_read / ps2_mouse_read: take the next byte for the controller; -1 when none. */
int ps2_kbd_read(PS2Kbd *kbd);
int ps2_mouse_read(PS2Mouse *mouse);

/* ps2_kbd_has_data / ps2_mouse_has_data: whether a byte is waiting. */
bool ps2_kbd_has_data(const PS2Kbd *kbd);
bool ps2_mouse_has_data(const PS2Mouse *mouse);

/* ps2_kbd_key: the host pressed (down) or released a key, given as its set 2 code (see above).
 * Dropped while scanning is disabled; an overflowing buffer reports an overrun code. */
void ps2_kbd_key(PS2Kbd *kbd, uint16_t set2_code, bool down);

/* ps2_kbd_leds: the LED state the guest set with 0xED (bit 0 scroll, 1 num, 2 caps lock). */
uint8_t ps2_kbd_leds(const PS2Kbd *kbd);

/* ps2_mouse_move: relative motion and the buttons now held. dx > 0 is right, dy > 0 is down
 * (screen convention; PS/2 reports up as positive, the device converts), dz > 0 is the wheel
 * turned towards the user. buttons is a PS2_BUTTON_* mask. */
void ps2_mouse_move(PS2Mouse *mouse, int dx, int dy, int dz, unsigned buttons);

/* ps2_set2_to_set1: the 8042's translation of one set 2 byte to set 1 (without the break
 * prefix handling, which the caller does: F0 xx becomes set1(xx) | 0x80). */
uint8_t ps2_set2_to_set1(uint8_t code);

#endif
