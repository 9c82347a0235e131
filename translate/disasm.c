/* disasm.c: Capstone disassembly of guest code for -d in_asm, the monitor and traces. */
#include "translate/decode.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

int x86_disasm(const uint8_t *bytes, unsigned avail, uint32_t addr, bool code32, char *buf,
               unsigned buflen)
{
    csh handle;
    if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &handle) != CS_ERR_OK) {
        snprintf(buf, buflen, "(capstone unavailable)");
        return 0;
    }
    cs_insn *insn = NULL;
    size_t n = cs_disasm(handle, bytes, avail, addr, 1, &insn);
    int len = 0;
    if (n == 1) {
        snprintf(buf, buflen, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
                 insn->op_str);
        len = (int)insn->size;
        cs_free(insn, n);
    } else {
        snprintf(buf, buflen, "(bad)");
    }
    cs_close(&handle);
    return len;
}
