#!/usr/bin/env python3
"""linux_net.py: whole-system network tests: the Debian i386 kernel's own NIC drivers on anyvm.

  linux_net.py NIC --anyvm BIN --images DIR          (NIC: e1000 or ne2k_pci)
      boots with -netdev user and the NIC, loads the driver modules from the initramfs, gets an
      address from slirp's DHCP server with BusyBox udhcpc, fetches a random file with wget from
      an HTTP server this script runs on the host's loopback (reached as 10.0.2.2) and compares
      its md5sum with the host's, then fetches a page from BusyBox httpd in the guest through a
      hostfwd rule on a free loopback port, and powers off.
  linux_net.py restrict --anyvm BIN --images DIR
      the same with restrict=on (e1000): DHCP works (the lease names no router, as libslirp
      does when restricted), the guest cannot reach the host's server
      (and the server sees no request), the hostfwd rule still reaches the guest.

The console helpers (Serial, anyvm_cmd, fail) are linux_boot.py's.
"""
import argparse
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import MARKER, PROMPT, Serial, anyvm_cmd, fail  # noqa: E402

# The kernel finds the NICs through ACPI: the DSDT's \_SB.PCI0 (PNP0A03) and its _PRT.
APPEND = "console=ttyS0 panic=-1"
GUEST_IP = "10.0.2.15"
HOST_IP = "10.0.2.2"
GUEST_HTTP_PORT = 8080
# insmod order: dependencies first (modules.dep is not in the initramfs).
NIC_MODULES = {
    "e1000": ["drivers/net/ethernet/intel/e1000/e1000.ko"],
    "ne2k_pci": ["drivers/net/ethernet/8390/8390.ko", "drivers/net/ethernet/8390/ne2k-pci.ko"],
}


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostHttp:
    """An HTTP server on 127.0.0.1 (free port) serving /blob, counting the requests it gets."""

    def __init__(self, blob):
        self.blob = blob
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                if self.path != "/blob":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(owner.blob)))
                self.end_headers()
                self.wfile.write(owner.blob)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Guest:
    """A booted guest with a NIC on -netdev user; owns the anyvm (or QEMU) process."""

    def __init__(self, cmd, timeout):
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.con = Serial(self.proc)
        self.con.expect(MARKER, timeout)
        self.boot_time = time.monotonic() - self.start
        self.con.expect(PROMPT, 120)

    def run(self, command, timeout=300):
        return self.con.run(command, timeout)

    def bring_up(self, nic, router=True):
        """insmod the driver, udhcpc on eth0; returns the udhcpc output. router: the lease must
        name 10.0.2.2 as the default gateway (slirp names none with restrict=on)."""
        for mod in NIC_MODULES[nic]:
            out = self.run("insmod /lib/modules/$(uname -r)/%s && echo INSMOD-OK" % mod)
            if "INSMOD-OK" not in out:
                fail("insmod %s failed:\n%s" % (mod, out), self.con.buf)
        out = self.run("udhcpc -i eth0 -q -n -t 6 -T 3 && echo DHCP-OK", 600)
        if "DHCP-OK" not in out:
            fail("udhcpc got no lease:\n%s\n%s" % (out, self.run("dmesg | tail -20")))
        addr = self.run("ip -4 addr show eth0; ip route")
        if ("inet %s/24" % GUEST_IP) not in addr or (
                router and ("default via %s" % HOST_IP) not in addr):
            fail("eth0 is not configured from the lease:\n%s" % addr)
        return out

    def poweroff(self):
        self.proc.stdin.write(b"poweroff -f\n")
        self.proc.stdin.flush()
        try:
            status = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("the emulator did not exit after poweroff", self.con.buf)
        if status != 0:
            fail("the emulator exited with status %d after poweroff" % status, self.con.buf)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def netdev_args(nic, hostfwd_port, restrict=False):
    netdev = "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (hostfwd_port, GUEST_HTTP_PORT)
    if restrict:
        netdev += ",restrict=on"
    return ["-netdev", netdev, "-device", "%s,netdev=n0" % nic]


