#!/usr/bin/env bash
# test.sh: install dependencies, build (Release and ASan+UBSan), and run the whole test suite.
#
#   bash scripts/test.sh            # everything: the Release build runs every test (including the
#                                   # slow whole-system boots); the ASan+UBSan build runs every
#                                   # test not labelled slow (a Linux boot under ASan would take
#                                   # longer than CI allows)
#   ANYVM_TEST_LABEL=quick bash scripts/test.sh   # only tests labelled quick, in both builds
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
label=${ANYVM_TEST_LABEL:-}
ctest_args=(--output-on-failure -j "$jobs")
[ -n "$label" ] && ctest_args+=(-L "$label")

for preset in release asan; do
    echo "=== anyvm: build ($preset)"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j "$jobs"
done

status=0
for preset in release asan; do
    echo "=== anyvm: tests ($preset)"
    extra=()
    if [ "$preset" = asan ] && [ -z "$label" ]; then
        extra=(-LE slow)
    fi
    ctest --test-dir "build/$preset" "${ctest_args[@]}" "${extra[@]}" || status=1
done
exit $status
