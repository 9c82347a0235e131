#!/usr/bin/env bash
# deps.sh: install everything anyvm needs to build and test, from Debian's packages.
# Idempotent: does nothing (quickly) when every package is already installed.
set -euo pipefail

PKGS=(build-essential cmake ninja-build pkg-config gcc-multilib
      libcapstone-dev libsdl2-dev libslirp-dev libcriterion-dev zlib1g-dev libpng-dev xvfb
      python3 cpio xz-utils zstd qemu-utils mtools
      console-setup-linux seabios syslinux dosfstools isolinux syslinux-common xorriso)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "deps: installing ${missing[*]}"
# A mirror that is briefly out of sync makes `apt-get update` fail for one index; carry on with
# what we have and check below that the packages really arrived.
$SUDO apt-get update -q || echo "deps: warning: apt-get update reported errors; continuing" >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || true
still=()
for p in "${missing[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        still+=("$p")
    fi
done
if [ ${#still[@]} -ne 0 ]; then
    echo "deps: error: could not install: ${still[*]} (check the network or the Debian mirror)" >&2
    exit 1
fi
