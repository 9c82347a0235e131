/* fdc.h: the 82077AA floppy disk controller at 0x3F0-0x3F5/0x3F7, IRQ 6, DMA channel 2, with
 * up to two drives whose geometry comes from the image size. */
#ifndef ANYVM_DEVICES_FDC_H
#define ANYVM_DEVICES_FDC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/block.h"
#include "core/irq.h"
#include "core/machine.h"
#include "devices/i8237.h"

#define FDC_BASE 0x3F0
#define FDC_IRQ 6
#define FDC_DMA_CHANNEL 2

/* Registers, offsets from FDC_BASE (82077AA datasheet section 5). */
#define FDC_SRA 0
#define FDC_SRB 1
#define FDC_DOR 2
#define FDC_TDR 3
#define FDC_MSR 4 /* read; DSR on write */
#define FDC_FIFO 5
#define FDC_DIR 7 /* read; CCR on write */

#define FDC_MSR_RQM 0x80
#define FDC_MSR_DIO 0x40
#define FDC_MSR_NDMA 0x20
#define FDC_MSR_CB 0x10

/* FDCGeometry: a medium format the controller recognises by image size. */
typedef struct FDCGeometry {
    uint32_t bytes;
    uint8_t tracks, heads, sectors;
    uint8_t cmos_type; /* CMOS 0x10 drive type: 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M */
} FDCGeometry;

/* fdc_geometry_for_size: the format of an image of `bytes`, or NULL if none fits exactly. */
const FDCGeometry *fdc_geometry_for_size(uint64_t bytes);

typedef struct FDCState FDCState;

/* fdc_new: the controller on m->io with drives 0 and 1 (blk NULL = no medium; the backends
 * stay owned by the caller), interrupting on irq and moving data through dma channel 2.
 * Registers reset and vmstate "fdc". Returns NULL on failure. Free with fdc_free() after
 * machine_free(). */
FDCState *fdc_new(Machine *m, IRQLine *irq, I8237 *dma, BlockBackend *drives[2]);
void fdc_free(FDCState *f);

/* fdc_change_media: insert blk (NULL = eject) in drive n; raises the disk change line.
 * Returns 0, or -EINVAL (bad drive or an image size that is no floppy format). */
int fdc_change_media(FDCState *f, int n, BlockBackend *blk);

/* fdc_cmos_type: the CMOS drive type of drive n (0 = none), for the board's CMOS 0x10. */
uint8_t fdc_cmos_type(const FDCState *f, int n);

#endif
