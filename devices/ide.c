/* ide.c: PIIX3 IDE: ATA disks and ATAPI CD-ROMs on two legacy channels, PIO and bus-master
 * DMA.
 *
 * Commands complete synchronously: the task file is written, the command runs against the
 * BlockBackend at once and the status shows the result (DRQ for a data phase). The protocols
 * are those of ATA/ATAPI-6 (PIO data-in/out, DMA, PACKET) and the bus-master interface of the
 * 82371SB datasheet (section 2.7, "Bus Master IDE Function"). Example, a PIO read of one
 * sector at LBA 5 on the primary master:
 *     out 0x1F6, 0xE0     ; LBA mode, master
 *     out 0x1F2, 1        ; count
 *     out 0x1F3, 5        ; LBA 7:0 (0x1F4/0x1F5 = 15:8, 23:16)
 *     out 0x1F7, 0x20     ; READ SECTORS -> status DRQ, IRQ 14
 *     in  0x1F7           ; clears the interrupt
 *     256 x in 0x1F0      ; the data; status becomes DRDY
 */
#include "devices/ide.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/memmap.h"
#include "core/vmstate.h"

#define IDE_BUF_SIZE (128 * 1024) /* the largest DRQ block: 256 sectors of MULTIPLE */
#define IDE_MAX_MULT 16           /* sectors per block of READ/WRITE MULTIPLE */
#define CD_BLOCK 2048u
#define PRD_MAX_ENTRIES 8192 /* a PRD table never crosses 64 KiB: 8192 entries */

/* What the data port is doing. */
enum {
    XFER_NONE,
    XFER_PIO_IN,    /* ATA read: buffer -> host, then the next block */
    XFER_PIO_OUT,   /* ATA write: host -> buffer, then to the disk */
    XFER_PACKET,    /* ATAPI: waiting for the 12 command bytes */
    XFER_ATAPI_IN,  /* ATAPI data-in */
    XFER_DMA,       /* ATA DMA command waiting for the bus master */
    XFER_ATAPI_DMA, /* ATAPI data-in waiting for the bus master */
    XFER_INFO,      /* IDENTIFY etc.: one buffer, no disk behind it */
};

/* SCSI sense keys and additional sense codes (SPC/MMC). */
#define SENSE_NONE 0
#define SENSE_NOT_READY 2
#define SENSE_ILLEGAL_REQUEST 5
#define SENSE_UNIT_ATTENTION 6
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT 0x3A
#define ASC_REMOVAL_PREVENTED 0x53

typedef struct IDEDrive {
    bool present;
    bool atapi;
    uint64_t sectors;                       /* ATA: 512-byte sectors */
    uint16_t cyls, heads, secs;             /* default geometry */
    uint16_t cur_cyls, cur_heads, cur_secs; /* INITIALIZE DEVICE PARAMETERS */
    uint8_t mult;                           /* sectors per MULTIPLE block, 0 = disabled */
    uint8_t xfer_mode;                      /* SET FEATURES 03h value */
    bool wcache;
    /* ATAPI */
    uint8_t sense_key, asc, ascq;
    bool unit_attention;
    bool tray_open;
    bool locked;
    uint8_t media_event; /* GET EVENT STATUS: 0 none, 2 new media, 3 removal */
} IDEDrive;

typedef struct IDEChannel {
    IDEState *s;
    int index;
    IRQLine *irq;
    IDEDrive drive[2];
    BlockBackend *blk[2]; /* not saved: the frontend re-attaches the media */
    uint8_t unit;
    /* Task file; hob_* are the previous values (the "high order bytes" of LBA48). */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select, status, error, devctl, cmd;
    bool irq_pending;
    bool lba48;
    /* Transfer state. */
    uint8_t xfer;
    bool dma_write; /* XFER_DMA: a write command */
    uint64_t lba;
    uint32_t remaining;         /* sectors (ATA) still to move after the buffer */
    uint32_t block;             /* sectors per DRQ block */
    uint32_t pos, end;          /* data port position in buf */
    uint32_t cd_lba, cd_blocks; /* ATAPI READ: next block, blocks left to load */
    uint32_t atapi_left;        /* ATAPI bytes still to transfer in total */
    uint32_t chunk_left;        /* ATAPI bytes left in this DRQ chunk */
    uint16_t byte_limit;
    uint8_t packet[12];
    /* Bus master. */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
    uint8_t buf[IDE_BUF_SIZE];
} IDEChannel;

struct IDEState {
    Machine *m;
    PCIDevice pci;
    IDEChannel ch[2];
    int handles[4];
};

static const VMStateField ide_drive_fields[] = {
    VMSTATE_BOOL(IDEDrive, present),
    VMSTATE_BOOL(IDEDrive, atapi),
    VMSTATE_U64(IDEDrive, sectors),
    VMSTATE_U16(IDEDrive, cur_cyls),
    VMSTATE_U16(IDEDrive, cur_heads),
    VMSTATE_U16(IDEDrive, cur_secs),
    VMSTATE_U8(IDEDrive, mult),
    VMSTATE_U8(IDEDrive, xfer_mode),
    VMSTATE_BOOL(IDEDrive, wcache),
    VMSTATE_U8(IDEDrive, sense_key),
    VMSTATE_U8(IDEDrive, asc),
    VMSTATE_U8(IDEDrive, ascq),
    VMSTATE_BOOL(IDEDrive, unit_attention),
    VMSTATE_BOOL(IDEDrive, tray_open),
    VMSTATE_BOOL(IDEDrive, locked),
    VMSTATE_U8(IDEDrive, media_event),
    VMSTATE_END,
};

static const VMStateDesc ide_drive_vmstate = {
    .name = "ide-drive",
    .version = 1,
    .fields = ide_drive_fields,
};

static const VMStateField ide_channel_fields[] = {
    VMSTATE_STRUCT_ARRAY(IDEChannel, drive, 2, ide_drive_vmstate, IDEDrive),
    VMSTATE_U8(IDEChannel, unit),
    VMSTATE_U8(IDEChannel, feature),
    VMSTATE_U8(IDEChannel, nsector),
    VMSTATE_U8(IDEChannel, sector),
    VMSTATE_U8(IDEChannel, lcyl),
    VMSTATE_U8(IDEChannel, hcyl),
    VMSTATE_U8(IDEChannel, hob_feature),
    VMSTATE_U8(IDEChannel, hob_nsector),
    VMSTATE_U8(IDEChannel, hob_sector),
    VMSTATE_U8(IDEChannel, hob_lcyl),
    VMSTATE_U8(IDEChannel, hob_hcyl),
    VMSTATE_U8(IDEChannel, select),
    VMSTATE_U8(IDEChannel, status),
    VMSTATE_U8(IDEChannel, error),
    VMSTATE_U8(IDEChannel, devctl),
    VMSTATE_U8(IDEChannel, cmd),
    VMSTATE_BOOL(IDEChannel, irq_pending),
    VMSTATE_BOOL(IDEChannel, lba48),
    VMSTATE_U8(IDEChannel, xfer),
    VMSTATE_BOOL(IDEChannel, dma_write),
    VMSTATE_U64(IDEChannel, lba),
    VMSTATE_U32(IDEChannel, remaining),
    VMSTATE_U32(IDEChannel, block),
    VMSTATE_U32(IDEChannel, pos),
    VMSTATE_U32(IDEChannel, end),
    VMSTATE_U32(IDEChannel, cd_lba),
    VMSTATE_U32(IDEChannel, cd_blocks),
    VMSTATE_U32(IDEChannel, atapi_left),
    VMSTATE_U32(IDEChannel, chunk_left),
    VMSTATE_U16(IDEChannel, byte_limit),
    VMSTATE_U8_ARRAY(IDEChannel, packet, 12),
    VMSTATE_U8(IDEChannel, bm_cmd),
    VMSTATE_U8(IDEChannel, bm_status),
    VMSTATE_U32(IDEChannel, bm_prd),
    VMSTATE_BUFFER(IDEChannel, buf),
    VMSTATE_END,
};

