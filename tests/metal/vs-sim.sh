#!/bin/sh
# Every shipped scenario under every strategy: `pagesim boot --vs-sim` must
# agree (outcome, the kernel's figures, every page directory and table).
# Boots run two at a time; one of them from a GRUB rescue ISO.
# The strategies are those of `pagesim --list-strategies`.
# usage: vs-sim.sh PAGESIM TOP
set -u
pagesim="$1"
top="$2"
strategies=$("$pagesim" --list-strategies | awk '{ print $1 }')
[ -n "$strategies" ] || { echo "FAIL: pagesim --list-strategies lists nothing"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$top" || exit 1
for scn in scenarios/*.scn; do
    for s in $strategies; do
        echo "$scn $s"
    done
done > "$out/jobs"
echo "scenarios/thread.scn recursive --grub" >> "$out/jobs"
echo "scenarios/fork-exec.scn recursive --kernel4m=on" >> "$out/jobs"
# One job: exit 0 and "The runs agree.", or its output is shown.
export PAGESIM="$pagesim" OUT="$out"
xargs -P 2 -L 1 sh -c '
    log="$OUT/$(basename "$1" .scn).$2${3:+.$(echo "$3" | tr -dc a-z0-9)}.txt"
    "$PAGESIM" boot "$1" --strategy "$2" ${3:-} --vs-sim --timeout 120 > "$log" 2>&1
    st=$?
    if [ $st -ne 0 ] || ! grep -q "^The runs agree\.$" "$log"; then
        echo "FAIL: pagesim boot $1 --strategy $2 ${3:-} --vs-sim (exit $st)"
        grep -E "^!|^  !|error|pagesim" "$log" | head -20
    fi
' sh < "$out/jobs" > "$out/failures" 2>&1
# --kernel4m on reaches both builds: the early 16 MiB of the kernel half
# (four page tables under fork-exec.scn, 53 kernel tables in all) is mapped
# with four 4 MiB pages instead, so both show 53 - 4 = 49 kernel tables.
grep -q "^  frames.pt.kernel  *49  *49$" "$out/fork-exec.recursive.kernel4mon.txt" ||
    echo "FAIL: boot --kernel4m=on: frames.pt.kernel is not 49 in both builds" >> "$out/failures"
n=$(wc -l < "$out/jobs")
if [ -s "$out/failures" ]; then
    cat "$out/failures"
    exit 1
fi
echo "vs-sim: $n boots agree with the simulator"
