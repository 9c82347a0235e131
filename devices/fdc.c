/* fdc.c: 82077AA floppy disk controller (AT mode) with two 3.5"/5.25" drives.
 *
 * The controller moves through three phases (82077AA datasheet section 8): command bytes are
 * written to the FIFO while MSR shows RQM; the execution phase moves data by DMA channel 2 (or
 * through the FIFO in non-DMA mode); result bytes are read back while MSR shows RQM|DIO. Here
 * execution completes at once: a READ DATA moves every sector up to the DMA terminal count
 * (or EOT) as soon as its last command byte arrives, then the result phase starts and IRQ 6
 * rises. Example, reading C/H/S 0/0/1 of drive 0 into 0x7C00 with channel 2 programmed for
 * 512 bytes: out 0x3F5 six, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF (MT|MFM READ
 * DATA), then seven result bytes (ST0 ST1 ST2 C H R N) and ST0 = 0x00 for success.
 */
#include "devices/fdc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vmstate.h"

#define SECTOR 512u

/* ST0 (datasheet table 8-8). */
#define ST0_ABNORMAL 0x40
#define ST0_INVALID 0x80
#define ST0_SEEK_END 0x20
#define ST0_EQUIP_CHECK 0x10
#define ST0_NOT_READY 0x08
/* ST1 */
#define ST1_MA 0x01 /* missing address mark */
#define ST1_NW 0x02 /* not writable */
#define ST1_ND 0x04 /* no data */
#define ST1_OR 0x10 /* overrun / DMA not served */
#define ST1_EN 0x80 /* end of cylinder */
/* ST3 */
#define ST3_WP 0x40
#define ST3_READY 0x20
#define ST3_TRACK0 0x10
#define ST3_TWO_SIDE 0x08

#define DOR_NRESET 0x04
#define DOR_DMA_IRQ 0x08

#define CONFIG_DEFAULT 0x20 /* EFIFO set (FIFO disabled), polling enabled */
#define CONFIG_POLL_OFF 0x10

enum { PHASE_CMD, PHASE_EXEC, PHASE_RESULT };

static const FDCGeometry geometries[] = {
    {163840, 40, 1, 8, 1},   {184320, 40, 1, 9, 1},   {327680, 40, 2, 8, 1},
    {368640, 40, 2, 9, 1},   {737280, 80, 2, 9, 3},   {1228800, 80, 2, 15, 2},
    {1474560, 80, 2, 18, 4}, {1720320, 80, 2, 21, 4}, {2949120, 80, 2, 36, 5},
};

const FDCGeometry *fdc_geometry_for_size(uint64_t bytes)
{
    for (size_t i = 0; i < sizeof(geometries) / sizeof(geometries[0]); i++) {
        if (geometries[i].bytes == bytes) {
            return &geometries[i];
        }
    }
    return NULL;
}

typedef struct FDDrive {
    uint8_t tracks, heads, sectors, cmos_type;
    uint8_t track; /* present cylinder number */
    uint8_t head;
    bool changed; /* disk change line */
} FDDrive;

struct FDCState {
    Machine *m;
    IRQLine *irq;
    I8237 *dma;
    BlockBackend *blk[2];
    FDDrive drv[2];
    uint8_t dor, tdr, dsr;
    uint8_t phase;
    uint8_t cmd[10];
    uint8_t cmd_len, cmd_pos;
    uint8_t res[10];
    uint8_t res_len, res_pos;
    bool irq_pending;
    uint8_t sense_count; /* polling interrupts after reset still to sense */
    bool seek_done;      /* a seek/recalibrate result waits for SENSE INTERRUPT */
    uint8_t seek_st0, seek_pcn;
    uint8_t pcn[4];
    uint8_t srt_hut, hlt_nd;
    uint8_t config, pretrk, perp;
    bool lock;
    uint8_t eot_last;
    /* Non-DMA execution. */
    bool pio_write;
    uint32_t pos;
    uint8_t cur_c, cur_h, cur_r;
    uint8_t buf[SECTOR];
    int handles[2];
};

