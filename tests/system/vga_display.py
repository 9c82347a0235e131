#!/usr/bin/env python3
"""vga_display.py: the VGA BIOS (bios/vgabios.S) and the SDL window, under Xvfb.

  vga_display.py freedos --anyvm BIN --floppy IMG --work DIR --artifacts DIR
      boots a copy of the FreeDOS floppy with -display sdl in an Xvfb server, types DIR and
      Enter through QMP send-key, waits for the listing in the text grid (QMP
      x-query-screen-text), saves a QMP screendump PNG under --artifacts and checks that it
      has glyph pixels exactly where the grid has characters (the VGA BIOS loaded a font);
      then leaves the prompt idle and reports the host CPU time it costs and the frames the
      window presented (-d stats).
  vga_display.py bochsfb --anyvm BIN --images DIR --work DIR --artifacts DIR
      boots the Debian kernel (-accel jit) with anyvm.run=bochsfb: the bochs-drm driver
      switches the VGA to a 1024x768 VBE mode and fbcon draws the console on it; checks the
      screendump's resolution and that it has console pixels.
  vga_display.py mode13 --anyvm BIN --bootsect BIN --work DIR --artifacts DIR
      boots a floppy whose boot sector (vga_bootsect.S) checks INT 10h services and then
      draws frames in mode 13h forever; checks the screendump against the pattern and
      reports the frames per second the SDL window presented.
"""
import argparse
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import Serial, fail  # noqa: E402
from bios_boot import freedos_copy  # noqa: E402

AUTOEXEC = b"@ECHO OFF\r\nECHO ANYVM-DOS-READY > COM1\r\n"


class Xvfb:
    """An Xvfb server on a free display number, stopped when the test ends."""

    def __init__(self, work):
        self.proc = None
        if not shutil.which("Xvfb"):
            fail("Xvfb is not installed (Debian package xvfb: scripts/deps.sh)")
        for n in range(90, 140):
            if os.path.exists("/tmp/.X11-unix/X%d" % n) or os.path.exists("/tmp/.X%d-lock" % n):
                continue
            log = open(os.path.join(work, "xvfb.log"), "wb")
            self.proc = subprocess.Popen(["Xvfb", ":%d" % n, "-screen", "0", "1280x1024x24",
                                          "-nolisten", "tcp"], stdout=log, stderr=log)
            for _ in range(100):
                if os.path.exists("/tmp/.X11-unix/X%d" % n):
                    self.display = ":%d" % n
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.stop()
        fail("could not start Xvfb")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class Qmp:
    def __init__(self, path):
        self.c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(100):
            try:
                self.c.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            fail("cannot connect to QMP at %s" % path)
        self.c.settimeout(30)
        self.buf = b""
        self.read()                          # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        while True:
            if b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line.strip():
                    msg = json.loads(line)
                    if "event" not in msg:
                        return msg
                continue
            chunk = self.c.recv(65536)
            if not chunk:
                fail("QMP connection closed")
            self.buf += chunk

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.c.sendall(json.dumps(req).encode() + b"\n")
        r = self.read()
        if "error" in r:
            fail("QMP %s: %s" % (name, r["error"]))
        return r.get("return")

    def screen(self):
        return self.cmd("x-query-screen-text")


