/* disasm.c: Capstone disassembly of guest code for -d in_asm, the monitor and traces. */
#include "translate/decode.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct X86Disasm {
    csh h16;
    csh h32;
};

X86Disasm *x86_disasm_new(void)
{
    X86Disasm *dis = calloc(1, sizeof(*dis));
    if (!dis) {
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &dis->h16) != CS_ERR_OK) {
        free(dis);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &dis->h32) != CS_ERR_OK) {
        cs_close(&dis->h16);
        free(dis);
        return NULL;
    }
    return dis;
}

void x86_disasm_free(X86Disasm *dis)
{
    if (!dis) {
        return;
    }
    cs_close(&dis->h16);
    cs_close(&dis->h32);
    free(dis);
}

/* disasm_one: one instruction with an open handle. */
static int disasm_one(csh handle, const uint8_t *bytes, unsigned avail, uint32_t addr, char *buf,
                      unsigned buflen)
{
    cs_insn *insn = NULL;
    size_t n = cs_disasm(handle, bytes, avail, addr, 1, &insn);
    int len = 0;
    if (n == 1) {
        snprintf(buf, buflen, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
        len = (int)insn->size;
    } else {
        snprintf(buf, buflen, "(bad)");
    }
    if (insn) {
        cs_free(insn, n);
    }
    return len;
}

int x86_disasm_with(X86Disasm *dis, const uint8_t *bytes, unsigned avail, uint32_t addr,
                    bool code32, char *buf, unsigned buflen)
{
    if (!dis) {
        snprintf(buf, buflen, "(capstone unavailable)");
        return 0;
    }
    return disasm_one(code32 ? dis->h32 : dis->h16, bytes, avail, addr, buf, buflen);
}

int x86_disasm(const uint8_t *bytes, unsigned avail, uint32_t addr, bool code32, char *buf,
               unsigned buflen)
{
    csh handle;
    if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &handle) != CS_ERR_OK) {
        snprintf(buf, buflen, "(capstone unavailable)");
        return 0;
    }
    int len = disasm_one(handle, bytes, avail, addr, buf, buflen);
    cs_close(&handle);
    return len;
}