static const VMStateField fdd_fields[] = {
    VMSTATE_U8(FDDrive, tracks),    VMSTATE_U8(FDDrive, heads),
    VMSTATE_U8(FDDrive, sectors),   VMSTATE_U8(FDDrive, cmos_type),
    VMSTATE_U8(FDDrive, track),     VMSTATE_U8(FDDrive, head),
    VMSTATE_BOOL(FDDrive, changed), VMSTATE_END,
};

static const VMStateDesc fdd_vmstate = {.name = "fdd", .version = 1, .fields = fdd_fields};

static int fdc_post_load(void *opaque);

static const VMStateField fdc_fields[] = {
    VMSTATE_STRUCT_ARRAY(FDCState, drv, 2, fdd_vmstate, FDDrive),
    VMSTATE_U8(FDCState, dor),
    VMSTATE_U8(FDCState, tdr),
    VMSTATE_U8(FDCState, dsr),
    VMSTATE_U8(FDCState, phase),
    VMSTATE_U8_ARRAY(FDCState, cmd, 10),
    VMSTATE_U8(FDCState, cmd_len),
    VMSTATE_U8(FDCState, cmd_pos),
    VMSTATE_U8_ARRAY(FDCState, res, 10),
    VMSTATE_U8(FDCState, res_len),
    VMSTATE_U8(FDCState, res_pos),
    VMSTATE_BOOL(FDCState, irq_pending),
    VMSTATE_U8(FDCState, sense_count),
    VMSTATE_BOOL(FDCState, seek_done),
    VMSTATE_U8(FDCState, seek_st0),
    VMSTATE_U8(FDCState, seek_pcn),
    VMSTATE_U8_ARRAY(FDCState, pcn, 4),
    VMSTATE_U8(FDCState, srt_hut),
    VMSTATE_U8(FDCState, hlt_nd),
    VMSTATE_U8(FDCState, config),
    VMSTATE_U8(FDCState, pretrk),
    VMSTATE_U8(FDCState, perp),
    VMSTATE_BOOL(FDCState, lock),
    VMSTATE_U8(FDCState, eot_last),
    VMSTATE_BOOL(FDCState, pio_write),
    VMSTATE_U32(FDCState, pos),
    VMSTATE_U8(FDCState, cur_c),
    VMSTATE_U8(FDCState, cur_h),
    VMSTATE_U8(FDCState, cur_r),
    VMSTATE_BUFFER(FDCState, buf),
    VMSTATE_END,
};

static const VMStateDesc fdc_vmstate = {
    .name = "fdc",
    .version = 1,
    .fields = fdc_fields,
    .post_load = fdc_post_load,
};

/* Command lengths (command byte included) by the low five bits of the opcode; 0 = invalid. */
static const uint8_t cmd_lengths[32] = {
    [0x02] = 9, [0x03] = 3, [0x04] = 2, [0x05] = 9, [0x06] = 9, [0x07] = 2, [0x08] = 1,
    [0x09] = 9, [0x0A] = 2, [0x0C] = 9, [0x0D] = 6, [0x0E] = 1, [0x0F] = 3, [0x10] = 1,
    [0x11] = 9, [0x12] = 2, [0x13] = 4, [0x14] = 1, [0x16] = 9, [0x19] = 9, [0x1D] = 9,
};

static void update_irq(FDCState *f)
{
    if (f->irq) {
        irq_set(f->irq, f->irq_pending && (f->dor & DOR_DMA_IRQ));
    }
}

static void raise_irq(FDCState *f)
{
    f->irq_pending = true;
    update_irq(f);
}

static void lower_irq(FDCState *f)
{
    f->irq_pending = false;
    update_irq(f);
}