def read_png(path):
    """-> (width, height, rows of (r, g, b) tuples); 8-bit RGB or RGBA, any filter."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                fail("unexpected PNG format depth %d colour type %d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 0xFF
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def start_anyvm(args, xvfb, extra, stats=True):
    qmp_path = os.path.join(args.work, "qmp.sock")
    if os.path.exists(qmp_path):
        os.unlink(qmp_path)
    env = dict(os.environ, DISPLAY=xvfb.display)
    env.pop("SDL_VIDEODRIVER", None)
    cmd = [args.anyvm, "-display", "sdl", "-serial", "stdio",
           "-qmp", "unix:%s,server,nowait" % qmp_path] + (["-d", "stats"] if stats else [])
    errlog = open(os.path.join(args.work, "anyvm-stderr.log"), "wb")
    proc = subprocess.Popen(cmd + extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errlog, env=env)
    return proc, Serial(proc), Qmp(qmp_path)


def stop_anyvm(args, proc, qmp):
    """quit through QMP; -> anyvm's stderr (the -d stats lines)"""
    try:
        qmp.cmd("quit")
    except SystemExit:
        raise
    except Exception:
        pass
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with open(os.path.join(args.work, "anyvm-stderr.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


def frames_line(err):
    m = re.search(r"display: (\d+) frames presented in ([0-9.]+) s", err)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


def check_glyphs(png, screen):
    """Every cell with a visible character has glyph pixels; every blank cell is plain (but
    the one the cursor may be in)."""
    w, h, rows = read_png(png)
    cols, nrows = screen["cols"], screen["rows"]
    if w % cols or h % nrows:
        fail("screendump %dx%d does not divide into %dx%d cells" % (w, h, cols, nrows))
    cw, ch = w // cols, h // nrows
    text_cells = lit = blank_bad = 0
    for r, line in enumerate(screen["lines"]):
        line = line.ljust(cols)
        for c in range(cols):
            colours = set()
            for y in range(r * ch, (r + 1) * ch):
                colours.update(rows[y][c * cw:(c + 1) * cw])
            if line[c] == " ":
                if len(colours) != 1:
                    blank_bad += 1
            elif line[c].isprintable():
                text_cells += 1
                if len(colours) > 1:
                    lit += 1
    if text_cells < 50:
        fail("the grid has only %d characters" % text_cells)
    if lit != text_cells:
        fail("%d of %d character cells have no glyph pixels in %s" % (text_cells - lit,
                                                                      text_cells, png))
    if blank_bad > 1:   # the cursor may be drawn in one blank cell
        fail("%d blank cells have pixels in %s" % (blank_bad, png))
    return w, h, cw, ch, text_cells, blank_bad


def collect(s, secs):
    """Whatever the serial line brings in secs seconds."""
    end, data = time.monotonic() + secs, b""
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return data
        r, _, _ = select.select([s.proc.stdout], [], [], left)
        if r:
            chunk = os.read(s.proc.stdout.fileno(), 65536)
            if not chunk:
                fail("anyvm exited", data)
            data += chunk


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck   # utime + stime


def freedos(args):
    os.makedirs(args.artifacts, exist_ok=True)
    img = freedos_copy(args.floppy, args.work, "freedos-vga.img", AUTOEXEC)
    xvfb = Xvfb(args.work)
    try:
        proc, s, qmp = start_anyvm(args, xvfb, ["-fda", img, "-m", "32"])
        s.expect(b"ANYVM-DOS-READY", 120)
        s.expect(b">", 60)
        time.sleep(0.5)
        qmp.cmd("send-key", keys=[{"type": "qcode", "data": "d"}])
        qmp.cmd("send-key", keys=[{"type": "qcode", "data": "i"}])
        qmp.cmd("send-key", keys=[{"type": "qcode", "data": "r"}])
        qmp.cmd("send-key", keys=[{"type": "qcode", "data": "ret"}])
        deadline = time.monotonic() + 60
        while True:
            scr = qmp.screen()
            text = "\n".join(scr["lines"])
            if re.search(r"KERNEL\s+SYS", text) and re.search(r"COMMAND\s+COM", text) and \
                    "bytes free" in text:
                break
            if time.monotonic() > deadline:
                fail("DIR did not list the floppy on the screen:\n" + text)
            time.sleep(0.5)
        if "DIR" not in text.upper() or scr["cols"] != 80 or scr["rows"] != 25:
            fail("unexpected screen %dx%d:\n%s" % (scr["cols"], scr["rows"], text))
        png = os.path.join(args.artifacts, "freedos-dir.png")
        qmp.cmd("screendump", filename=png)
        scr2 = qmp.screen()
        if scr2["lines"] != scr["lines"]:
            scr = scr2
        w, h, cw, ch, cells, _ = check_glyphs(png, scr)
        if (w, h) != (720, 400):
            fail("mode 3 should render 720x400, got %dx%d" % (w, h))
        # Idle: the DOS prompt waiting for a key, the window refreshing at 60 Hz.
        idle = args.idle
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        err = stop_anyvm(args, proc, qmp)
        frames, secs = frames_line(err)
        if frames is None or frames < 1:
            fail("the SDL window presented no frames (stderr: %s)" % err)
        if "no window" in err:
            fail("anyvm ran headless: " + err)
        print("freedos: DIR listing in the text grid; %s %dx%d with glyphs in all %d character "
              "cells (%dx%d cells); idle prompt: %.2f CPU s in %.1f s wall (%.0f%% of a core); "
              "window presented %d frames in %.1f s" % (png, w, h, cells, cw, ch, c1 - c0,
                                                        t1 - t0, 100 * (c1 - c0) / (t1 - t0),
                                                        frames, secs))
    finally:
        xvfb.stop()


def bochsfb(args):
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.artifacts, exist_ok=True)
    xvfb = Xvfb(args.work)
    try:
        extra = ["-m", "256", "-accel", "jit", "-no-reboot",
                 "-kernel", os.path.join(args.images, "vmlinuz"),
                 "-initrd", os.path.join(args.images, "initrd.img"),
                 "-append", "console=ttyS0 anyvm.run=bochsfb"]
        t0 = time.monotonic()
        proc, s, qmp = start_anyvm(args, xvfb, extra)
        s.expect(b"ANYVM-RUN-BEGIN bochsfb", 240)
        t_boot = time.monotonic() - t0
        out = s.expect(b"ANYVM-FB-READY", 240).decode("utf-8", "replace")
        t_fb = time.monotonic() - t0
        m = re.search(r"fb0: (\S+) (\d+),(\d+) bpp (\d+)", out)
        if not m or "bochs" not in m.group(1):
            fail("bochs-drm did not register fb0", out.encode())
        time.sleep(2)
        png = os.path.join(args.artifacts, "linux-bochsfb.png")
        qmp.cmd("screendump", filename=png)
        w, h, rows = read_png(png)
        if (w, h) != (int(m.group(2)), int(m.group(3))):
            fail("screendump %dx%d, the guest's fb0 is %sx%s" % (w, h, m.group(2), m.group(3)))
        bg = rows[h - 1][w - 1]
        lit = sum(1 for y in range(0, 64) for x in range(0, w) if rows[y][x] != bg)
        lines = sum(1 for y in range(0, min(h, 400)) if any(p != bg for p in rows[y]))
        if lit < 500 or lines < 20:
            fail("the framebuffer console shows no text (%d pixels, %d lines)" % (lit, lines))
        err = stop_anyvm(args, proc, qmp)
        frames, secs = frames_line(err)
        print("bochsfb: shell script after %.1f s, fb0 after %.1f s: %s %sx%s bpp %s; %s %dx%d "
              "with %d text pixels in the top 64 lines; window presented %s frames in %s s"
              % (t_boot, t_fb, m.group(1), m.group(2), m.group(3), m.group(4), png, w, h, lit,
                 frames, secs))
    finally:
        xvfb.stop()


def mode13(args):
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.artifacts, exist_ok=True)
    with open(args.bootsect, "rb") as f:
        boot = f.read()
    if len(boot) > 1474560 or boot[510:512] != b"\x55\xaa":
        fail("%s is not a boot floppy image" % args.bootsect)
    img = os.path.join(args.work, "vga-test.img")
    with open(img, "wb") as f:
        f.write(boot + bytes(1474560 - len(boot)))
    xvfb = Xvfb(args.work)
    try:
        proc, s, qmp = start_anyvm(args, xvfb, ["-fda", img, "-m", "32", "-accel", "jit"])
        out = s.expect(b"VGA-TEST-DRAWING", 60).decode("utf-8", "replace")
        bad = re.findall(r"FAIL \S+", out)
        if bad:
            fail("the boot sector's INT 10h checks failed: %s" % " ".join(bad), out.encode())
        # the guest writes "F" to COM1 after every 16th frame it draws
        s.expect(b"F", 30)
        t0 = time.monotonic()
        got = s.buf + collect(s, args.idle)
        t1 = time.monotonic()
        guest_fps = got.count(b"F") * 16 / (t1 - t0)
        if guest_fps <= 0:
            fail("the guest stopped drawing", got)
        png = os.path.join(args.artifacts, "mode13.png")
        qmp.cmd("screendump", filename=png)
        w, h, rows = read_png(png)
        if (w, h) != (320, 200):
            fail("mode 13h should render 320x200, got %dx%d" % (w, h))
        colours = set()
        for y in range(0, h, 4):
            colours.update(rows[y][0:w:4])
        if len(colours) < 16:
            fail("mode 13h picture has only %d colours" % len(colours))
        err = stop_anyvm(args, proc, qmp)
        frames, secs = frames_line(err)
        if not frames:
            fail("no frames presented: %s" % err)
        print("mode13: INT 10h checks passed (%s); %s with %d colours; the guest drew %.1f "
              "frames/s; the SDL window presented %d frames in %.1f s (%.1f frames/s)" % (
                  ", ".join(re.findall(r"OK \S+", out)), png, len(colours), guest_fps, frames,
                  secs, frames / secs))
    finally:
        xvfb.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["freedos", "bochsfb", "mode13"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--floppy")
    ap.add_argument("--images")
    ap.add_argument("--bootsect")
    ap.add_argument("--work", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle measurement")
    args = ap.parse_args()
    {"freedos": freedos, "bochsfb": bochsfb, "mode13": mode13}[args.mode](args)


if __name__ == "__main__":
    main()