static const VMStateDesc ide_channel_vmstate = {
    .name = "ide-channel",
    .version = 1,
    .fields = ide_channel_fields,
};

static int ide_post_load(void *opaque);

static const VMStateField ide_fields[] = {
    VMSTATE_STRUCT(IDEState, pci, pci_device_vmstate, PCIDevice),
    VMSTATE_STRUCT_ARRAY(IDEState, ch, 2, ide_channel_vmstate, IDEChannel),
    VMSTATE_END,
};

static const VMStateDesc ide_vmstate = {
    .name = "ide",
    .version = 1,
    .fields = ide_fields,
    .post_load = ide_post_load,
};

static Logger *ide_log(IDEChannel *c)
{
    return &c->s->m->log;
}

/* --- interrupts --- */

static void update_irq(IDEChannel *c)
{
    int level = c->irq_pending && !(c->devctl & 0x02);
    if (c->irq) {
        irq_set(c->irq, level);
    }
}

static void raise_irq(IDEChannel *c)
{
    c->irq_pending = true;
    c->bm_status |= IDE_BM_STATUS_IRQ;
    update_irq(c);
}

static IDEDrive *cur(IDEChannel *c)
{
    return &c->drive[c->unit];
}

static BlockBackend *cur_blk(IDEChannel *c)
{
    return c->blk[c->unit];
}

/* --- helpers --- */

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ATA strings: space padded, two characters per word with the first in the high byte. */
static void id_string(uint16_t *w, int words, const char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < words * 2; i++) {
        uint8_t ch = (size_t)i < n ? (uint8_t)s[i] : ' ';
        if (i & 1) {
            w[i / 2] |= ch;
        } else {
            w[i / 2] = (uint16_t)(ch << 8);
        }
    }
}