static void result(FDCState *f, const uint8_t *r, uint8_t n, bool irq)
{
    memcpy(f->res, r, n);
    f->res_len = n;
    f->res_pos = 0;
    f->phase = PHASE_RESULT;
    if (irq) {
        raise_irq(f);
    }
}

static void fdc_reset_controller(FDCState *f)
{
    f->phase = PHASE_CMD;
    f->cmd_pos = 0;
    f->res_len = f->res_pos = 0;
    f->seek_done = false;
    if (!f->lock) {
        f->config = CONFIG_DEFAULT;
        f->pretrk = 0;
    }
    f->perp &= 0x7F;
    lower_irq(f);
    if (!(f->config & CONFIG_POLL_OFF)) {
        /* Polling mode: one interrupt, then four SENSE INTERRUPT STATUS (one per drive). */
        f->sense_count = 4;
        raise_irq(f);
    }
}

static BlockBackend *drive_blk(FDCState *f, int n)
{
    return n < 2 ? f->blk[n] : NULL;
}

static uint8_t st0_for(uint8_t hds)
{
    return hds & 0x07;
}

/* next_address: the C/H/R after the last sector transferred (datasheet table 8-7). */
static void next_address(uint8_t *c, uint8_t *h, uint8_t *r, uint8_t eot, bool mt)
{
    if (*r != eot) {
        (*r)++;
        return;
    }
    *r = 1;
    if (mt && !(*h & 1)) {
        *h ^= 1;
        return;
    }
    if (mt) {
        *h ^= 1;
    }
    (*c)++;
}

static void rw_result(FDCState *f, uint8_t st0, uint8_t st1, uint8_t st2, uint8_t c, uint8_t h,
                      uint8_t r)
{
    uint8_t res[7] = {st0, st1, st2, c, h, r, f->cmd[5]};
    result(f, res, 7, true);
}

/* sector_lba: the LBA of C/H/R on drive n, or -1 when it does not exist on the medium. */
static int64_t sector_lba(FDCState *f, int n, uint8_t c, uint8_t h, uint8_t r)
{
    FDDrive *d = &f->drv[n];
    if (c >= d->tracks || h >= d->heads || r == 0 || r > d->sectors) {
        return -1;
    }
    return ((int64_t)c * d->heads + h) * d->sectors + (r - 1);
}

