#!/usr/bin/env bash
# run.sh: the benchmark in one command: install what it needs from Debian's packages, build
# anyvm (Release) and the guest, then time the workloads on every configuration (bench.py).
#
#   bash bench/run.sh                 # 3 interleaved rounds, results in bench/results/DATE-TIME
#   bash bench/run.sh --runs 5 --scale 0.0625
#   bash bench/run.sh --quick         # CI: one short workload once per configuration
#
# Every option is passed to bench/bench.py (see `python3 bench/bench.py --help`).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
# QEMU to compare against, gnuplot for the chart (python3 and its standard library come with
# deps.sh). Installed only when missing.
extra=()
for p in qemu-system-x86 gnuplot-nox; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        extra+=("$p")
    fi
done
if [ ${#extra[@]} -ne 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "bench: installing ${extra[*]}"
    $SUDO apt-get update -q || echo "bench: warning: apt-get update reported errors" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        "${extra[@]}" || echo "bench: warning: could not install ${extra[*]}" >&2
fi

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)"
bash scripts/build-guest.sh "$top/guest-images"
exec python3 "$top/bench/bench.py" --anyvm "$top/build/release/frontend/anyvm" \
    --images "$top/guest-images" "$@"
