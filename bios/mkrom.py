#!/usr/bin/env python3
"""mkrom.py: make an option ROM image: pad IN to SIZE bytes (a multiple of 512), write the
length byte (offset 2, in 512-byte units) and make the bytes sum to zero (the last byte).

  mkrom.py IN OUT SIZE
"""
import sys


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    data = bytearray(open(sys.argv[1], "rb").read())
    size = int(sys.argv[3], 0)
    if size % 512 or size > 255 * 512:
        raise SystemExit("mkrom: bad size %d" % size)
    if len(data) > size - 1:
        raise SystemExit("mkrom: %s is %d bytes, more than %d" % (sys.argv[1], len(data),
                                                                  size - 1))
    if data[:2] != b"\x55\xaa":
        raise SystemExit("mkrom: %s has no 55AAh signature" % sys.argv[1])
    data += bytes(size - len(data))
    data[2] = size // 512
    data[-1] = (-sum(data[:-1])) & 0xFF
    assert sum(data) & 0xFF == 0
    open(sys.argv[2], "wb").write(data)


if __name__ == "__main__":
    main()