/* cmd_rw: READ DATA, WRITE DATA and VERIFY. */
static void cmd_rw(FDCState *f, bool write, bool verify)
{
    uint8_t hds = f->cmd[1];
    int n = hds & 3;
    bool mt = (f->cmd[0] & 0x80) != 0;
    uint8_t c = f->cmd[2], h = f->cmd[3], r = f->cmd[4], sz = f->cmd[5], eot = f->cmd[6];
    uint8_t st0 = st0_for(hds);
    f->eot_last = eot;
    BlockBackend *blk = drive_blk(f, n);
    if (!blk) {
        rw_result(f, st0 | ST0_ABNORMAL | ST0_NOT_READY, ST1_MA, 0, c, h, r);
        return;
    }
    if (write && blk->readonly) {
        rw_result(f, st0 | ST0_ABNORMAL, ST1_NW, 0, c, h, r);
        return;
    }
    if (sz != 2) {
        LOG_ONCE(&f->m->log, LOG_UNIMP, "fdc: sector size code %u (only 512 bytes)\n", sz);
        rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
        return;
    }
    f->drv[n].track = c;
    f->pcn[n] = c;
    if (!verify && (f->hlt_nd & 1)) {
        /* Non-DMA: the data goes through the FIFO sector by sector. */
        if (sector_lba(f, n, c, h, r) < 0) {
            rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
            return;
        }
        f->cur_c = c;
        f->cur_h = h;
        f->cur_r = r;
        f->pio_write = write;
        f->pos = 0;
        if (!write && blk_read(blk, (uint64_t)sector_lba(f, n, c, h, r), f->buf, 1) < 0) {
            rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
            return;
        }
        f->phase = PHASE_EXEC;
        raise_irq(f);
        return;
    }
    for (int guard = 0; guard < 256; guard++) {
        int64_t lba = sector_lba(f, n, c, h, r);
        if (lba < 0) {
            rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
            return;
        }
        bool tc = false;
        if (verify) {
            /* nothing moves */
        } else if (write) {
            size_t got = i8237_read_memory(f->dma, FDC_DMA_CHANNEL, f->buf, SECTOR, &tc);
            if (got < SECTOR) {
                rw_result(f, st0 | ST0_ABNORMAL, ST1_OR, 0, c, h, r);
                return;
            }
            if (blk_write(blk, (uint64_t)lba, f->buf, 1) < 0) {
                rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
                return;
            }
        } else {
            if (blk_read(blk, (uint64_t)lba, f->buf, 1) < 0) {
                rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, r);
                return;
            }
            size_t put = i8237_write_memory(f->dma, FDC_DMA_CHANNEL, f->buf, SECTOR, &tc);
            if (put < SECTOR && !tc) {
                rw_result(f, st0 | ST0_ABNORMAL, ST1_OR, 0, c, h, r);
                return;
            }
        }
        bool last = r == eot && (!mt || (h & 1));
        next_address(&c, &h, &r, eot, mt);
        if (tc) {
            rw_result(f, st0 | (uint8_t)((h & 1) << 2), 0, 0, c, h, r);
            return;
        }
        if (last) {
            /* EOT without terminal count: the controller ends with "end of cylinder". */
            rw_result(f, st0 | ST0_ABNORMAL, ST1_EN, 0, c, h, r);
            return;
        }
    }
    rw_result(f, st0 | ST0_ABNORMAL, ST1_EN, 0, c, h, r);
}

/* pio_sector_done: the FIFO moved a whole sector in non-DMA mode; go on until EOT. */
static void pio_sector_done(FDCState *f)
{
    int n = f->cmd[1] & 3;
    uint8_t st0 = st0_for(f->cmd[1]);
    BlockBackend *blk = drive_blk(f, n);
    int64_t lba = sector_lba(f, n, f->cur_c, f->cur_h, f->cur_r);
    if (!blk || lba < 0) {
        rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, f->cur_c, f->cur_h, f->cur_r);
        return;
    }
    if (f->pio_write && blk_write(blk, (uint64_t)lba, f->buf, 1) < 0) {
        rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, f->cur_c, f->cur_h, f->cur_r);
        return;
    }
    bool mt = (f->cmd[0] & 0x80) != 0;
    uint8_t eot = f->cmd[6];
    bool last = f->cur_r == eot && (!mt || (f->cur_h & 1));
    next_address(&f->cur_c, &f->cur_h, &f->cur_r, eot, mt);
    if (last) {
        /* Without a terminal count in non-DMA mode the transfer runs to EOT and ends
         * normally as far as the data goes. */
        rw_result(f, st0 | ST0_ABNORMAL, ST1_EN, 0, f->cur_c, f->cur_h, f->cur_r);
        return;
    }
    lba = sector_lba(f, n, f->cur_c, f->cur_h, f->cur_r);
    if (lba < 0 || (!f->pio_write && blk_read(blk, (uint64_t)lba, f->buf, 1) < 0)) {
        rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, f->cur_c, f->cur_h, f->cur_r);
        return;
    }
    f->pos = 0;
    raise_irq(f);
}

