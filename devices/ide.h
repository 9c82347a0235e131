/* ide.h: the PIIX3 IDE function (PCI 00:01.1, 8086:7010): two legacy ATA channels with ATA
 * disks and ATAPI CD-ROMs, and bus-master DMA (BAR4). */
#ifndef ANYVM_DEVICES_IDE_H
#define ANYVM_DEVICES_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/block.h"
#include "core/irq.h"
#include "core/machine.h"
#include "devices/pci.h"

#define PIIX3_IDE_DEVICE_ID 0x7010
#define PIIX_DEVFN_IDE PCI_DEVFN(1, 1)

/* Legacy (compatibility mode) resources, fixed for the PIIX3 (82371SB section 2.1). */
#define IDE_PRIMARY_BASE 0x1F0
#define IDE_PRIMARY_CTL 0x3F6
#define IDE_PRIMARY_IRQ 14
#define IDE_SECONDARY_BASE 0x170
#define IDE_SECONDARY_CTL 0x376
#define IDE_SECONDARY_IRQ 15

/* Status register bits (ATA/ATAPI-6 section 7.15). */
#define IDE_STAT_ERR 0x01
#define IDE_STAT_DRQ 0x08
#define IDE_STAT_DSC 0x10
#define IDE_STAT_DF 0x20
#define IDE_STAT_DRDY 0x40
#define IDE_STAT_BSY 0x80

/* Error register bits. */
#define IDE_ERR_AMNF 0x01
#define IDE_ERR_ABRT 0x04
#define IDE_ERR_IDNF 0x10
#define IDE_ERR_UNC 0x40

/* Bus-master registers, offsets inside a channel's 8 bytes of BAR4. */
#define IDE_BM_CMD 0
#define IDE_BM_STATUS 2
#define IDE_BM_PRD 4
#define IDE_BM_CMD_START 0x01
#define IDE_BM_CMD_TO_MEMORY 0x08 /* bus master writes memory (a device read) */
#define IDE_BM_STATUS_ACTIVE 0x01
#define IDE_BM_STATUS_ERROR 0x02
#define IDE_BM_STATUS_IRQ 0x04

/* IDEDriveConfig: what sits at one of the four positions (0 primary master, 1 primary slave,
 * 2 secondary master, 3 secondary slave). blk NULL with cdrom true is an empty CD drive. */
typedef struct IDEDriveConfig {
    BlockBackend *blk;
    bool present;
    bool cdrom;
} IDEDriveConfig;

typedef struct IDEState IDEState;

/* ide_new: the IDE function at 00:01.1 on bus with both legacy channels on m->io, raising
 * irq14/irq15 (ISA lines), with drives[0..3]. The block backends stay owned by the caller and
 * must outlive the device. Registers reset and vmstate "ide". Returns NULL on failure (ports
 * or devfn taken). Free with ide_free() after machine_free(). */
IDEState *ide_new(Machine *m, PCIBus *bus, IRQLine *irq14, IRQLine *irq15,
                  const IDEDriveConfig drives[4]);
void ide_free(IDEState *s);

/* ide_cd_change_media: put blk (NULL = eject) into the CD drive at position unit (0..3). The
 * guest sees a medium change: a unit attention and a media event. Returns 0, or -EINVAL when
 * there is no CD drive there, -EBUSY when the guest locked the tray (and force is false). */
int ide_cd_change_media(IDEState *s, int unit, BlockBackend *blk, bool force);

#endif