def host_get(port, path, timeout=120):
    """GET http://127.0.0.1:port/path from the host; returns the body."""
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.read()


def start_guest_httpd(guest, page):
    out = guest.run("mkdir -p /www && echo '%s' > /www/index.html && "
                    "httpd -p %d -h /www && echo HTTPD-OK" % (page, GUEST_HTTP_PORT))
    if "HTTPD-OK" not in out:
        fail("httpd did not start in the guest:\n%s" % out)


def check_hostfwd(guest, fwd_port, page):
    start_guest_httpd(guest, page)
    try:
        body = host_get(fwd_port, "/index.html")
    except OSError as e:
        fail("host could not fetch from the guest's httpd through hostfwd: %s" % e, guest.con.buf)
    if body.decode("utf-8", "replace").strip() != page:
        fail("hostfwd fetch returned %r, want %r" % (body[:200], page))
    print("hostfwd: 127.0.0.1:%d -> guest httpd:%d returned the page" % (fwd_port, GUEST_HTTP_PORT))


def nic_test(args):
    blob = os.urandom(args.size)
    want = hashlib.md5(blob).hexdigest()
    srv = HostHttp(blob)
    fwd_port = free_port()
    guest = Guest(anyvm_cmd(args, APPEND,
                            netdev_args(args.mode, fwd_port)), args.timeout)
    try:
        print("boot to shell marker: %.1f s" % guest.boot_time)
        print(guest.bring_up(args.mode).strip())
        t0 = time.monotonic()
        out = guest.run("wget -q -O /tmp/blob http://%s:%d/blob && md5sum /tmp/blob"
                        % (HOST_IP, srv.port), 600)
        dt = time.monotonic() - t0
        if want not in out:
            fail("md5sum of the fetched file is not the host's %s:\n%s" % (want, out))
        print("wget: %d bytes from the host server, md5 %s matches (%.1f s)"
              % (len(blob), want, dt))
        check_hostfwd(guest, fwd_port, "anyvm-net-%s-%d" % (args.mode, fwd_port))
        guest.poweroff()
    finally:
        guest.kill()
        srv.close()
    print("%s: DHCP, wget from the host, hostfwd to the guest: ok" % args.mode)


def restrict_test(args):
    srv = HostHttp(b"must not be served\n")
    fwd_port = free_port()
    guest = Guest(anyvm_cmd(args, APPEND,
                            netdev_args("e1000", fwd_port, restrict=True)), args.timeout)
    try:
        print("boot to shell marker: %.1f s" % guest.boot_time)
        print(guest.bring_up("e1000", router=False).strip())
        out = guest.run("timeout 15 wget -q -O /tmp/r http://%s:%d/blob; echo WGET-STATUS=$?"
                        % (HOST_IP, srv.port), 600)
        if "WGET-STATUS=0" in out or "WGET-STATUS=" not in out:
            fail("with restrict=on the guest reached the host server:\n%s" % out)
        if srv.requests:
            fail("with restrict=on the host server got requests: %r" % srv.requests)
        print("restrict=on: the guest's wget to %s:%d failed, the server saw no request"
              % (HOST_IP, srv.port))
        check_hostfwd(guest, fwd_port, "anyvm-restricted-%d" % fwd_port)
        guest.poweroff()
    finally:
        guest.kill()
        srv.close()
    print("restrict: DHCP ok, outbound blocked, hostfwd ok")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["e1000", "ne2k_pci", "restrict"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--size", type=int, default=256 * 1024, help="bytes the guest fetches")
    args = ap.parse_args()
    for f in ("vmlinuz", "initrd.img"):
        if not os.path.exists(os.path.join(args.images, f)):
            fail("%s missing: run scripts/build-guest.sh" % os.path.join(args.images, f))
    restrict_test(args) if args.mode == "restrict" else nic_test(args)


if __name__ == "__main__":
    main()