static void cmd_format(FDCState *f)
{
    uint8_t hds = f->cmd[1];
    int n = hds & 3;
    uint8_t st0 = st0_for(hds);
    uint8_t sz = f->cmd[2], sc = f->cmd[3], fill = f->cmd[5];
    uint8_t h = (hds >> 2) & 1;
    BlockBackend *blk = drive_blk(f, n);
    uint8_t c = f->drv[n < 2 ? n : 0].track;
    if (!blk) {
        rw_result(f, st0 | ST0_ABNORMAL | ST0_NOT_READY, ST1_MA, 0, c, h, 1);
        return;
    }
    if (blk->readonly) {
        rw_result(f, st0 | ST0_ABNORMAL, ST1_NW, 0, c, h, 1);
        return;
    }
    if (sz != 2 || (f->hlt_nd & 1)) {
        LOG_ONCE(&f->m->log, LOG_UNIMP, "fdc: FORMAT TRACK only with DMA and 512 bytes\n");
        rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, c, h, 1);
        return;
    }
    memset(f->buf, fill, SECTOR);
    uint8_t id[4] = {c, h, 1, sz};
    for (unsigned i = 0; i < sc; i++) {
        bool tc = false;
        if (i8237_read_memory(f->dma, FDC_DMA_CHANNEL, id, 4, &tc) < 4) {
            rw_result(f, st0 | ST0_ABNORMAL, ST1_OR, 0, c, h, 1);
            return;
        }
        int64_t lba = sector_lba(f, n, id[0], id[1], id[2]);
        if (lba < 0 || blk_write(blk, (uint64_t)lba, f->buf, 1) < 0) {
            rw_result(f, st0 | ST0_ABNORMAL, ST1_ND, 0, id[0], id[1], id[2]);
            return;
        }
        if (tc) {
            break;
        }
    }
    rw_result(f, st0 | (uint8_t)(h << 2), 0, 0, id[0], id[1], id[2]);
}

static void seek_finish(FDCState *f, int n, uint8_t track, uint8_t hds)
{
    uint8_t st0 = ST0_SEEK_END | st0_for(hds);
    if (n >= 2) {
        st0 |= ST0_ABNORMAL | ST0_EQUIP_CHECK; /* no such drive: track 0 never found */
    } else {
        FDDrive *d = &f->drv[n];
        d->track = track;
        d->head = (hds >> 2) & 1;
        if (drive_blk(f, n)) {
            d->changed = false; /* a step pulse with a disk in clears the change line */
        }
    }
    f->pcn[n] = track;
    f->seek_done = true;
    f->seek_st0 = st0;
    f->seek_pcn = track;
    f->phase = PHASE_CMD;
    raise_irq(f);
}