static void id_to_buf(IDEChannel *c, const uint16_t *w)
{
    for (int i = 0; i < 256; i++) {
        c->buf[2 * i] = (uint8_t)w[i];
        c->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
}

/* --- command completion --- */

static void cmd_done(IDEChannel *c)
{
    c->xfer = XFER_NONE;
    c->pos = c->end = 0;
    c->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    raise_irq(c);
}

static void cmd_abort(IDEChannel *c, uint8_t err)
{
    c->xfer = XFER_NONE;
    c->pos = c->end = 0;
    c->error = err;
    c->status = IDE_STAT_DRDY | IDE_STAT_ERR;
    raise_irq(c);
}

static void set_signature(IDEChannel *c, int unit)
{
    c->nsector = 1;
    c->sector = 1;
    if (c->drive[unit].atapi) {
        c->lcyl = 0x14;
        c->hcyl = 0xEB;
    } else {
        c->lcyl = 0;
        c->hcyl = 0;
    }
}

/* --- ATA addressing --- */

static uint64_t ata_lba(IDEChannel *c)
{
    if (c->lba48) {
        return (uint64_t)c->hob_hcyl << 40 | (uint64_t)c->hob_lcyl << 32 |
               (uint64_t)c->hob_sector << 24 | (uint64_t)c->hcyl << 16 | (uint64_t)c->lcyl << 8 |
               c->sector;
    }
    if (c->select & 0x40) {
        return (uint64_t)(c->select & 0x0F) << 24 | (uint64_t)c->hcyl << 16 |
               (uint64_t)c->lcyl << 8 | c->sector;
    }
    /* CHS: invalid values become an address past the end (IDNF). */
    IDEDrive *d = cur(c);
    uint32_t cyl = (uint32_t)c->hcyl << 8 | c->lcyl;
    uint32_t head = c->select & 0x0F;
    if (c->sector == 0 || c->sector > d->cur_secs || head >= d->cur_heads || cyl >= d->cur_cyls) {
        return UINT64_MAX;
    }
    return ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + (c->sector - 1u);
}

static void ata_set_lba(IDEChannel *c, uint64_t lba)
{
    if (c->lba48) {
        c->sector = (uint8_t)lba;
        c->lcyl = (uint8_t)(lba >> 8);
        c->hcyl = (uint8_t)(lba >> 16);
        c->hob_sector = (uint8_t)(lba >> 24);
        c->hob_lcyl = (uint8_t)(lba >> 32);
        c->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (c->select & 0x40) {
        c->sector = (uint8_t)lba;
        c->lcyl = (uint8_t)(lba >> 8);
        c->hcyl = (uint8_t)(lba >> 16);
        c->select = (uint8_t)((c->select & 0xF0) | ((lba >> 24) & 0x0F));
    } else {
        IDEDrive *d = cur(c);
        uint32_t spc = (uint32_t)d->cur_heads * d->cur_secs;
        if (spc == 0) {
            return;
        }
        uint32_t cyl = (uint32_t)(lba / spc);
        uint32_t r = (uint32_t)(lba % spc);
        c->hcyl = (uint8_t)(cyl >> 8);
        c->lcyl = (uint8_t)cyl;
        c->select = (uint8_t)((c->select & 0xF0) | ((r / d->cur_secs) & 0x0F));
        c->sector = (uint8_t)(r % d->cur_secs + 1);
    }
}

static uint32_t ata_count(IDEChannel *c)
{
    if (c->lba48) {
        uint32_t n = (uint32_t)c->hob_nsector << 8 | c->nsector;
        return n ? n : 65536;
    }
    return c->nsector ? c->nsector : 256;
}

static bool ata_range_ok(IDEChannel *c, uint64_t lba, uint32_t n)
{
    uint64_t total = cur(c)->sectors;
    uint64_t limit = c->lba48 ? total : (total < 0x0FFFFFFF ? total : 0x0FFFFFFF);
    return lba <= limit && n <= limit - lba;
}

/* --- IDENTIFY --- */

static void ata_identify(IDEChannel *c)
{
    IDEDrive *d = cur(c);
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    char serial[21];
    snprintf(serial, sizeof(serial), "ANYVM%04d", c->index * 2 + c->unit);
    w[0] = 0x0040; /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->secs;
    id_string(&w[10], 10, serial);
    w[20] = 3;
    w[21] = 512;
    id_string(&w[23], 4, "0.1");
    id_string(&w[27], 20, "ANYVM HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 0x0300; /* LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;
    w[52] = 0x0200;
    w[53] = 0x0007; /* words 54-58, 64-70 and 88 are valid */
    w[54] = d->cur_cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_secs;
    uint32_t cur_cap = (uint32_t)d->cur_cyls * d->cur_heads * d->cur_secs;
    w[57] = (uint16_t)cur_cap;
    w[58] = (uint16_t)(cur_cap >> 16);
    if (d->mult) {
        w[59] = 0x0100 | d->mult;
    }
    uint64_t lba28 = d->sectors < 0x0FFFFFFF ? d->sectors : 0x0FFFFFFF;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0007;
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E; /* ATA-1 .. ATA-6 */
    w[81] = 0x0019;
    w[82] = 0x4000 | 0x0020;                   /* write cache */
    w[83] = 0x4000 | 0x0400 | 0x1000 | 0x2000; /* LBA48, FLUSH CACHE, FLUSH CACHE EXT */
    w[84] = 0x4000;
    w[85] = (uint16_t)(d->wcache ? 0x0020 : 0);
    w[86] = 0x0400 | 0x1000 | 0x2000;
    w[87] = 0x4000;
    w[88] = 0x003F;
    if ((d->xfer_mode & 0xF8) == 0x40) {
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    } else if ((d->xfer_mode & 0xF8) == 0x20) {
        w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    }
    w[93] = 0x6000 | 0x0001 | (c->drive[1].present ? 0x0100 : 0);
    w[100] = (uint16_t)d->sectors;
    w[101] = (uint16_t)(d->sectors >> 16);
    w[102] = (uint16_t)(d->sectors >> 32);
    w[103] = (uint16_t)(d->sectors >> 48);
    id_to_buf(c, w);
}

static void atapi_identify(IDEChannel *c)
{
    IDEDrive *d = cur(c);
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    char serial[21];
    snprintf(serial, sizeof(serial), "ANYVMCD%04d", c->index * 2 + c->unit);
    w[0] = 0x85C0; /* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
    id_string(&w[10], 10, serial);
    w[20] = 3;
    w[21] = 512;
    id_string(&w[23], 4, "0.1");
    id_string(&w[27], 20, "ANYVM CD-ROM");
    w[49] = 0x0300;
    w[53] = 0x0007;
    w[63] = 0x0007;
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x001E;
    w[82] = 0x4010; /* PACKET feature set */
    w[85] = 0x4010;
    w[88] = 0x003F;
    if ((d->xfer_mode & 0xF8) == 0x40) {
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    }
    w[93] = 0x6000 | 0x0001;
    id_to_buf(c, w);
}

static void bm_run(IDEChannel *c);

/* --- ATA PIO --- */

/* load_block: read the next DRQ block of a PIO read into buf. */
static bool pio_read_block(IDEChannel *c)
{
    uint32_t n = c->remaining < c->block ? c->remaining : c->block;
    int r = blk_read(cur_blk(c), c->lba, c->buf, n);
    if (r < 0) {
        cmd_abort(c, IDE_ERR_UNC | IDE_ERR_ABRT);
        return false;
    }
    c->lba += n;
    c->remaining -= n;
    ata_set_lba(c, c->lba - 1);
    c->pos = 0;
    c->end = n * BLK_SECTOR_SIZE;
    c->xfer = XFER_PIO_IN;
    c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    raise_irq(c);
    return true;
}

static void pio_write_ready(IDEChannel *c, bool irq)
{
    uint32_t n = c->remaining < c->block ? c->remaining : c->block;
    c->pos = 0;
    c->end = n * BLK_SECTOR_SIZE;
    c->xfer = XFER_PIO_OUT;
    c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    if (irq) {
        raise_irq(c);
    }
}

static void pio_write_block_done(IDEChannel *c)
{
    uint32_t n = c->end / BLK_SECTOR_SIZE;
    int r = blk_write(cur_blk(c), c->lba, c->buf, n);
    if (r < 0) {
        cmd_abort(c, IDE_ERR_ABRT);
        return;
    }
    c->lba += n;
    c->remaining -= n;
    ata_set_lba(c, c->lba - 1);
    if (c->remaining) {
        pio_write_ready(c, true);
    } else {
        cmd_done(c);
    }
}

/* The sector read/write commands (ATA/ATAPI-6 command set): how each one transfers. */
typedef struct AtaRwCmd {
    uint8_t cmd;
    bool write, multiple, dma, lba48;
} AtaRwCmd;

static const AtaRwCmd ata_rw_cmds[] = {
    {0x20, false, false, false, false}, /* READ SECTORS */
    {0x21, false, false, false, false}, /* READ SECTORS without retries */
    {0x24, false, false, false, true},  /* READ SECTORS EXT */
    {0x30, true, false, false, false},  /* WRITE SECTORS */
    {0x31, true, false, false, false},  /* WRITE SECTORS without retries */
    {0x34, true, false, false, true},   /* WRITE SECTORS EXT */
    {0xC4, false, true, false, false},  /* READ MULTIPLE */
    {0x29, false, true, false, true},   /* READ MULTIPLE EXT */
    {0xC5, true, true, false, false},   /* WRITE MULTIPLE */
    {0x39, true, true, false, true},    /* WRITE MULTIPLE EXT */
    {0xC8, false, false, true, false},  /* READ DMA */
    {0xC9, false, false, true, false},  /* READ DMA without retries */
    {0x25, false, false, true, true},   /* READ DMA EXT */
    {0xCA, true, false, true, false},   /* WRITE DMA */
    {0xCB, true, false, true, false},   /* WRITE DMA without retries */
    {0x35, true, false, true, true},    /* WRITE DMA EXT */
};

static const AtaRwCmd *ata_rw_cmd(uint8_t cmd)
{
    for (size_t i = 0; i < sizeof(ata_rw_cmds) / sizeof(ata_rw_cmds[0]); i++) {
        if (ata_rw_cmds[i].cmd == cmd) {
            return &ata_rw_cmds[i];
        }
    }
    return NULL;
}

/* ata_rw: start READ/WRITE (MULTIPLE, DMA) once the range is validated. */
static void ata_rw(IDEChannel *c, bool write, bool multiple, bool dma)
{
    BlockBackend *blk = cur_blk(c);
    if (multiple && !cur(c)->mult) {
        cmd_abort(c, IDE_ERR_ABRT);
        return;
    }
    uint64_t lba = ata_lba(c);
    uint32_t n = ata_count(c);
    if (!blk || lba == UINT64_MAX || !ata_range_ok(c, lba, n)) {
        cmd_abort(c, IDE_ERR_IDNF | IDE_ERR_ABRT);
        return;
    }
    if (write && blk->readonly) {
        cmd_abort(c, IDE_ERR_ABRT);
        return;
    }
    c->lba = lba;
    c->remaining = n;
    c->block = multiple ? cur(c)->mult : 1;
    if (dma) {
        c->xfer = XFER_DMA;
        c->dma_write = write;
        c->pos = c->end = 0;
        c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
        bm_run(c); /* now if the bus master was started first, else when it starts */
        return;
    }
    if (write) {
        pio_write_ready(c, false);
    } else {
        pio_read_block(c);
    }
}

/* --- ATAPI --- */

static bool cd_has_media(IDEChannel *c)
{
    return cur_blk(c) != NULL && !cur(c)->tray_open;
}

static uint32_t cd_capacity(IDEChannel *c)
{
    BlockBackend *b = cur_blk(c);
    uint64_t blocks = b ? b->sectors / (CD_BLOCK / BLK_SECTOR_SIZE) : 0;
    return blocks > UINT32_MAX ? UINT32_MAX : (uint32_t)blocks;
}

static void atapi_set_ireason(IDEChannel *c, bool io, bool cod)
{
    c->nsector = (uint8_t)((c->nsector & 0xF8) | (io ? 2 : 0) | (cod ? 1 : 0));
}

static void atapi_ok(IDEChannel *c)
{
    IDEDrive *d = cur(c);
    d->sense_key = SENSE_NONE;
    d->asc = d->ascq = 0;
    c->xfer = XFER_NONE;
    c->error = 0;
    c->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    atapi_set_ireason(c, true, true);
    raise_irq(c);
}

static void atapi_fail(IDEChannel *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
    IDEDrive *d = cur(c);
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    c->xfer = XFER_NONE;
    c->pos = c->end = 0;
    c->error = (uint8_t)(key << 4 | IDE_ERR_ABRT);
    c->status = IDE_STAT_DRDY | IDE_STAT_ERR;
    atapi_set_ireason(c, true, true);
    raise_irq(c);
}

static void atapi_not_ready(IDEChannel *c)
{
    atapi_fail(c, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, cur(c)->tray_open ? 2 : 1);
}

/* atapi_refill: load the next CD block of a READ into buf. */
static bool atapi_refill(IDEChannel *c)
{
    if (c->cd_blocks == 0) {
        return false;
    }
    int r = blk_read(cur_blk(c), (uint64_t)c->cd_lba * 4, c->buf, 4);
    if (r < 0) {
        atapi_fail(c, 3 /* MEDIUM ERROR */, 0x11, 0);
        return false;
    }
    c->cd_lba++;
    c->cd_blocks--;
    c->pos = 0;
    c->end = CD_BLOCK;
    return true;
}

/* atapi_next_chunk: offer the next DRQ chunk of a data-in transfer, or complete. */
static void atapi_next_chunk(IDEChannel *c)
{
    if (c->atapi_left == 0) {
        atapi_ok(c);
        return;
    }
    uint32_t limit = c->byte_limit;
    if (limit == 0 || limit == 0xFFFF) {
        limit = 0xFFFE;
    }
    limit &= ~1u;
    if (limit == 0) {
        limit = 2; /* a byte count limit of 1 still moves one word per DRQ */
    }
    uint32_t n = c->atapi_left < limit ? c->atapi_left : limit;
    if (n >= CD_BLOCK && n < c->atapi_left) {
        n -= n % CD_BLOCK; /* whole blocks per chunk when the limit allows */
    }
    c->chunk_left = n;
    c->lcyl = (uint8_t)n;
    c->hcyl = (uint8_t)(n >> 8);
    atapi_set_ireason(c, true, false);
    c->xfer = XFER_ATAPI_IN;
    c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    raise_irq(c);
}

/* atapi_reply: send len bytes of buf (already filled), cut to the allocation length. */
static void atapi_reply(IDEChannel *c, uint32_t len, uint32_t alloc)
{
    if (len > alloc) {
        len = alloc;
    }
    c->pos = 0;
    c->end = len;
    c->cd_blocks = 0;
    c->atapi_left = len;
    if (c->feature & 1) {
        c->xfer = XFER_ATAPI_DMA;
        c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
        bm_run(c);
        return;
    }
    atapi_next_chunk(c);
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    uint32_t f = lba + 150;
    p[0] = (uint8_t)(f / (75 * 60));
    p[1] = (uint8_t)((f / 75) % 60);
    p[2] = (uint8_t)(f % 75);
}

static uint32_t atapi_toc(IDEChannel *c, const uint8_t *p, bool *ok)
{
    bool msf = (p[1] & 2) != 0;
    uint32_t format = p[2] & 0x0F;
    if (format == 0) {
        format = p[9] >> 6; /* the older MMC place of the format field */
    }
    uint32_t track = p[6];
    uint32_t cap = cd_capacity(c);
    uint8_t *b = c->buf;
    memset(b, 0, 64);
    *ok = true;
    switch (format) {
    case 0: {
        if (track > 1 && track != 0xAA) {
            *ok = false;
            return 0;
        }
        b[2] = 1;
        b[3] = 1;
        uint8_t *q = b + 4;
        if (track <= 1) {
            q[1] = 0x14; /* ADR 1, data track */
            q[2] = 1;
            if (msf) {
                lba_to_msf(q + 5, 0);
            }
            q += 8;
        }
        q[1] = 0x14;
        q[2] = 0xAA;
        if (msf) {
            lba_to_msf(q + 5, cap);
        } else {
            put_be32(q + 4, cap);
        }
        q += 8;
        uint32_t len = (uint32_t)(q - b);
        put_be16(b, len - 2);
        return len;
    }
    case 1:
        put_be16(b, 0x0A);
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        if (msf) {
            lba_to_msf(b + 9, 0);
        }
        return 12;
    case 2: {
        b[2] = 1;
        b[3] = 1;
        uint8_t *q = b + 4;
        static const uint8_t points[4] = {0xA0, 0xA1, 0xA2, 1};
        for (int i = 0; i < 4; i++, q += 11) {
            q[0] = 1;
            q[1] = 0x14;
            q[3] = points[i];
            if (points[i] == 0xA0) {
                q[8] = 1; /* first track; disc type 0 (CD-ROM) */
            } else if (points[i] == 0xA1) {
                q[8] = 1; /* last track */
            } else if (points[i] == 0xA2) {
                lba_to_msf(q + 8, cap);
            } else {
                lba_to_msf(q + 8, 0);
            }
        }
        uint32_t len = (uint32_t)(q - b);
        put_be16(b, len - 2);
        return len;
    }
    default:
        *ok = false;
        return 0;
    }
}

static uint32_t mode_page(IDEChannel *c, uint8_t page, uint8_t *q)
{
    switch (page) {
    case 0x01: /* read error recovery */
        memcpy(q, (const uint8_t[]){0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0}, 8);
        return 8;
    case 0x0D: /* CD device parameters */
        memcpy(q, (const uint8_t[]){0x0D, 0x06, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x4B}, 8);
        return 8;
    case 0x0E: /* CD audio control */
        memset(q, 0, 16);
        q[0] = 0x0E;
        q[1] = 0x0E;
        q[2] = 0x04;
        q[8] = 0x01;
        q[9] = 0xFF;
        q[10] = 0x02;
        q[11] = 0xFF;
        return 16;
    case 0x2A: /* capabilities and mechanical status */
        memset(q, 0, 22);
        q[0] = 0x2A;
        q[1] = 0x14;
        q[2] = 0x03; /* reads CD-R, CD-RW */
        q[4] = 0x71; /* audio play, composite, digital ports, multisession */
        q[5] = 0x7F;
        q[6] = (uint8_t)(0x29 | (cur(c)->locked ? 0x02 : 0)); /* tray, eject, lock */
        q[7] = 0x03;
        put_be16(q + 8, 706);  /* max speed, kB/s */
        put_be16(q + 10, 256); /* volume levels */
        put_be16(q + 12, 2048);
        put_be16(q + 14, 706);
        return 22;
    default:
        return 0;
    }
}

static void atapi_mode_sense(IDEChannel *c, const uint8_t *p)
{
    uint8_t pc = p[2] >> 6, page = p[2] & 0x3F;
    uint32_t alloc = get_be16(p + 7);
    if (pc == 3) {
        atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    uint8_t *b = c->buf;
    memset(b, 0, 8);
    b[2] = cd_has_media(c) ? 0x01 : 0x70;
    uint32_t len = 8;
    static const uint8_t all[4] = {0x01, 0x0D, 0x0E, 0x2A};
    if (page == 0x3F) {
        for (int i = 0; i < 4; i++) {
            len += mode_page(c, all[i], b + len);
        }
    } else {
        uint32_t n = mode_page(c, page, b + len);
        if (n == 0) {
            atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        len += n;
    }
    if (pc == 1) { /* changeable values: nothing is */
        for (uint32_t i = 8; i < len;) {
            uint32_t plen = b[i + 1] + 2u;
            memset(b + i + 2, 0, plen - 2);
            i += plen;
        }
    }
    put_be16(b, len - 2);
    atapi_reply(c, len, alloc);
}

static void atapi_get_configuration(IDEChannel *c, const uint8_t *p)
{
    uint32_t alloc = get_be16(p + 7);
    bool media = cd_has_media(c);
    uint8_t *b = c->buf;
    memset(b, 0, 128);
    put_be16(b + 6, media ? 0x0008 : 0x0000);
    uint8_t *q = b + 8;
    /* Profile list: CD-ROM. */
    q[1] = 0x00;
    q[2] = 0x03;
    q[3] = 4;
    put_be16(q + 4, 0x0008);
    q[6] = media ? 1 : 0;
    q += 8;
    /* Core: ATAPI interface. */
    put_be16(q, 0x0001);
    q[2] = 0x0B;
    q[3] = 8;
    put_be32(q + 4, 2);
    q += 12;
    /* Removable medium: tray, eject, lock. */
    put_be16(q, 0x0003);
    q[2] = 0x03;
    q[3] = 4;
    q[4] = (uint8_t)(0x20 | 0x08 | 0x01 | (cur(c)->locked ? 0x04 : 0));
    q += 8;
    /* Random readable, 2048-byte blocks. */
    put_be16(q, 0x0010);
    q[2] = (uint8_t)(media ? 0x01 : 0x00);
    q[3] = 8;
    put_be32(q + 4, CD_BLOCK);
    put_be16(q + 8, 1);
    q += 12;
    /* CD read. */
    put_be16(q, 0x001E);
    q[2] = (uint8_t)(0x08 | (media ? 0x01 : 0x00));
    q[3] = 4;
    q += 8;
    uint32_t len = (uint32_t)(q - b);
    put_be32(b, len - 4);
    atapi_reply(c, len, alloc);
}

static void atapi_event_status(IDEChannel *c, const uint8_t *p)
{
    IDEDrive *d = cur(c);
    uint32_t alloc = get_be16(p + 7);
    if (!(p[1] & 1)) { /* only polled operation */
        atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = c->buf;
    memset(b, 0, 8);
    b[3] = 0x10; /* supported: media class */
    uint32_t len = 4;
    if (p[4] & 0x10) {
        b[2] = 4; /* media class */
        b[4] = d->media_event;
        b[5] = (uint8_t)((cd_has_media(c) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->media_event = 0;
        len = 8;
    } else {
        b[2] = 0x80; /* no event available */
    }
    put_be16(b, len - 2);
    atapi_reply(c, len, alloc);
}

/* atapi_packet: run the 12-byte command in c->packet. */
static void atapi_packet(IDEChannel *c)
{
    IDEDrive *d = cur(c);
    const uint8_t *p = c->packet;
    uint8_t op = p[0];
    bool needs_media = !(op == 0x03 || op == 0x12 || op == 0x46 || op == 0x4A || op == 0x5A ||
                         op == 0x1B || op == 0x1E || op == 0xBD);
    if (d->unit_attention && op != 0x03 && op != 0x12 && op != 0x46 && op != 0x4A) {
        d->unit_attention = false;
        atapi_fail(c, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        return;
    }
    if (needs_media && !cd_has_media(c)) {
        atapi_not_ready(c);
        return;
    }
    uint8_t *b = c->buf;
    switch (op) {
    case 0x00: /* TEST UNIT READY */
        atapi_ok(c);
        return;
    case 0x03: { /* REQUEST SENSE */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = d->sense_key;
        b[7] = 10;
        b[12] = d->asc;
        b[13] = d->ascq;
        if (d->sense_key == SENSE_UNIT_ATTENTION) {
            d->unit_attention = false;
        }
        d->sense_key = 0;
        d->asc = d->ascq = 0;
        atapi_reply(c, 18, p[4]);
        return;
    }
    case 0x12: /* INQUIRY */
        memset(b, 0, 36);
        b[0] = 0x05; /* CD/DVD device */
        b[1] = 0x80; /* removable */
        b[2] = 0x00;
        b[3] = 0x21; /* ATAPI, response data format 1 */
        b[4] = 31;
        memcpy(b + 8, "ANYVM   ", 8);
        memcpy(b + 16, "ANYVM CD-ROM    ", 16);
        memcpy(b + 32, "0.1 ", 4);
        atapi_reply(c, 36, get_be16(p + 3));
        return;
    case 0x1B: { /* START STOP UNIT */
        bool loej = (p[4] & 2) != 0, start = (p[4] & 1) != 0;
        if (loej && !start) {
            if (d->locked) {
                atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
                return;
            }
            if (!d->tray_open) {
                d->tray_open = true;
                d->media_event = 3;
            }
        } else if (loej && start && d->tray_open) {
            d->tray_open = false;
            if (cur_blk(c)) {
                d->media_event = 2;
                d->unit_attention = true;
            }
        }
        atapi_ok(c);
        return;
    }
    case 0x1E: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = (p[4] & 1) != 0;
        atapi_ok(c);
        return;
    case 0x25: /* READ CAPACITY */
        put_be32(b, cd_capacity(c) - 1);
        put_be32(b + 4, CD_BLOCK);
        atapi_reply(c, 8, 8);
        return;
    case 0x28:   /* READ(10) */
    case 0xA8: { /* READ(12) */
        uint32_t lba = get_be32(p + 2);
        uint32_t n = op == 0x28 ? get_be16(p + 7) : get_be32(p + 6);
        uint32_t cap = cd_capacity(c);
        if (lba > cap || n > cap - lba) {
            atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
            return;
        }
        if (n == 0) {
            atapi_ok(c);
            return;
        }
        if (n > UINT32_MAX / CD_BLOCK) {
            n = UINT32_MAX / CD_BLOCK; /* a 8 TiB transfer is not a real request */
        }
        c->cd_lba = lba;
        c->cd_blocks = n;
        c->atapi_left = n * CD_BLOCK;
        c->pos = c->end = 0;
        if (c->feature & 1) {
            c->xfer = XFER_ATAPI_DMA;
            c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
            bm_run(c);
            return;
        }
        atapi_next_chunk(c);
        return;
    }
    case 0x2B: /* SEEK(10) */
        if (get_be32(p + 2) >= cd_capacity(c)) {
            atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
            return;
        }
        atapi_ok(c);
        return;
    case 0x43: { /* READ TOC/PMA/ATIP */
        bool ok;
        uint32_t len = atapi_toc(c, p, &ok);
        if (!ok) {
            atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        atapi_reply(c, len, get_be16(p + 7));
        return;
    }
    case 0x46: /* GET CONFIGURATION */
        atapi_get_configuration(c, p);
        return;
    case 0x4A: /* GET EVENT STATUS NOTIFICATION */
        atapi_event_status(c, p);
        return;
    case 0x5A: /* MODE SENSE(10) */
        atapi_mode_sense(c, p);
        return;
    case 0xBD: /* MECHANISM STATUS */
        memset(b, 0, 8);
        b[1] = (uint8_t)(d->tray_open ? 0x10 : 0);
        put_be16(b + 6, 0);
        atapi_reply(c, 8, get_be16(p + 8));
        return;
    default:
        LOG_ONCE(ide_log(c), LOG_UNIMP, "ide: ATAPI command 0x%02x not implemented\n", op);
        atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
}

/* --- commands --- */

static void ide_exec(IDEChannel *c, uint8_t cmd)
{
    IDEDrive *d = cur(c);
    if (!d->present) {
        return; /* an absent device ignores commands (ATA-6 section 9.1) */
    }
    c->cmd = cmd;
    c->lba48 = false;
    c->error = 0;
    if (d->atapi) {
        switch (cmd) {
        case 0xA1: /* IDENTIFY PACKET DEVICE */
            atapi_identify(c);
            c->pos = 0;
            c->end = 512;
            c->xfer = XFER_INFO;
            c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
            raise_irq(c);
            return;
        case 0xA0: /* PACKET */
            c->byte_limit = (uint16_t)(c->hcyl << 8 | c->lcyl);
            c->pos = 0;
            c->end = 12;
            c->xfer = XFER_PACKET;
            atapi_set_ireason(c, false, true);
            c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
            return;
        case 0x08: /* DEVICE RESET */
            set_signature(c, c->unit);
            c->xfer = XFER_NONE;
            c->status = 0;
            c->error = 1;
            return;
        case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
            set_signature(c, c->unit);
            c->error = 1;
            c->status = 0;
            raise_irq(c);
            return;
        case 0xEC: /* IDENTIFY DEVICE: abort with the packet signature */
            set_signature(c, c->unit);
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        case 0xEF: /* SET FEATURES */
            if (c->feature == 0x03) {
                d->xfer_mode = c->nsector;
            }
            cmd_done(c);
            return;
        case 0xE0:
        case 0xE1:
        case 0xE2:
        case 0xE3:
        case 0xE7:
            cmd_done(c);
            return;
        default:
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
    }
    const AtaRwCmd *rw = ata_rw_cmd(cmd);
    if (rw) {
        c->lba48 = rw->lba48;
        ata_rw(c, rw->write, rw->multiple, rw->dma);
        return;
    }
    switch (cmd) {
    case 0xEC: /* IDENTIFY DEVICE */
        ata_identify(c);
        c->pos = 0;
        c->end = 512;
        c->xfer = XFER_INFO;
        c->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
        raise_irq(c);
        return;
    case 0x40:
    case 0x41:
    case 0x42: { /* READ VERIFY SECTORS (EXT) */
        c->lba48 = cmd == 0x42;
        uint64_t lba = ata_lba(c);
        if (lba == UINT64_MAX || !ata_range_ok(c, lba, ata_count(c))) {
            cmd_abort(c, IDE_ERR_IDNF);
            return;
        }
        cmd_done(c);
        return;
    }
    case 0xC6: /* SET MULTIPLE MODE */
        if (c->nsector > IDE_MAX_MULT || (c->nsector & (c->nsector - 1))) {
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
        d->mult = c->nsector;
        cmd_done(c);
        return;
    case 0xE7: /* FLUSH CACHE */
    case 0xEA: /* FLUSH CACHE EXT */
        if (cur_blk(c) && blk_flush(cur_blk(c)) < 0) {
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
        cmd_done(c);
        return;
    case 0xEF: /* SET FEATURES */
        switch (c->feature) {
        case 0x02:
            d->wcache = true;
            break;
        case 0x82:
            d->wcache = false;
            break;
        case 0x03:
            if ((c->nsector & 0xF8) > 0x40 || (c->nsector & 0xF8) == 0x10 ||
                ((c->nsector & 0xF8) == 0x40 && (c->nsector & 7) > 5)) {
                cmd_abort(c, IDE_ERR_ABRT);
                return;
            }
            d->xfer_mode = c->nsector;
            break;
        case 0x55:
        case 0xAA:
        case 0x66:
        case 0xCC:
        case 0x33:
        case 0x99:
            break;
        default:
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
        cmd_done(c);
        return;
    case 0x91: { /* INITIALIZE DEVICE PARAMETERS */
        uint32_t heads = (c->select & 0x0F) + 1u, secs = c->nsector;
        if (secs == 0) {
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
        uint64_t cyls = d->sectors / (heads * secs);
        d->cur_heads = (uint16_t)heads;
        d->cur_secs = (uint16_t)secs;
        d->cur_cyls = (uint16_t)(cyls > 65535 ? 65535 : cyls);
        cmd_done(c);
        return;
    }
    case 0xF8:   /* READ NATIVE MAX ADDRESS */
    case 0x27: { /* READ NATIVE MAX ADDRESS EXT */
        c->lba48 = cmd == 0x27;
        uint64_t max = d->sectors ? d->sectors - 1 : 0;
        if (!c->lba48 && max > 0x0FFFFFFF) {
            max = 0x0FFFFFFF;
        }
        c->select |= 0x40;
        ata_set_lba(c, max);
        cmd_done(c);
        return;
    }
    case 0x70:
    case 0x10:
    case 0x11:
    case 0x12:
    case 0x13:
    case 0x14:
    case 0x15:
    case 0x16:
    case 0x17:
    case 0x18:
    case 0x19:
    case 0x1A:
    case 0x1B:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F: /* SEEK, RECALIBRATE */
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3:
    case 0xE6: /* power management */
    case 0x00: /* NOP completes with ABRT below; others succeed */
        if (cmd == 0x00) {
            cmd_abort(c, IDE_ERR_ABRT);
            return;
        }
        cmd_done(c);
        return;
    case 0xE5: /* CHECK POWER MODE: active */
        c->nsector = 0xFF;
        cmd_done(c);
        return;
    case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
        set_signature(c, 0);
        c->unit = 0;
        c->select &= ~0x10;
        c->error = 1;
        c->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        raise_irq(c);
        return;
    default:
        LOG_ONCE(ide_log(c), LOG_UNIMP, "ide: ATA command 0x%02x not implemented\n", cmd);
        cmd_abort(c, IDE_ERR_ABRT);
        return;
    }
}

/* --- bus-master DMA --- */

/* bm_run: move the pending DMA command's data through the PRD table. Each PRD is 8 bytes:
 * physical address (bit 0 ignored), byte count (0 = 64 KiB, bit 0 ignored), bit 31 of the
 * second dword = end of table (82371SB section 2.7.3). */
static void bm_run(IDEChannel *c)
{
    if (!(c->bm_cmd & IDE_BM_CMD_START) ||
        !(pci_get_le(c->s->pci.config, PCI_COMMAND, 2) & PCI_COMMAND_MASTER)) {
        return;
    }
    if (c->xfer != XFER_DMA && c->xfer != XFER_ATAPI_DMA) {
        return;
    }
    MemMap *mem = &c->s->m->mem;
    bool ata = c->xfer == XFER_DMA;
    bool write = ata && c->dma_write; /* device write: memory -> disk */
    if (ata && write != !(c->bm_cmd & IDE_BM_CMD_TO_MEMORY)) {
        LOG_ONCE(ide_log(c), LOG_GUEST_ERROR, "ide: bus-master direction mismatches command\n");
    }
    c->bm_status |= IDE_BM_STATUS_ACTIVE;
    uint32_t prd = c->bm_prd & ~3u;
    uint32_t entry_addr = 0, entry_left = 0;
    bool eot = false;
    int entries = 0;
    bool failed = false, short_prd = false;
    /* ATA: whole sectors go through buf, at most IDE_BUF_SIZE at a time. */
    for (;;) {
        if (ata) {
            if (c->pos == c->end) {
                if (write && c->end) {
                    uint32_t n = c->end / BLK_SECTOR_SIZE;
                    if (blk_write(cur_blk(c), c->lba, c->buf, n) < 0) {
                        failed = true;
                        break;
                    }
                    c->lba += n;
                    c->remaining -= n;
                    c->pos = c->end = 0;
                }
                if (c->remaining == 0) {
                    break;
                }
                uint32_t n = c->remaining < IDE_BUF_SIZE / BLK_SECTOR_SIZE
                                 ? c->remaining
                                 : IDE_BUF_SIZE / BLK_SECTOR_SIZE;
                if (!write) {
                    if (blk_read(cur_blk(c), c->lba, c->buf, n) < 0) {
                        failed = true;
                        break;
                    }
                    c->lba += n;
                    c->remaining -= n;
                }
                c->pos = 0;
                c->end = n * BLK_SECTOR_SIZE;
            }
        } else {
            if (c->atapi_left == 0) {
                break;
            }
            if (c->pos == c->end && !atapi_refill(c)) {
                if (c->xfer == XFER_NONE) { /* the refill failed and reported */
                    c->bm_status &= ~IDE_BM_STATUS_ACTIVE;
                    return;
                }
                break;
            }
        }
        if (entry_left == 0) {
            if (eot || entries >= PRD_MAX_ENTRIES) {
                short_prd = true;
                break;
            }
            uint8_t e[8];
            mem_read_buf(mem, prd, e, sizeof(e));
            entry_addr = (uint32_t)(e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24) & ~1u;
            entry_left = (uint32_t)(e[4] | e[5] << 8) & ~1u;
            if (entry_left == 0) {
                entry_left = 0x10000;
            }
            eot = (e[7] & 0x80) != 0;
            /* The table never crosses a 64 KiB boundary: it wraps inside it. */
            prd = (prd & 0xFFFF0000u) | ((prd + 8) & 0xFFFFu);
            entries++;
        }
        uint32_t n = c->end - c->pos;
        if (n > entry_left) {
            n = entry_left;
        }
        if (!ata && n > c->atapi_left) {
            n = c->atapi_left;
        }
        if (write) {
            mem_read_buf(mem, entry_addr, c->buf + c->pos, n);
        } else {
            mem_write_buf(mem, entry_addr, c->buf + c->pos, n);
        }
        c->pos += n;
        entry_addr += n;
        entry_left -= n;
        if (!ata) {
            c->atapi_left -= n;
        }
    }
    /* The bus master stays active when the PRDs offered more than the device moved. */
    if (failed) {
        c->bm_status = (uint8_t)((c->bm_status & ~IDE_BM_STATUS_ACTIVE) | IDE_BM_STATUS_ERROR);
        if (ata) {
            cmd_abort(c, write ? IDE_ERR_ABRT : (IDE_ERR_UNC | IDE_ERR_ABRT));
        }
        return;
    }
    if (short_prd) {
        /* The table ended before the data: the transfer cannot finish (82371SB: the
         * interrupt comes with ACTIVE clear and the drive still wanting data). Report it as
         * an aborted command so software sees an error instead of a hang. */
        c->bm_status = (uint8_t)((c->bm_status & ~IDE_BM_STATUS_ACTIVE) | IDE_BM_STATUS_ERROR);
        if (ata) {
            cmd_abort(c, IDE_ERR_ABRT);
        } else {
            atapi_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        }
        return;
    }
    if (eot && entry_left == 0) {
        c->bm_status &= ~IDE_BM_STATUS_ACTIVE;
    }
    if (ata) {
        ata_set_lba(c, c->lba - 1);
        cmd_done(c);
    } else {
        atapi_ok(c);
    }
}

static uint64_t bm_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEState *s = opaque;
    IDEChannel *c = &s->ch[(addr >> 3) & 1];
    unsigned reg = addr & 7;
    uint32_t v;
    switch (reg) {
    case 0:
        v = c->bm_cmd;
        break;
    case 2:
        v = c->bm_status;
        break;
    case 4:
    case 5:
    case 6:
    case 7:
        v = c->bm_prd >> (8 * (reg - 4));
        break;
    default:
        v = 0;
        break;
    }
    return size == 4 && reg == 4 ? c->bm_prd : (v & 0xFF);
}

static void bm_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    IDEState *s = opaque;
    IDEChannel *c = &s->ch[(addr >> 3) & 1];
    unsigned reg = addr & 7;
    if (reg == 4 && size == 4) {
        c->bm_prd = (uint32_t)val & ~3u;
        return;
    }
    switch (reg) {
    case 0: {
        uint8_t old = c->bm_cmd;
        c->bm_cmd = (uint8_t)(val & 0x09);
        if (!(old & IDE_BM_CMD_START) && (c->bm_cmd & IDE_BM_CMD_START)) {
            bm_run(c);
        } else if (!(c->bm_cmd & IDE_BM_CMD_START)) {
            c->bm_status &= ~IDE_BM_STATUS_ACTIVE;
        }
        break;
    }
    case 2:
        c->bm_status = (uint8_t)((c->bm_status & ~(val & 0x06) & ~0x60) | (val & 0x60));
        break;
    case 4:
    case 5:
    case 6:
    case 7: {
        unsigned sh = 8 * (reg - 4);
        c->bm_prd = (c->bm_prd & ~(0xFFu << sh)) | ((uint32_t)(val & 0xFF) << sh);
        c->bm_prd &= ~3u;
        break;
    }
    default:
        break;
    }
}

static const IOOps bm_ops = {
    .read = bm_read,
    .write = bm_write,
    .min_access = 1,
    .max_access = 4,
};

/* --- the task file ports --- */

static bool channel_empty(const IDEChannel *c)
{
    return !c->drive[0].present && !c->drive[1].present;
}

static uint32_t data_read(IDEChannel *c, unsigned size)
{
    if (c->xfer != XFER_PIO_IN && c->xfer != XFER_INFO && c->xfer != XFER_ATAPI_IN) {
        return 0xFFFFFFFFu >> (32 - 8 * size);
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (c->xfer == XFER_ATAPI_IN && c->pos == c->end && !atapi_refill(c)) {
            break;
        }
        if (c->pos >= c->end) {
            break;
        }
        v |= (uint32_t)c->buf[c->pos++] << (8 * i);
        if (c->xfer == XFER_ATAPI_IN) {
            c->atapi_left--;
            if (--c->chunk_left == 0) {
                atapi_next_chunk(c);
                break;
            }
        }
    }
    if (c->pos >= c->end) {
        if (c->xfer == XFER_PIO_IN) {
            if (c->remaining) {
                pio_read_block(c);
            } else {
                c->xfer = XFER_NONE;
                c->status = IDE_STAT_DRDY | IDE_STAT_DSC;
            }
        } else if (c->xfer == XFER_INFO) {
            c->xfer = XFER_NONE;
            c->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        }
    }
    return v;
}

static void data_write(IDEChannel *c, uint32_t val, unsigned size)
{
    if (c->xfer != XFER_PIO_OUT && c->xfer != XFER_PACKET) {
        return;
    }
    for (unsigned i = 0; i < size && c->pos < c->end; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (c->xfer == XFER_PACKET) {
            c->packet[c->pos++] = b;
        } else {
            c->buf[c->pos++] = b;
        }
    }
    if (c->pos >= c->end) {
        if (c->xfer == XFER_PACKET) {
            c->xfer = XFER_NONE;
            c->pos = c->end = 0;
            atapi_packet(c);
        } else {
            pio_write_block_done(c);
        }
    }
}

static uint8_t reg_read(IDEChannel *c, unsigned reg)
{
    if (channel_empty(c)) {
        return 0xFF; /* nothing drives the bus */
    }
    bool hob = (c->devctl & 0x80) != 0;
    IDEDrive *d = cur(c);
    switch (reg) {
    case 1:
        return hob ? c->hob_feature : c->error;
    case 2:
        return hob ? c->hob_nsector : c->nsector;
    case 3:
        return hob ? c->hob_sector : c->sector;
    case 4:
        return hob ? c->hob_lcyl : c->lcyl;
    case 5:
        return hob ? c->hob_hcyl : c->hcyl;
    case 6:
        return c->select;
    case 7:
        if (!d->present) {
            return 0;
        }
        c->irq_pending = false;
        update_irq(c);
        return c->status;
    default:
        return 0xFF;
    }
}

static void reg_write(IDEChannel *c, unsigned reg, uint8_t v)
{
    c->devctl &= 0x7F; /* a task file write clears HOB (ATA-6 section 7.9) */
    switch (reg) {
    case 1:
        c->hob_feature = c->feature;
        c->feature = v;
        break;
    case 2:
        c->hob_nsector = c->nsector;
        c->nsector = v;
        break;
    case 3:
        c->hob_sector = c->sector;
        c->sector = v;
        break;
    case 4:
        c->hob_lcyl = c->lcyl;
        c->lcyl = v;
        break;
    case 5:
        c->hob_hcyl = c->hcyl;
        c->hcyl = v;
        break;
    case 6:
        c->select = v | 0xA0;
        c->unit = (v >> 4) & 1;
        break;
    case 7:
        if (c->status & IDE_STAT_BSY) {
            return;
        }
        if (c->xfer != XFER_NONE && v != 0x08) {
            c->xfer = XFER_NONE; /* a new command ends any unfinished transfer */
        }
        c->irq_pending = false;
        update_irq(c);
        ide_exec(c, v);
        break;
    default:
        break;
    }
}

static uint64_t cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEChannel *c = opaque;
    if (addr == 0) {
        if (channel_empty(c)) {
            return 0xFFFFFFFFu >> (32 - 8 * size);
        }
        return data_read(c, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)reg_read(c, (unsigned)addr + i) << (8 * i);
    }
    return v;
}

static void cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    IDEChannel *c = opaque;
    if (addr == 0) {
        data_write(c, (uint32_t)val, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        reg_write(c, (unsigned)addr + i, (uint8_t)(val >> (8 * i)));
    }
}

static const IOOps cmd_ops = {
    .read = cmd_read,
    .write = cmd_write,
    .min_access = 1,
    .max_access = 4,
};

static void channel_reset(IDEChannel *c, bool hard);

static uint64_t ctl_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEChannel *c = opaque;
    if (channel_empty(c)) {
        return 0xFF;
    }
    return cur(c)->present ? c->status : 0; /* alternate status: no interrupt clear */
}

static void ctl_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    IDEChannel *c = opaque;
    uint8_t old = c->devctl;
    c->devctl = (uint8_t)val;
    if ((val & 0x04) && !(old & 0x04)) {
        /* SRST asserted: both devices busy until it is released. */
        c->xfer = XFER_NONE;
        c->status = IDE_STAT_BSY;
        c->irq_pending = false;
    } else if (!(val & 0x04) && (old & 0x04)) {
        channel_reset(c, false);
    }
    update_irq(c);
}

static const IOOps ctl_ops = {
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 1,
};

/* --- reset and set-up --- */

static void drive_reset(IDEDrive *d, bool hard)
{
    d->cur_cyls = d->cyls;
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
    d->mult = 0;
    d->wcache = true;
    if (hard) {
        d->xfer_mode = 0;
        d->locked = false;
        d->sense_key = d->asc = d->ascq = 0;
    }
}

static void channel_reset(IDEChannel *c, bool hard)
{
    for (int u = 0; u < 2; u++) {
        drive_reset(&c->drive[u], hard);
    }
    c->unit = 0;
    c->select = 0xA0;
    c->feature = c->hob_feature = 0;
    c->hob_nsector = c->hob_sector = c->hob_lcyl = c->hob_hcyl = 0;
    set_signature(c, 0);
    c->error = 1;
    c->status = c->drive[0].atapi ? 0 : (IDE_STAT_DRDY | IDE_STAT_DSC);
    c->xfer = XFER_NONE;
    c->pos = c->end = 0;
    c->irq_pending = false;
    if (hard) {
        c->devctl = 0;
        c->bm_cmd = 0;
        c->bm_status =
            (uint8_t)((c->drive[0].present ? 0x20 : 0) | (c->drive[1].present ? 0x40 : 0));
        c->bm_prd = 0;
    }
    update_irq(c);
}

static void ide_reset(void *opaque)
{
    IDEState *s = opaque;
    pci_device_reset(&s->pci);
    for (int i = 0; i < 2; i++) {
        channel_reset(&s->ch[i], true);
    }
}

static int ide_post_load(void *opaque)
{
    IDEState *s = opaque;
    for (int i = 0; i < 2; i++) {
        IDEChannel *c = &s->ch[i];
        /* Bound what a snapshot file says before the data port trusts it. */
        if (c->end > IDE_BUF_SIZE || c->pos > c->end) {
            c->pos = c->end = 0;
            c->xfer = XFER_NONE;
        }
        if (c->xfer == XFER_PACKET && c->end > 12) {
            c->end = 12;
        }
        c->unit &= 1;
        update_irq(c);
    }
    return pci_device_post_load(&s->pci);
}

/* The default CHS geometry of a disk: 16 heads, 63 sectors, up to 16383 cylinders. */
static void drive_geometry(IDEDrive *d)
{
    uint64_t cyls = d->sectors / (16 * 63);
    if (cyls > 16383) {
        cyls = 16383;
    }
    if (cyls == 0) {
        cyls = 1;
    }
    d->cyls = (uint16_t)cyls;
    d->heads = 16;
    d->secs = 63;
}

IDEState *ide_new(Machine *m, PCIBus *bus, IRQLine *irq14, IRQLine *irq15,
                  const IDEDriveConfig drives[4])
{
    IDEState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    for (int i = 0; i < 4; i++) {
        s->handles[i] = -1;
    }
    for (int i = 0; i < 2; i++) {
        IDEChannel *c = &s->ch[i];
        c->s = s;
        c->index = i;
        c->irq = i == 0 ? irq14 : irq15;
        for (int u = 0; u < 2; u++) {
            const IDEDriveConfig *dc = &drives[i * 2 + u];
            IDEDrive *d = &c->drive[u];
            d->present = dc->present || dc->blk != NULL;
            d->atapi = dc->cdrom;
            c->blk[u] = dc->blk;
            if (d->present && !d->atapi) {
                d->sectors = dc->blk ? dc->blk->sectors : 0;
                drive_geometry(d);
            }
        }
    }
    PCIDevice *d = &s->pci;
    /* Class 01:01, programming interface 0x80: bus master, both channels in compatibility
     * mode (82371SB section 2.3 PI register). */
    pci_device_init(d, "piix3-ide", 0x8086, PIIX3_IDE_DEVICE_ID, 0, 0x010180, 0, 0);
    memset(&d->wmask[0x40], 0xFF, 0x4C - 0x40); /* IDETIM, SIDETIM, UDMACTL, UDMATIM */
    if (pci_register_bar(d, 4, PCI_BAR_IO, 16, &bm_ops, s, NULL, false) < 0 ||
        pci_bus_add_device(bus, d, PIIX_DEVFN_IDE) < 0) {
        free(s);
        return NULL;
    }
    static const uint16_t bases[2] = {IDE_PRIMARY_BASE, IDE_SECONDARY_BASE};
    static const uint16_t ctls[2] = {IDE_PRIMARY_CTL, IDE_SECONDARY_CTL};
    for (int i = 0; i < 2; i++) {
        s->handles[2 * i] =
            port_map(&m->io, i ? "ide1" : "ide0", bases[i], 8, &cmd_ops, &s->ch[i]);
        s->handles[2 * i + 1] =
            port_map(&m->io, i ? "ide1-ctl" : "ide0-ctl", ctls[i], 1, &ctl_ops, &s->ch[i]);
    }
    if (s->handles[0] < 0 || s->handles[1] < 0 || s->handles[2] < 0 || s->handles[3] < 0 ||
        machine_add_reset(m, ide_reset, s) < 0 ||
        vmstate_register(&m->vmstate, "ide", &ide_vmstate, s) < 0) {
        for (int i = 0; i < 4; i++) {
            if (s->handles[i] >= 0) {
                port_unmap(&m->io, s->handles[i]);
            }
        }
        ide_free(s);
        return NULL;
    }
    ide_reset(s);
    return s;
}

void ide_free(IDEState *s)
{
    free(s);
}

int ide_cd_change_media(IDEState *s, int unit, BlockBackend *blk, bool force)
{
    if (unit < 0 || unit > 3) {
        return -EINVAL;
    }
    IDEChannel *c = &s->ch[unit / 2];
    IDEDrive *d = &c->drive[unit & 1];
    if (!d->present || !d->atapi) {
        return -EINVAL;
    }
    if (d->locked && !force) {
        return -EBUSY;
    }
    c->blk[unit & 1] = blk;
    d->tray_open = false;
    d->media_event = blk ? 2 : 3;
    d->unit_attention = true;
    return 0;
}
