#!/usr/bin/env python3
"""jit_callgrind.py: count the host instructions anyvm executes for one guest command.

Boots the Debian guest of tests/system under valgrind's callgrind with instrumentation off,
switches it on (callgrind_control -i on) only while the guest runs COMMAND over the serial
console, and prints the total. Host wall time on a shared machine varies by 1.5x between
identical runs; instruction counts under -icount (the default here: both binaries run the
same guest instructions) resolve changes of a percent. With --per-insn, generated code is
logged (-d out_asm) and every host instruction of it gets its execution count, summed by
kind (entry checks, TLB checks, guest-register loads/stores, ...) and by block (--blocks N).

  python3 bench/jit_callgrind.py build/release/frontend/anyvm \\
      [--setup "untimed guest command"] "busybox awk 'BEGIN{s=0; for(i=0;i<20000;i++) s+=i*1.5/(i+1); print s}'"

Needs valgrind. A boot takes about 80 s under callgrind (5 min with --per-insn).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
from linux_boot import MARKER, PROMPT, Serial  # noqa: E402


def parse_callgrind(path):
    """Self cost (Ir) per instruction address of a callgrind file with --dump-instr=yes."""
    cnt = collections.Counter()
    addr, after_call = 0, False
    for line in open(path):
        if line.startswith("calls="):
            after_call = True  # the next cost line is the call's inclusive cost
            continue
        m = re.match(r"^(0x[0-9a-f]+|\+[0-9]+|-[0-9]+|\*)\s+(\S+)\s+(\d+)", line)
        if not m:
            continue
        p = m.group(1)
        if p.startswith("0x"):
            addr = int(p, 16)
        elif p[0] in "+-":
            addr += int(p)
        if after_call:
            after_call = False
            continue
        cnt[addr] += int(m.group(3))
    return cnt


def kind(text, pos):
    """What a host instruction of generated code does (by its text and place in its block)."""
    if pos < 6:
        return "entry checks"
    rules = [
        (r"0x1d8\]", "icount"),
        (r"\[rbx \+ 0x(28|2c|30|34)\]", "lazy-flag stores"),
        (r"\[rbx \+ 0x20\]|0x1c4|0x1c8", "EIP / state sync"),
        (r"\[rbx \+ (0x[0-9a-f]|0x1[0-9a-f])\]|\[rbx\]", "guest-register loads/stores"),
        (r"\[r12 \+ 0x3[def]", "page-group bases"),
        (r"r12", "temp frame slots"),
        (r"rbx \+ rax \+ 0x8|0x7fe0|0xfffff000|shr e.x, 7", "TLB checks"),
        (r"\[rbx \+ 0x[0-9a-f]{4}\]", "cross-page link checks"),
        (r"\[rsi", "guest memory"),
    ]
    for rx, k in rules:
        if re.search(rx, text):
            return k
    if text.startswith(("j", "call", "ret")):
        return "branches"
    if re.match(r"mov e?[a-z0-9]+d?, e?[a-z0-9]+d?$", text):
        return "register moves"
    return "other"


def per_insn(out, log, nblocks):
    cnt = parse_callgrind(out)
    total = sum(cnt.values())
    ins, blocks, cur = {}, [], None
    for line in open(log, errors="replace"):
        if line.startswith("OUT: "):
            cur = [line.strip(), [], []]
            blocks.append(cur)
            continue
        if cur is None:
            continue
        if line.startswith("  guest "):
            cur[1].append(line.strip())
            continue
        m = re.match(r"  ([0-9a-f]{12}): (.*)", line)
        if m:
            a = int(m.group(1), 16)
            ins[a] = (m.group(2).strip(), len(cur[2]), len(blocks) - 1)
            cur[2].append(a)
    by_kind, by_block, jit = collections.Counter(), collections.Counter(), 0
    for a, n in cnt.items():
        if a in ins:
            text, pos, b = ins[a]
            by_kind[kind(text, pos)] += n
            by_block[b] += n
            jit += n
    print("generated code: %d of %d host instructions (%.1f%%)" % (jit, total, 100.0 * jit / total))
    for k, n in by_kind.most_common():
        print("  %5.1f%% of generated code  %s" % (100.0 * n / jit, k))
    for b, n in by_block.most_common(nblocks):
        print("=== %.2f%% %s" % (100.0 * n / total, blocks[b][0]))
        for g in blocks[b][1]:
            print("      " + g)
        for a in blocks[b][2]:
            print("%12s  %s" % (cnt.get(a, ""), ins[a][0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("anyvm")
    ap.add_argument("command")
    ap.add_argument("--images", default=os.path.join(HERE, "..", "guest-images"))
    ap.add_argument("--icount", default="3", help="-icount shift ('' for the host clock)")
    ap.add_argument("--per-insn", action="store_true")
    ap.add_argument("--cache-sim", action="store_true",
                    help="also simulate the caches: print the L1 instruction-cache misses")
    ap.add_argument("--blocks", type=int, default=0, help="with --per-insn: the N hottest blocks")
    ap.add_argument("--out", help="callgrind output file (default: a temporary one)")
    ap.add_argument("--setup", default="true",
                    help="a guest command run before instrumentation starts (not counted)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jit-callgrind-")
    out = a.out or os.path.join(tmp, "callgrind.out")
    log = os.path.join(tmp, "out_asm.log")
    extra = ["-icount", a.icount] if a.icount else []
    if a.per_insn:
        extra += ["-d", "out_asm", "-D", log]
    img = a.images
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--smc-check=all",
           "--callgrind-out-file=" + out] + (["--cache-sim=yes"] if a.cache_sim else []) + (["--dump-instr=yes"] if a.per_insn else []) + [
        a.anyvm] + extra + ["-monitor", "none", "-m", "256", "-kernel", img + "/vmlinuz",
                            "-initrd", img + "/initrd.img", "-append", "console=ttyS0 panic=-1",
                            "-serial", "stdio", "-no-reboot", "-display", "none"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=open(os.path.join(tmp, "valgrind.err"), "w"))
    s = Serial(p)
    t0 = time.monotonic()
    s.expect(MARKER, 3600)
    s.expect(PROMPT, 600)
    print("booted under callgrind in %.0f s" % (time.monotonic() - t0), flush=True)

    def run(c):
        p.stdin.write(("echo XB; %s; echo X''E\n" % c).encode())
        p.stdin.flush()
        s.expect(b"\nXB", 3600)
        s.expect(b"XE", 3600)

    run(a.setup)
    subprocess.run(["callgrind_control", "-i", "on", str(p.pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    t0 = time.monotonic()
    run(a.command)
    subprocess.run(["callgrind_control", "-i", "off", str(p.pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    print("command ran %.1f s under callgrind" % (time.monotonic() - t0), flush=True)
    p.stdin.write(b"poweroff -f\n")
    p.stdin.flush()
    p.wait(600)
    total = sum(parse_callgrind(out).values()) if a.per_insn else None
    if total is None:
        summ = [l for l in open(out) if l.startswith("summary:") or l.startswith("totals:")]
        total = int(summ[-1].split()[1]) if summ else 0
    print("host instructions while the command ran: %d (%s)" % (total, out))
    if a.cache_sim:
        ev = [l.split()[1:] for l in open(out) if l.startswith("events:")]
        summ = [l.split()[1:] for l in open(out) if l.startswith("summary:") or
                l.startswith("totals:")]
        if ev and summ and "I1mr" in ev[-1]:
            print("simulated L1 instruction-cache misses: %s" % summ[-1][ev[-1].index("I1mr")])
    if a.per_insn:
        per_insn(out, log, a.blocks)


if __name__ == "__main__":
    main()