static void execute(FDCState *f)
{
    uint8_t op = f->cmd[0] & 0x1F;
    f->cmd_pos = 0;
    switch (op) {
    case 0x03: /* SPECIFY */
        f->srt_hut = f->cmd[1];
        f->hlt_nd = f->cmd[2];
        f->phase = PHASE_CMD;
        return;
    case 0x04: { /* SENSE DRIVE STATUS */
        int n = f->cmd[1] & 3;
        uint8_t st3 = (uint8_t)(f->cmd[1] & 7) | ST3_READY | ST3_TWO_SIDE;
        if (n < 2 && f->drv[n].track == 0) {
            st3 |= ST3_TRACK0;
        }
        if (n < 2 && f->blk[n] && f->blk[n]->readonly) {
            st3 |= ST3_WP;
        }
        result(f, &st3, 1, false);
        return;
    }
    case 0x05: /* WRITE DATA */
        cmd_rw(f, true, false);
        return;
    case 0x06: /* READ DATA */
        cmd_rw(f, false, false);
        return;
    case 0x16: /* VERIFY */
        cmd_rw(f, false, true);
        return;
    case 0x07: /* RECALIBRATE */
        seek_finish(f, f->cmd[1] & 3, 0, f->cmd[1] & 3);
        return;
    case 0x08: { /* SENSE INTERRUPT STATUS */
        lower_irq(f);
        if (f->sense_count) {
            int n = 4 - f->sense_count--;
            uint8_t r[2] = {(uint8_t)(0xC0 | n), f->pcn[n]};
            result(f, r, 2, false);
        } else if (f->seek_done) {
            f->seek_done = false;
            uint8_t r[2] = {f->seek_st0, f->seek_pcn};
            result(f, r, 2, false);
        } else {
            uint8_t r = ST0_INVALID;
            result(f, &r, 1, false);
        }
        return;
    }
    case 0x0A: { /* READ ID */
        int n = f->cmd[1] & 3;
        uint8_t h = (f->cmd[1] >> 2) & 1;
        uint8_t c = n < 2 ? f->drv[n].track : 0;
        if (!drive_blk(f, n)) {
            rw_result(f, st0_for(f->cmd[1]) | ST0_ABNORMAL | ST0_NOT_READY, ST1_MA, 0, c, h, 1);
            return;
        }
        f->cmd[5] = 2;
        rw_result(f, st0_for(f->cmd[1]), 0, 0, c, h, 1);
        return;
    }
    case 0x0D: /* FORMAT TRACK */
        cmd_format(f);
        return;
    case 0x0E: { /* DUMPREG */
        uint8_t r[10] = {
            f->pcn[0],  f->pcn[1], f->pcn[2],   f->pcn[3],
            f->srt_hut, f->hlt_nd, f->eot_last, (uint8_t)((f->lock ? 0x80 : 0) | (f->perp & 0x7F)),
            f->config,  f->pretrk};
        result(f, r, 10, false);
        return;
    }
    case 0x0F: /* SEEK (bit 7: relative seek, bit 6 its direction) */
        if (f->cmd[0] & 0x80) {
            int n = f->cmd[1] & 3;
            int t = f->pcn[n] + ((f->cmd[0] & 0x40) ? f->cmd[2] : -(int)f->cmd[2]);
            seek_finish(f, n, (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t), f->cmd[1]);
        } else {
            seek_finish(f, f->cmd[1] & 3, f->cmd[2], f->cmd[1]);
        }
        return;
    case 0x10: { /* VERSION */
        uint8_t r = 0x90;
        result(f, &r, 1, false);
        return;
    }
    case 0x12: /* PERPENDICULAR MODE */
        if (f->cmd[1] & 0x80) {
            f->perp = f->cmd[1] & 0x7F;
        } else {
            f->perp = (uint8_t)((f->perp & 0x3C) | (f->cmd[1] & 0x03));
        }
        f->phase = PHASE_CMD;
        return;
    case 0x13: /* CONFIGURE */
        f->config = f->cmd[2];
        f->pretrk = f->cmd[3];
        f->phase = PHASE_CMD;
        return;
    case 0x14: { /* LOCK / UNLOCK */
        f->lock = (f->cmd[0] & 0x80) != 0;
        uint8_t r = (uint8_t)(f->lock ? 0x10 : 0);
        result(f, &r, 1, false);
        return;
    }
    default: {
        LOG_ONCE(&f->m->log, LOG_UNIMP, "fdc: command 0x%02x not implemented\n", f->cmd[0]);
        uint8_t r = ST0_INVALID;
        result(f, &r, 1, false);
        return;
    }
    }
}

static void fifo_write(FDCState *f, uint8_t v)
{
    if (!(f->dor & DOR_NRESET)) {
        return;
    }
    if (f->phase == PHASE_EXEC) {
        if (f->pio_write && f->pos < SECTOR) {
            f->buf[f->pos++] = v;
            lower_irq(f);
            if (f->pos == SECTOR) {
                pio_sector_done(f);
            }
        }
        return;
    }
    if (f->phase == PHASE_RESULT) {
        /* A command byte during the result phase: the controller discards the results. */
        f->phase = PHASE_CMD;
        f->cmd_pos = 0;
    }
    if (f->cmd_pos == 0) {
        uint8_t len = cmd_lengths[v & 0x1F];
        /* VERSION, DUMPREG and LOCK need exact opcodes; READ ID is 0x0A|MFM. */
        if ((v & 0x1F) == 0x10 && v != 0x10) {
            len = 0;
        }
        if (len == 0) {
            f->cmd[0] = v;
            LOG_ONCE(&f->m->log, LOG_GUEST_ERROR, "fdc: invalid command 0x%02x\n", v);
            uint8_t r = ST0_INVALID;
            result(f, &r, 1, false);
            return;
        }
        if (v != 0x08) {
            lower_irq(f);
        }
        f->cmd_len = (v & 0x1F) == 0x0F && (v & 0x80) ? 3 : len;
    }
    f->cmd[f->cmd_pos++] = v;
    if (f->cmd_pos >= f->cmd_len) {
        f->phase = PHASE_EXEC;
        execute(f);
    }
}

