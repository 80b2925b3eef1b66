#!/bin/sh
# boot_vs_sim.sh - wall time of the same scenario on the simulator
# (pagesim run) and on QEMU (pagesim boot: QEMU start, BIOS, boot, the
# workload under TCG, the report), best of three each.  A figure, not a test.
# usage: bench/boot_vs_sim.sh [PAGESIM] [SCENARIO...]
pagesim="${1:-build/tools/pagesim}"
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- scenarios/thread.scn scenarios/big-map.scn
best() {
    b=""
    for i in 1 2 3; do
        t0=$(date +%s.%N)
        "$@" > /dev/null 2>&1
        t1=$(date +%s.%N)
        b=$(awk -v a="$t0" -v z="$t1" -v b="$b" \
            'BEGIN { t = z - a; if (b == "" || t < b) b = t; printf "%.3f", b }')
    done
    printf '%.2f' "$b"
}
printf '%-28s %10s %10s\n' scenario "sim (s)" "QEMU (s)"
for scn in "$@"; do
    printf '%-28s %10s %10s\n' "$(basename "$scn")" "$(best "$pagesim" run "$scn")" \
        "$(best "$pagesim" boot "$scn")"
done
