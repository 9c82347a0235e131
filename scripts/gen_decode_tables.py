#!/usr/bin/env python3
# gen_decode_tables.py: turns translate/decode_opcodes.txt into the decoder's C tables.
#
# Run by CMake at build time (translate/CMakeLists.txt); the output is never committed.
# Usage: gen_decode_tables.py INPUT.txt OUTPUT.inc
#
# The output defines, for translate/decode.c (which declares DecodeEntry and the DK_/IMM_/A_
# constants before including it):
#   decode_map[4][256]        one entry per opcode byte of the one-byte, 0F, 0F38, 0F3A maps
#   decode_groups[G][16]      ModRM.reg-selected members: [0..7] memory forms, [8..15] register
#   decode_simd[S][4]         SIMD-space opcodes by mandatory prefix: none, 66, F3, F2
#   decode_x87_reg[8][2]      bitmap (64 bits as two halves) of valid D8-DF register forms
#   decode_*_names            mnemonics parallel to the tables above (diagnostics only)
import re
import sys

MAPS = {"": 0, "0F": 1, "0F38": 2, "0F3A": 3}
PFX = {"np": 0, "66": 1, "F3": 2, "F2": 3}
MODRM_METHODS = set("EGMRSCDPQNVWU")
IMM_TOKENS = {"Ib": "IMM_IB", "Ibs": "IMM_IBS", "Iw": "IMM_IW", "Iz": "IMM_IZ",
              "Jb": "IMM_IBS", "Jz": "IMM_JZ", "Ap": "IMM_FAR", "Ob": "IMM_MOFFS",
              "Ov": "IMM_MOFFS"}
PREFIX_KINDS = ["es", "cs", "ss", "ds", "fs", "gs", "opsize", "adsize", "lock", "repne", "rep"]

OPC_RE = re.compile(r"^((?:0F(?:38|3A)?)?)([0-9A-F]{2})"
                    r"(?:-((?:0F(?:38|3A)?)?)([0-9A-F]{2}))?(?:/([0-7])([mr]?)|([mr]))?$")
X87_RE = re.compile(r"^(D[89A-F]):([0-9A-F]{2})(?:-([0-9A-F]{2}))?$")


class Error(Exception):
    pass


class Insn:
    """One decodable form: what the decoder needs (imm kind, attributes) plus a name."""

    def __init__(self, name, operands, tags, where):
        self.name = name
        self.imm = "IMM_NONE"
        self.attrs = set()
        self.prefix_kind = None
        self.escape = False
        imms = []
        for op in operands:
            if op in IMM_TOKENS:
                imms.append(op)
            elif re.match(r"^[A-Z][a-z0-9]*$", op):
                method = op[0]
                if method == "Z":
                    continue                 # register in the opcode's low bits
                if method not in MODRM_METHODS:
                    raise Error(f"{where}: unknown addressing method {op}")
                self.attrs.add("A_MODRM")
                if method == "M":
                    self.attrs.add("A_MEM")
                elif method in "RNU":
                    self.attrs.add("A_REG")
                if method in "PQN":
                    self.attrs.add("A_MMX")
                elif method in "VWU":
                    self.attrs.add("A_SSE")
            elif op in ("1", "st", "sti", "eAX") or re.match(r"^[A-Z]{2,3}$", op):
                continue                     # implicit operand
            else:
                raise Error(f"{where}: unknown operand {op}")
        if len(imms) == 1:
            self.imm = IMM_TOKENS[imms[0]]
        elif imms == ["Iw", "Ib"]:
            self.imm = "IMM_ENTER"
        elif imms:
            raise Error(f"{where}: unsupported immediate combination {imms}")
        for tag in tags:
            if tag == "lock":
                self.attrs.add("A_LOCK")
            elif tag == "anymod":
                self.attrs.add("A_ANYMOD")
            elif tag == "mmx":
                self.attrs.add("A_MMX")
            elif tag == "sse":
                self.attrs.add("A_SSE")
            elif tag == "escape":
                self.escape = True
            elif tag.startswith("prefix="):
                kind = tag[len("prefix="):]
                if kind not in PREFIX_KINDS:
                    raise Error(f"{where}: unknown prefix kind {kind}")
                self.prefix_kind = kind
            else:
                raise Error(f"{where}: unknown tag {tag}")
        if "A_MEM" in self.attrs and "A_REG" in self.attrs:
            raise Error(f"{where}: operand is both memory-only and register-only")
        if "A_ANYMOD" in self.attrs:
            self.attrs.discard("A_REG")

    def entry(self, kind="DK_INSN", sub=0, extra=()):
        attrs = sorted(self.attrs | set(extra))
        return (kind, self.imm, "|".join(attrs) if attrs else "0", sub)