static uint8_t fifo_read(FDCState *f)
{
    if (f->phase == PHASE_EXEC && !f->pio_write && f->pos < SECTOR) {
        uint8_t v = f->buf[f->pos++];
        lower_irq(f);
        if (f->pos == SECTOR) {
            pio_sector_done(f);
        }
        return v;
    }
    if (f->phase != PHASE_RESULT) {
        return 0xFF;
    }
    uint8_t v = f->res[f->res_pos++];
    lower_irq(f);
    if (f->res_pos >= f->res_len) {
        f->phase = PHASE_CMD;
        f->res_len = f->res_pos = 0;
    }
    return v;
}

static uint8_t msr(const FDCState *f)
{
    if (!(f->dor & DOR_NRESET)) {
        return 0;
    }
    switch (f->phase) {
    case PHASE_RESULT:
        return FDC_MSR_RQM | FDC_MSR_DIO | FDC_MSR_CB;
    case PHASE_EXEC:
        return FDC_MSR_RQM | FDC_MSR_NDMA | FDC_MSR_CB | (f->pio_write ? 0 : FDC_MSR_DIO);
    default:
        return FDC_MSR_RQM | (f->cmd_pos ? FDC_MSR_CB : 0);
    }
}

static uint64_t fdc_read(void *opaque, uint64_t addr, unsigned size)
{
    FDCState *f = opaque;
    switch (addr) {
    case FDC_SRA:
    case FDC_SRB:
        return 0xFF; /* PS/2 registers: not decoded in AT mode */
    case FDC_DOR:
        return f->dor;
    case FDC_TDR:
        return f->tdr;
    case FDC_MSR:
        return msr(f);
    case FDC_FIFO:
        return fifo_read(f);
    case FDC_DIR: {
        int n = f->dor & 3;
        return (n < 2 && f->drv[n].changed) ? 0x80 : 0x00;
    }
    default:
        return 0xFF;
    }
}

static void fdc_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    FDCState *f = opaque;
    uint8_t v = (uint8_t)val;
    switch (addr) {
    case FDC_DOR: {
        uint8_t old = f->dor;
        f->dor = v;
        if (!(v & DOR_NRESET)) {
            f->phase = PHASE_CMD;
            f->cmd_pos = 0;
            lower_irq(f);
        } else if (!(old & DOR_NRESET)) {
            fdc_reset_controller(f);
        }
        update_irq(f);
        break;
    }
    case FDC_TDR:
        f->tdr = v & 3;
        break;
    case FDC_MSR: /* DSR */
        f->dsr = v & 0x7F;
        if (v & 0x80) {
            fdc_reset_controller(f);
        }
        break;
    case FDC_FIFO:
        fifo_write(f, v);
        break;
    case FDC_DIR: /* CCR: the data rate; every rate reads every medium here */
        f->dsr = (uint8_t)((f->dsr & ~3) | (v & 3));
        break;
    default:
        break;
    }
}

static const IOOps fdc_ops = {
    .read = fdc_read,
    .write = fdc_write,
    .min_access = 1,
    .max_access = 1,
};

