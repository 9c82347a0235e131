/* acpi_tables.c: the ACPI 1.0 tables (RSDP, RSDT, FADT, FACS, DSDT with \_S5) that let an OS
 * find the PIIX4 power-management block and power the machine off. Layouts: ACPI 1.0b, 5.2. */
#include "devices/pc/loader.h"

#include <assert.h>
#include <string.h>

#include "core/bytes.h"
#include "devices/pci.h"

enum { ACPI_HDR_LEN = 36, FADT_LEN = 116, FACS_LEN = 64 };


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
    le32_put(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "ANYVM ", 6);
    memcpy(t + 16, "ANYVMPC ", 8);
    le32_put(t + 24, 1);
    memcpy(t + 28, "AVM ", 4);
    le32_put(t + 32, 1);
}

static void acpi_finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, len);
}

/* Aml: a small AML byte-code builder. Packages and scopes are opened with aml_begin, which
 * reserves a 3-byte PkgLength, and closed with aml_end, which encodes the real length in 1-3
 * bytes (ACPI 1.0b 16.2.4) and moves the body down. The DSDT is built once at start-up from
 * constants, so an overflow of AML_MAX is a programming error. */
#define AML_MAX 4096

typedef struct Aml {
    uint8_t buf[AML_MAX];
    size_t len;
} Aml;

static void aml_init(Aml *a)
{
    a->len = 0;
}

