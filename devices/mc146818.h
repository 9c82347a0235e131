/* mc146818.h: the Motorola MC146818A real-time clock with 128 bytes of CMOS RAM (ports 0x70 and
 * 0x71), the NMI mask bit of port 0x70, and the PC's CMOS layout helpers. */
#ifndef ANYVM_DEVICES_MC146818_H
#define ANYVM_DEVICES_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"

typedef struct MC146818 MC146818;

/* Start time for mc146818_new: the host's current UTC time, except on a deterministic
 * (-icount) machine, which starts at MC146818_DETERMINISTIC_EPOCH. */
#define MC146818_START_HOST (-1)
#define MC146818_DETERMINISTIC_EPOCH 946684800 /* 2000-01-01 00:00:00 UTC */

/* PC CMOS offsets the board and firmware agree on. */
enum {
    CMOS_EQUIPMENT = 0x14,
    CMOS_BASE_MEM_LO = 0x15,
    CMOS_BASE_MEM_HI = 0x16, /* KiB below 1 MiB */
    CMOS_EXT_MEM_LO = 0x17,
    CMOS_EXT_MEM_HI = 0x18, /* KiB above 1 MiB, capped */
    CMOS_CHECKSUM_HI = 0x2E,
    CMOS_CHECKSUM_LO = 0x2F, /* sum of 0x10..0x2D */
    CMOS_EXT_MEM2_LO = 0x30,
    CMOS_EXT_MEM2_HI = 0x31, /* copy of 0x17/0x18 */
    CMOS_CENTURY = 0x32,
    CMOS_MEM_16M_LO = 0x34,
    CMOS_MEM_16M_HI = 0x35, /* 64 KiB blocks above 16 MiB */
};

/* mc146818_new: create the RTC with its IRQ output on irq8 (may be NULL), map ports 0x70-0x71,
 * register vmstate "rtc" and a reset handler. start_unix is the wall-clock time (seconds since
 * 1970, UTC) at virtual time now, or MC146818_START_HOST; the clock then advances with virtual
 * time. Returns NULL on failure; the caller owns the result (mc146818_free, after the machine). */
MC146818 *mc146818_new(Machine *m, IRQLine *irq8, int64_t start_unix);

/* mc146818_free: release the RTC. NULL is fine. */
void mc146818_free(MC146818 *rtc);

/* mc146818_nmi_masked: bit 7 of the last write to port 0x70 (NMI disabled). */
bool mc146818_nmi_masked(const MC146818 *rtc);

/* mc146818_cmos_get / mc146818_cmos_set: CMOS RAM bytes for the board (idx & 0x7F). Setting a
 * clock register this way bypasses the chip's logic; use it for RAM bytes 0x0E-0x7F. */
uint8_t mc146818_cmos_get(const MC146818 *rtc, unsigned idx);
void mc146818_cmos_set(MC146818 *rtc, unsigned idx, uint8_t val);

/* mc146818_setup_pc: fill the standard PC CMOS bytes: equipment byte, base memory (640 KiB),
 * extended memory (0x17/0x18 and 0x30/0x31) and memory above 16 MiB (0x34/0x35) from ram_size,
 * then the checksum at 0x2E/0x2F. The century byte (0x32, BCD) is set from the start time by
 * mc146818_new; like the real chip, the RTC itself never changes it. */
void mc146818_setup_pc(MC146818 *rtc, uint64_t ram_size, uint8_t equipment);

/* mc146818_update_checksum: recompute 0x2E/0x2F after changing bytes 0x10-0x2D. */
void mc146818_update_checksum(MC146818 *rtc);

#endif