/* 0x3F7 is mapped on its own (0x3F6 belongs to the IDE controller). */
static uint64_t fdc_dir_read(void *opaque, uint64_t addr, unsigned size)
{
    return fdc_read(opaque, FDC_DIR, size);
}

static void fdc_ccr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    fdc_write(opaque, FDC_DIR, val, size);
}

static const IOOps fdc_dir_ops = {
    .read = fdc_dir_read,
    .write = fdc_ccr_write,
    .min_access = 1,
    .max_access = 1,
};

static void fdc_reset(void *opaque)
{
    FDCState *f = opaque;
    f->lock = false;
    f->dor = DOR_NRESET | DOR_DMA_IRQ;
    f->tdr = 0;
    f->dsr = 0;
    f->srt_hut = f->hlt_nd = 0;
    f->perp = 0;
    f->eot_last = 0;
    memset(f->pcn, 0, sizeof(f->pcn));
    for (int i = 0; i < 2; i++) {
        f->drv[i].track = 0;
        f->drv[i].head = 0;
    }
    fdc_reset_controller(f);
}

static int fdc_post_load(void *opaque)
{
    FDCState *f = opaque;
    if (f->cmd_len > sizeof(f->cmd) || f->cmd_pos > f->cmd_len) {
        f->cmd_pos = 0;
        f->cmd_len = 1;
    }
    if (f->res_len > sizeof(f->res) || f->res_pos > f->res_len) {
        f->res_len = f->res_pos = 0;
        f->phase = PHASE_CMD;
    }
    if (f->pos > SECTOR) {
        f->pos = SECTOR;
    }
    if (f->phase > PHASE_RESULT) {
        f->phase = PHASE_CMD;
    }
    update_irq(f);
    return 0;
}

static int set_media(FDCState *f, int n, BlockBackend *blk)
{
    FDDrive *d = &f->drv[n];
    if (blk) {
        const FDCGeometry *g = fdc_geometry_for_size(blk->sectors * BLK_SECTOR_SIZE);
        if (!g) {
            return -EINVAL;
        }
        d->tracks = g->tracks;
        d->heads = g->heads;
        d->sectors = g->sectors;
        d->cmos_type = g->cmos_type;
    }
    f->blk[n] = blk;
    d->changed = true;
    return 0;
}

FDCState *fdc_new(Machine *m, IRQLine *irq, I8237 *dma, BlockBackend *drives[2])
{
    FDCState *f = calloc(1, sizeof(*f));
    if (!f) {
        return NULL;
    }
    f->m = m;
    f->irq = irq;
    f->dma = dma;
    for (int i = 0; i < 2; i++) {
        if (drives[i] && set_media(f, i, drives[i]) < 0) {
            free(f);
            return NULL;
        }
    }
    f->handles[0] = port_map(&m->io, "fdc", FDC_BASE, 6, &fdc_ops, f);
    f->handles[1] = port_map(&m->io, "fdc-dir", FDC_BASE + 7, 1, &fdc_dir_ops, f);
    if (f->handles[0] < 0 || f->handles[1] < 0 || machine_add_reset(m, fdc_reset, f) < 0 ||
        vmstate_register(&m->vmstate, "fdc", &fdc_vmstate, f) < 0) {
        for (int i = 0; i < 2; i++) {
            if (f->handles[i] >= 0) {
                port_unmap(&m->io, f->handles[i]);
            }
        }
        free(f);
        return NULL;
    }
    fdc_reset(f);
    return f;
}

void fdc_free(FDCState *f)
{
    free(f);
}

int fdc_change_media(FDCState *f, int n, BlockBackend *blk)
{
    if (n < 0 || n > 1) {
        return -EINVAL;
    }
    return set_media(f, n, blk);
}

uint8_t fdc_cmos_type(const FDCState *f, int n)
{
    if (n < 0 || n > 1) {
        return 0;
    }
    return f->blk[n] ? f->drv[n].cmos_type : 0;
}
