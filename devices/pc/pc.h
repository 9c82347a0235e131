/* pc.h: the PC board: wires the CPU, chipset and peripherals of an i440FX/PIIX PC together. */
#ifndef ANYVM_DEVICES_PC_PC_H
#define ANYVM_DEVICES_PC_PC_H

#include <stddef.h>

#include "core/machine.h"

typedef struct PCBoard PCBoard;
typedef struct VGAState VGAState;

/* pc_board_new: build the PC on m from m->cfg: RAM map, CPU (attached as m's CPU), 8259 pair,
 * 8254, RTC/CMOS, 8042 with PS/2, COM1/COM2 on m->serial_chr[0..1], ports 0x80/0x92/0xE9,
 * the FPU error latch (IRQ 13, port 0xF0), the debug-exit port if configured, PCI with the
 * i440FX and PIIX3/PIIX4 functions, ACPI tables, and, with cfg.kernel, the direct kernel boot
 * (done again on every system reset, as firmware would). Returns NULL with a one-line message
 * in err on failure. Free with pc_board_free() after machine_free(). */
PCBoard *pc_board_new(Machine *m, char *err, size_t errlen);

/* pc_board_free: release the devices (the CPU goes with machine_free). NULL is fine. */
void pc_board_free(PCBoard *b);

/* pc_board_vga: the board's VGA adapter (for tests). */
VGAState *pc_board_vga(PCBoard *b);

#endif
