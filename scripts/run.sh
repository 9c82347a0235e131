#!/usr/bin/env bash
# run.sh: install dependencies, build anyvm, build the default guest from Debian's packages,
# and boot it with its console on this terminal (Ctrl-A x quits).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"
bash scripts/build-guest.sh "$top/guest-images"
exec "$top/build/release/frontend/anyvm" -m 256 \
    -kernel "$top/guest-images/vmlinuz" -initrd "$top/guest-images/initrd.img" \
    -append "console=ttyS0 panic=-1" -nographic "$@"