static void aml_put(Aml *a, const uint8_t *p, size_t n)
{
    assert(a->len + n <= AML_MAX);
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void aml_byte(Aml *a, uint8_t v)
{
    aml_put(a, &v, 1);
}

/* aml_byte_const: Zero, One or BytePrefix v. */
static void aml_byte_const(Aml *a, uint8_t v)
{
    if (v <= 1) {
        aml_byte(a, v);
    } else {
        aml_put(a, (const uint8_t[]){0x0A, v}, 2);
    }
}

static void aml_dword_const(Aml *a, uint32_t v)
{
    aml_put(a, (const uint8_t[]){0x0C, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                                 (uint8_t)(v >> 24)}, 5);
}

/* aml_begin: emit op and room for a PkgLength; returns where the PkgLength starts. */
static size_t aml_begin(Aml *a, uint8_t op)
{
    aml_byte(a, op);
    size_t at = a->len;
    aml_put(a, (const uint8_t[]){0, 0, 0}, 3);
    return at;
}

static void aml_end(Aml *a, size_t at)
{
    size_t body = a->len - (at + 3);
    size_t total;
    uint8_t enc[3];
    int n;
    if (body + 1 < 0x40) {
        n = 1;
        total = body + 1;
        enc[0] = (uint8_t)total;
    } else if (body + 2 < 0x1000) {
        n = 2;
        total = body + 2;
        enc[0] = (uint8_t)(0x40 | (total & 0xF));
        enc[1] = (uint8_t)(total >> 4);
    } else {
        n = 3;
        total = body + 3;
        assert(total < 0x100000);
        enc[0] = (uint8_t)(0x80 | (total & 0xF));
        enc[1] = (uint8_t)(total >> 4);
        enc[2] = (uint8_t)(total >> 12);
    }
    memmove(a->buf + at + n, a->buf + at + 3, body);
    memcpy(a->buf + at, enc, (size_t)n);
    a->len = at + (size_t)n + body;
}

uint32_t pc_build_acpi(MemMap *mem, const AcpiConfig *cfg)
{
    const uint32_t rsdp_at = LOADER_ACPI_BASE;
    const uint32_t rsdt_at = rsdp_at + 0x40;
    const uint32_t facs_at = rsdp_at + 0x80;   /* 64-byte aligned */
    const uint32_t fadt_at = rsdp_at + 0x100;
    const uint32_t dsdt_at = rsdp_at + 0x200;

    /* DSDT: \_S5 and the PCI root bridge (AML: ACPI 1.0b section 16). */
    Aml aml;
    aml_init(&aml);
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'S', '5', '_'}, 5); /* NameOp "_S5_" */
    size_t pkg = aml_begin(&aml, 0x12);                              /* PackageOp */
    aml_byte(&aml, 4);                                               /* NumElements */
    aml_byte_const(&aml, cfg->s5_slp_typ);
    aml_byte_const(&aml, cfg->s5_slp_typ);
    aml_byte_const(&aml, 0);
    aml_byte_const(&aml, 0);
    aml_end(&aml, pkg);
    size_t scope = aml_begin(&aml, 0x10);                            /* ScopeOp \_SB_ */
    aml_put(&aml, (const uint8_t[]){'\\', '_', 'S', 'B', '_'}, 5);
    aml_byte(&aml, 0x5B);                                            /* DeviceOp */
    size_t dev = aml_begin(&aml, 0x82);
    aml_put(&aml, (const uint8_t[]){'P', 'C', 'I', '0'}, 4);
    /* Name (_HID, EisaId ("PNP0A03")): the PCI host bridge. */
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03}, 10);
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'A', 'D', 'R', 0x00}, 6);
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'U', 'I', 'D', 0x00}, 6);
    /* Name (_CRS, ResourceTemplate ()): what the root bridge decodes, so the OS can claim the
     * BARs the firmware assigned and the legacy IDE ports: bus 0-255, CONFADD/CONFDATA, I/O
     * around them, the VGA window and the PCI memory window above the largest RAM (the
     * board's 3.5 GiB limit) up to the I/O APIC (large descriptors: ACPI 1.0b 6.4.3). */
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'C', 'R', 'S'}, 5);
    size_t crs = aml_begin(&aml, 0x11);                              /* BufferOp */
    static const uint8_t crs_body[] = {
        /* WordBusNumber: producer, min/max fixed, 0x00-0xFF */
        0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00,
        0x00, 0x01,
        /* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
        0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08,
        /* WordIO 0x0000-0x0CF7 and 0x0D00-0xFFFF: producer, fixed, entire range */
        0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x00, 0xF7, 0x0C, 0x00, 0x00,
        0xF8, 0x0C,
        0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF, 0x00, 0x00,
        0x00, 0xF3,
        /* DWordMemory 0xA0000-0xBFFFF (VGA): producer, fixed, read/write */
        0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00,
        0xFF, 0xFF, 0x0B, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        /* DWordMemory 0xE0000000-0xFEBFFFFF: the PCI memory window (bios/pci.S) */
        0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0,
        0xFF, 0xFF, 0xBF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x1E,
        /* EndTag */
        0x79, 0x00,
    };
    aml_put(&aml, (const uint8_t[]){0x0A, (uint8_t)sizeof(crs_body)}, 2); /* BufferSize */
    aml_put(&aml, crs_body, sizeof(crs_body));
    aml_end(&aml, crs);
    /* Name (_PRT, Package () { Package () {0xSSSSFFFF, pin, 0, IRQ}, ... }): every slot's
     * INTA-D as the PIIX routes them (devices/pci.c pci_slot_pirq), as static ISA IRQs. */
    aml_put(&aml, (const uint8_t[]){0x08, '_', 'P', 'R', 'T'}, 5);
    size_t prt = aml_begin(&aml, 0x12);
    aml_byte(&aml, 31 * 4);
    for (unsigned slot = 1; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            size_t e = aml_begin(&aml, 0x12);
            aml_byte(&aml, 4);
            aml_dword_const(&aml, slot << 16 | 0xFFFF);
            aml_byte_const(&aml, (uint8_t)pin);
            aml_byte_const(&aml, 0);
            uint8_t irq = cfg->pirq_irq ? cfg->pirq_irq[pci_slot_pirq(slot, pin + 1)] : 0;
            aml_byte_const(&aml, irq);
            aml_end(&aml, e);
        }
    }
    aml_end(&aml, prt);
    aml_end(&aml, dev);
    aml_end(&aml, scope);

    uint8_t dsdt[ACPI_HDR_LEN + AML_MAX];
    size_t dsdt_len = ACPI_HDR_LEN + aml.len;
    memset(dsdt, 0, sizeof(dsdt));
    acpi_header(dsdt, "DSDT", (uint32_t)dsdt_len, 1);
    memcpy(dsdt + ACPI_HDR_LEN, aml.buf, aml.len);
    acpi_finish(dsdt, (uint32_t)dsdt_len);

    uint8_t facs[FACS_LEN];
    memset(facs, 0, sizeof(facs));
    memcpy(facs, "FACS", 4);
    le32_put(facs + 4, FACS_LEN);

    uint8_t fadt[FADT_LEN];
    memset(fadt, 0, sizeof(fadt));
    acpi_header(fadt, "FACP", FADT_LEN, 1);
    le32_put(fadt + 36, facs_at);
    le32_put(fadt + 40, dsdt_at);
    le16_put(fadt + 46, cfg->sci_irq);
    le32_put(fadt + 48, cfg->smi_cmd);
    fadt[52] = cfg->smi_cmd ? 0xF1 : 0;   /* ACPI_ENABLE */
    fadt[53] = cfg->smi_cmd ? 0xF0 : 0;   /* ACPI_DISABLE */
    le32_put(fadt + 56, cfg->pm_base);       /* PM1a_EVT_BLK */
    le32_put(fadt + 64, cfg->pm_base + 4u);  /* PM1a_CNT_BLK */
    le32_put(fadt + 76, cfg->pm_base + 8u);  /* PM_TMR_BLK */
    fadt[88] = 4;                         /* PM1_EVT_LEN */
    fadt[89] = 2;                         /* PM1_CNT_LEN */
    fadt[91] = 4;                         /* PM_TMR_LEN */
    le16_put(fadt + 96, 0xFFF);              /* P_LVL2_LAT: C2 not supported */
    le16_put(fadt + 98, 0xFFF);              /* P_LVL3_LAT: C3 not supported */
    fadt[108] = 0x32;                     /* CENTURY: the RTC's century byte */
    /* Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON absent as fixed features. */
    le32_put(fadt + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
    acpi_finish(fadt, FADT_LEN);

    uint8_t rsdt[ACPI_HDR_LEN + 4];
    memset(rsdt, 0, sizeof(rsdt));
    acpi_header(rsdt, "RSDT", sizeof(rsdt), 1);
    le32_put(rsdt + ACPI_HDR_LEN, fadt_at);
    acpi_finish(rsdt, sizeof(rsdt));

    uint8_t rsdp[20];
    memset(rsdp, 0, sizeof(rsdp));
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "ANYVM ", 6);
    rsdp[15] = 0; /* revision 0: ACPI 1.0 */
    le32_put(rsdp + 16, rsdt_at);
    rsdp[8] = acpi_checksum(rsdp, sizeof(rsdp));

    mem_write_buf(mem, rsdp_at, rsdp, sizeof(rsdp));
    mem_write_buf(mem, rsdt_at, rsdt, sizeof(rsdt));
    mem_write_buf(mem, facs_at, facs, sizeof(facs));
    mem_write_buf(mem, fadt_at, fadt, sizeof(fadt));
    mem_write_buf(mem, dsdt_at, dsdt, dsdt_len);
    return rsdp_at;
}