class Tables:
    def __init__(self):
        self.plain = {}        # (map, op) -> Insn
        self.groups = {}       # (map, op, pfx or None) -> [16 Insn or None]
        self.simd = {}         # (map, op) -> {pfx: Insn}
        self.x87reg = {}       # op -> [64 names or None]

    def add(self, opc, pfx, name, operands, tags, where):
        m = X87_RE.match(opc)
        if m:
            if pfx != "-":
                raise Error(f"{where}: x87 forms take no SIMD prefix")
            op = int(m.group(1), 16)
            lo = int(m.group(2), 16)
            hi = int(m.group(3), 16) if m.group(3) else lo
            if lo < 0xC0 or hi < lo:
                raise Error(f"{where}: bad x87 register range")
            slots = self.x87reg.setdefault(op, [None] * 64)
            for b in range(lo, hi + 1):
                if slots[b - 0xC0]:
                    raise Error(f"{where}: duplicate x87 form {op:02X} {b:02X}")
                slots[b - 0xC0] = name
            return
        m = OPC_RE.match(opc)
        if not m:
            raise Error(f"{where}: bad opcode {opc}")
        mp = MAPS[m.group(1)]
        lo = int(m.group(2), 16)
        hi = lo
        if m.group(4):
            if (m.group(3) or "") != m.group(1):
                raise Error(f"{where}: range crosses maps")
            hi = int(m.group(4), 16)
        if pfx != "-" and pfx not in PFX:
            raise Error(f"{where}: bad prefix column {pfx}")
        insn = Insn(name, operands, tags, where)
        for op in range(lo, hi + 1):
            key = (mp, op)
            if m.group(5) is not None or m.group(7):
                # "/n", "/nm", "/nr": one group member; bare "m"/"r": a form for every reg.
                regs = [int(m.group(5))] if m.group(5) is not None else range(8)
                form = m.group(6) if m.group(5) is not None else m.group(7)
                gkey = (mp, op, None if pfx == "-" else PFX[pfx])
                slots = self.groups.setdefault(gkey, [None] * 16)
                targets = []
                for reg in regs:
                    if form in ("", "m") and "A_REG" not in insn.attrs:
                        targets.append(reg)
                    if form in ("", "r") and "A_MEM" not in insn.attrs:
                        targets.append(8 + reg)
                for t in targets:
                    if slots[t]:
                        raise Error(f"{where}: duplicate group member")
                    slots[t] = insn
                if pfx != "-":
                    self.simd.setdefault(key, {})[PFX[pfx]] = ("group", gkey)
                continue
            if pfx != "-":
                d = self.simd.setdefault(key, {})
                if PFX[pfx] in d:
                    raise Error(f"{where}: duplicate SIMD form")
                d[PFX[pfx]] = insn
            else:
                if key in self.plain:
                    raise Error(f"{where}: duplicate opcode")
                self.plain[key] = insn


def parse(path):
    t = Tables()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = line.split()
            if len(cols) < 4:
                raise Error(f"{path}:{n}: expected OPCODE PREFIX MNEMONIC OPERANDS [TAGS]")
            opc, pfx, name, ops = cols[:4]
            operands = [] if ops == "-" else ops.split(",")
            t.add(opc, pfx, name, operands, cols[4:], f"{path}:{n}")
    return t


def c_entry(e):
    return "{%s, %s, %s, %s}" % e


INVALID = ("DK_INVALID", "IMM_NONE", "0", 0)


