/* acpi_tables.c: the ACPI 1.0 tables (RSDP, RSDT, FADT, FACS, DSDT with \_S5) that let an OS
 * find the PIIX4 power-management block and power the machine off. Layouts: ACPI 1.0b, 5.2. */
#include "devices/pc/loader.h"

#include <string.h>

enum { ACPI_HDR_LEN = 36, FADT_LEN = 116, FACS_LEN = 64 };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return (uint8_t)(0 - sum);
}

/* acpi_header: the common 36-byte description header; checksum filled by acpi_finish. */
static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "ANYVM ", 6);
    memcpy(t + 16, "ANYVMPC ", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "AVM ", 4);
    put32(t + 32, 1);
}

static void acpi_finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, len);
}

uint32_t pc_build_acpi(MemMap *mem, const AcpiConfig *cfg)
{
    const uint32_t rsdp_at = LOADER_ACPI_BASE;
    const uint32_t rsdt_at = rsdp_at + 0x40;
    const uint32_t facs_at = rsdp_at + 0x80;   /* 64-byte aligned */
    const uint32_t fadt_at = rsdp_at + 0x100;
    const uint32_t dsdt_at = rsdp_at + 0x200;

    /* DSDT: Name (_S5, Package (4) {typ, typ, 0, 0}) in AML (ACPI 1.0b, 16.2). */
    const uint8_t aml[] = {
        0x08, '_', 'S', '5', '_',       /* NameOp "_S5_" */
        0x12, 0x08, 0x04,               /* PackageOp, PkgLength 8, NumElements 4 */
        0x0A, cfg->s5_slp_typ,          /* BytePrefix */
        0x0A, cfg->s5_slp_typ,
        0x00, 0x00,                     /* ZeroOp, ZeroOp */
    };
    uint8_t dsdt[ACPI_HDR_LEN + sizeof(aml)];
    memset(dsdt, 0, sizeof(dsdt));
    acpi_header(dsdt, "DSDT", sizeof(dsdt), 1);
    memcpy(dsdt + ACPI_HDR_LEN, aml, sizeof(aml));
    acpi_finish(dsdt, sizeof(dsdt));

    uint8_t facs[FACS_LEN];
    memset(facs, 0, sizeof(facs));
    memcpy(facs, "FACS", 4);
    put32(facs + 4, FACS_LEN);

    uint8_t fadt[FADT_LEN];
    memset(fadt, 0, sizeof(fadt));
    acpi_header(fadt, "FACP", FADT_LEN, 1);
    put32(fadt + 36, facs_at);
    put32(fadt + 40, dsdt_at);
    put16(fadt + 46, cfg->sci_irq);
    put32(fadt + 48, cfg->smi_cmd);
    fadt[52] = cfg->smi_cmd ? 0xF1 : 0;   /* ACPI_ENABLE */
    fadt[53] = cfg->smi_cmd ? 0xF0 : 0;   /* ACPI_DISABLE */
    put32(fadt + 56, cfg->pm_base);       /* PM1a_EVT_BLK */
    put32(fadt + 64, cfg->pm_base + 4u);  /* PM1a_CNT_BLK */
    put32(fadt + 76, cfg->pm_base + 8u);  /* PM_TMR_BLK */
    fadt[88] = 4;                         /* PM1_EVT_LEN */
    fadt[89] = 2;                         /* PM1_CNT_LEN */
    fadt[91] = 4;                         /* PM_TMR_LEN */
    put16(fadt + 96, 0xFFF);              /* P_LVL2_LAT: C2 not supported */
    put16(fadt + 98, 0xFFF);              /* P_LVL3_LAT: C3 not supported */
    fadt[108] = 0x32;                     /* CENTURY: the RTC's century byte */
    /* Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON absent as fixed features. */
    put32(fadt + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
    acpi_finish(fadt, FADT_LEN);

    uint8_t rsdt[ACPI_HDR_LEN + 4];
    memset(rsdt, 0, sizeof(rsdt));
    acpi_header(rsdt, "RSDT", sizeof(rsdt), 1);
    put32(rsdt + ACPI_HDR_LEN, fadt_at);
    acpi_finish(rsdt, sizeof(rsdt));

    uint8_t rsdp[20];
    memset(rsdp, 0, sizeof(rsdp));
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "ANYVM ", 6);
    rsdp[15] = 0; /* revision 0: ACPI 1.0 */
    put32(rsdp + 16, rsdt_at);
    rsdp[8] = acpi_checksum(rsdp, sizeof(rsdp));

    mem_write_buf(mem, rsdp_at, rsdp, sizeof(rsdp));
    mem_write_buf(mem, rsdt_at, rsdt, sizeof(rsdt));
    mem_write_buf(mem, facs_at, facs, sizeof(facs));
    mem_write_buf(mem, fadt_at, fadt, sizeof(fadt));
    mem_write_buf(mem, dsdt_at, dsdt, sizeof(dsdt));
    return rsdp_at;
}
