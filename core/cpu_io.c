/* cpu_io.c: port I/O from the CPU with the I/O privilege checks (IOPL and the TSS I/O
 * permission bitmap, SDM Vol. 1, 19.5). */
#include "core/cpu_internal.h"

/* cpu_io_allowed: whether an access to [port, port+size) is permitted: always in real mode
 * and at CPL <= IOPL; otherwise (and always in V86) each port's bit in the 32-bit TSS's
 * bitmap must be clear and inside the TSS limit. */
bool cpu_io_allowed(CPUState *cpu, uint16_t port, unsigned size)
{
    if (!cpu_pe(cpu)) {
        return true;
    }
    int iopl = (cpu->eflags & EF_IOPL) >> 12;
    if (!cpu_v86(cpu) && cpu->cpl <= iopl) {
        return true;
    }
    unsigned type = cpu->tr.flags & 0xF;
    if ((type != 9 && type != 11) || cpu->tr.limit < 0x67) {
        return false;   /* a 16-bit TSS has no bitmap */
    }
    uint32_t base = cpu_ld_sys(cpu, cpu->tr.base + 0x66, 2);
    uint32_t off = base + (port >> 3);
    /* Two bytes are read because the bits of a word or dword port may span a byte edge. */
    if (off + 1 > cpu->tr.limit || off + 1 < off) {
        return false;
    }
    uint32_t bits = cpu_ld_sys(cpu, cpu->tr.base + off, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    return (bits & mask) == 0;
}

uint32_t cpu_in(CPUState *cpu, uint16_t port, unsigned size)
{
    if (!cpu_io_allowed(cpu, port, size)) {
        cpu_raise_gp(cpu, 0);
    }
    uint32_t v = port_read(cpu->io, port, size);
    if (log_enabled(cpu->log, LOG_IO)) {
        log_msg(cpu->log, LOG_IO, "io: in%c %04x -> %x\n", "bw?l"[size - 1], port, v);
    }
    return v;
}

void cpu_out(CPUState *cpu, uint16_t port, uint32_t val, unsigned size)
{
    if (!cpu_io_allowed(cpu, port, size)) {
        cpu_raise_gp(cpu, 0);
    }
    if (log_enabled(cpu->log, LOG_IO)) {
        log_msg(cpu->log, LOG_IO, "io: out%c %04x <- %x\n", "bw?l"[size - 1], port, val);
    }
    port_write(cpu->io, port, val, size);
}