def build(t):
    group_list = []             # list of (entries[16], names[16])
    group_index = {}
    simd_list = []              # list of (entries[4], names[4])

    def group_id(gkey):
        if gkey not in group_index:
            slots = t.groups[gkey]
            ents = [s.entry() if s else INVALID for s in slots]
            names = [s.name if s else None for s in slots]
            group_index[gkey] = len(group_list)
            group_list.append((ents, names))
        return group_index[gkey]

    def group_attrs(gkey):
        members = [s for s in t.groups[gkey] if s]
        attrs = ["A_MODRM"]
        if members and all("A_ANYMOD" in s.attrs for s in members):
            attrs.append("A_ANYMOD")
        return "|".join(attrs)

    maps = [[INVALID] * 256 for _ in range(4)]
    names = [[None] * 256 for _ in range(4)]
    x87_bits = []
    for op in range(0xD8, 0xE0):
        # x87: a group for the memory forms; register forms all share one valid entry and
        # the bitmap decides.
        gkey = (0, op, None)
        slots = t.groups.setdefault(gkey, [None] * 16)
        for r in range(8):
            if slots[8 + r]:
                raise Error(f"x87 {op:02X}: register forms belong in the D8:xx syntax")
            slots[8 + r] = Insn("FPU", ["sti"], [], f"x87 {op:02X}")
        maps[0][op] = ("DK_X87", "IMM_NONE", "A_MODRM|A_X87", group_id(gkey))
        names[0][op] = "ESC%02X" % op
        regs = t.x87reg.get(op, [None] * 64)
        bits = sum(1 << i for i, nm in enumerate(regs) if nm)
        x87_bits.append((bits, regs))
        if (0, op) in t.plain or (0, op) in t.simd:
            raise Error(f"x87 opcode {op:02X} defined as a plain opcode")

    keys = set(t.plain) | set(t.simd) | {(g[0], g[1]) for g in t.groups if g[2] is None}
    for key in sorted(keys):
        mp, op = key
        if mp == 0 and 0xD8 <= op <= 0xDF:
            continue
        defined = [key in t.plain, key in t.simd, (mp, op, None) in t.groups]
        if sum(defined) != 1:
            raise Error(f"opcode map {mp} {op:02X} defined in more than one way")
        if key in t.plain:
            insn = t.plain[key]
            if insn.prefix_kind:
                sub = "PFX_" + insn.prefix_kind.upper()
                maps[mp][op] = ("DK_PREFIX", "IMM_NONE", "0", sub)
            elif insn.escape:
                maps[mp][op] = ("DK_ESCAPE", "IMM_NONE", "0", {"ESC0F": 1, "ESC0F38": 2,
                                                               "ESC0F3A": 3}[insn.name])
            else:
                maps[mp][op] = insn.entry()
            names[mp][op] = insn.name
        elif key in t.simd:
            ents = [INVALID] * 4
            nms = [None] * 4
            for p, v in t.simd[key].items():
                if isinstance(v, tuple):
                    ents[p] = ("DK_GROUP", "IMM_NONE", group_attrs(v[1]), group_id(v[1]))
                    nms[p] = "GROUP"
                else:
                    ents[p] = v.entry()
                    nms[p] = v.name
            maps[mp][op] = ("DK_SIMD", "IMM_NONE", "0", len(simd_list))
            simd_list.append((ents, nms))
            names[mp][op] = "SIMD"
        else:
            gkey = (mp, op, None)
            maps[mp][op] = ("DK_GROUP", "IMM_NONE", group_attrs(gkey), group_id(gkey))
            names[mp][op] = "GROUP"
    return maps, names, group_list, simd_list, x87_bits


def c_str(s):
    return '"%s"' % s if s else "NULL"


def emit(out, src, maps, names, groups, simd, x87):
    w = out.write
    w("/* decode_tables.inc: generated by scripts/gen_decode_tables.py from %s.\n"
      " * Do not edit; edit the opcode map and rebuild. */\n\n" % src)
    w("#define DECODE_NGROUPS %d\n#define DECODE_NSIMD %d\n\n" % (len(groups), len(simd)))
    w("static const DecodeEntry decode_map[4][256] = {\n")
    for mp in range(4):
        w("    {\n")
        for op in range(256):
            w("        /* %02X */ %s,\n" % (op, c_entry(maps[mp][op])))
        w("    },\n")
    w("};\n\n")
    w("static const DecodeEntry decode_groups[%d][16] = {\n" % max(1, len(groups)))
    for i, (ents, _) in enumerate(groups):
        w("    { /* %d */\n" % i)
        for e in ents:
            w("        %s,\n" % c_entry(e))
        w("    },\n")
    w("};\n\n")
    w("static const DecodeEntry decode_simd[%d][4] = {\n" % max(1, len(simd)))
    for i, (ents, _) in enumerate(simd):
        w("    { /* %d */ %s },\n" % (i, ", ".join(c_entry(e) for e in ents)))
    w("};\n\n")
    w("static const uint32_t decode_x87_reg[8][2] = {\n")
    for bits, _ in x87:
        w("    {0x%08Xu, 0x%08Xu},\n" % (bits & 0xFFFFFFFF, bits >> 32))
    w("};\n\n")
    w("static const char *const decode_map_names[4][256] = {\n")
    for mp in range(4):
        w("    {%s},\n" % ", ".join(c_str(n) for n in names[mp]))
    w("};\n\n")
    w("static const char *const decode_group_names[%d][16] = {\n" % max(1, len(groups)))
    for _, nms in groups:
        w("    {%s},\n" % ", ".join(c_str(n) for n in nms))
    w("};\n\n")
    w("static const char *const decode_simd_names[%d][4] = {\n" % max(1, len(simd)))
    for _, nms in simd:
        w("    {%s},\n" % ", ".join(c_str(n) for n in nms))
    w("};\n\n")
    w("static const char *const decode_x87_reg_names[8][64] = {\n")
    for _, regs in x87:
        w("    {%s},\n" % ", ".join(c_str(n) for n in regs))
    w("};\n")


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen_decode_tables.py INPUT.txt OUTPUT.inc\n")
        return 2
    try:
        t = parse(sys.argv[1])
        tables = build(t)
    except Error as e:
        sys.stderr.write("gen_decode_tables: %s\n" % e)
        return 1
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        emit(out, "translate/decode_opcodes.txt", *tables)
    import os
    os.replace(tmp, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
