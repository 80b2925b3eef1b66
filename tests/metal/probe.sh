#!/bin/sh
# The randomized paging differential (kernel/hwprobe.h): 20 seeds x 1,000
# probes on QEMU agree with the simulator record for record (by digest),
# over every access kind, both CR0.WP values, 4 KiB and 4 MiB pages and
# every error code the SDM allows; two more seeds booted from GRUB; a
# malformed request is rejected; options that do not fit are usage errors.
# usage: probe.sh PAGESIM KERNEL_ELF
set -u
pagesim="$1"
kernel="$2"
fails=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# The two boots, two at a time.
"$pagesim" boot --probe 1-20 > "$out/main" 2>&1 &
main=$!
"$pagesim" boot --probe 21-22 --grub > "$out/grub" 2>&1
[ $? -eq 0 ] || fail "--probe 21-22 --grub did not agree: $(tail -20 "$out/grub")"
grep -qx "The runs agree." "$out/grub" || fail "--grub: no agreement line"
wait $main
st=$?
[ $st -eq 0 ] || { fail "--probe 1-20 exited $st"; head -60 "$out/main"; }
grep -qx "The runs agree." "$out/main" || fail "--probe 1-20: no agreement line"
grep -qx "  20 seeds compared by digest, 20000 records, 0 seeds differ" "$out/main" ||
    fail "--probe 1-20: not 20 seeds of 1,000 records"

# What the probes covered: every row has probes, and faults where the SDM
# allows them.  Rows "probes faulted".
row() {
    grep -E "^  $1 +[0-9]+( +[0-9]+)?$" "$out/main" | awk '{ print $(NF-1), $NF }'
}
for r in "4 KiB page" "4 MiB page" "PDE not present" \
    "supervisor read, WP=0" "supervisor read, WP=1" "supervisor write, WP=0" \
    "supervisor write, WP=1" "user read, WP=0" "user read, WP=1" "user write, WP=0" \
    "user write, WP=1"; do
    set -- $(row "$r")
    [ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ] || fail "coverage: '$r' has no probes or faults"
done
# Error codes (SDM Vol. 3A 4.7): P=0 not present, P=1 protection or reserved
# bit (RSVD=1 only with P=1), W for writes, U for user accesses.  A
# supervisor read cannot violate rights (no SMAP), so 0x1 never occurs.
for e in 0x0 0x2 0x3 0x4 0x5 0x6 0x7 0x9 0xb 0xd 0xf; do
    grep -qE "^  $e [a-z ,]+ +[1-9][0-9]*$" "$out/main" || fail "no page fault with error code $e"
done
for e in 0x1 0x8 0xa 0xc 0xe; do
    grep -qE "^  $e " "$out/main" && fail "a page fault with error code $e, which the SDM rules out"
done

# A malformed request straight into QEMU: version 2 (words: magic "PGHP",
# version, length 28, seed, seeds, probes, records).  Status 39 = 0x13 (bad
# module) * 2 + 1.
printf 'PGHP\002\000\000\000\034\000\000\000\001\000\000\000\001\000\000\000\012\000\000\000\000\000\000\000' \
    > "$out/bad.mod"
qemu-system-i386 -kernel "$kernel" -initrd "$out/bad.mod" -m 128M -display none -monitor none \
    -no-reboot -serial "file:$out/serial" -accel tcg \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 > /dev/null 2>&1
st=$?
[ $st -eq 39 ] || fail "QEMU with a version-2 request exited $st, not 39"
grep -qx "bad-module probe request format version not supported" "$out/serial" ||
    fail "bad request: $(cat "$out/serial")"

# expect_usage PATTERN ARGS...: exit 2 and PATTERN on stderr.
expect_usage() {
    pattern="$1"
    shift
    "$pagesim" boot "$@" > /dev/null 2> "$out/err"
    st=$?
    [ $st -eq 2 ] || fail "pagesim boot $* exited $st, not 2"
    grep -qF -- "$pattern" "$out/err" || fail "pagesim boot $*: no '$pattern' in: $(cat "$out/err")"
}
expect_usage "--probe takes no SCENARIO" --probe 1 scenarios/thread.scn
expect_usage "--strategy does not apply to --probe" --probe 1 --strategy heap
expect_usage "--probes applies only to --probe" scenarios/thread.scn --probes 10
expect_usage "bad --probe '5-2'" --probe 5-2
expect_usage "bad --probes '0'" --probe 1 --probes 0
expect_usage "more than 1000000 probes in all" --probe 1-1000 --probes 1001

[ $fails -eq 0 ] || exit 1
echo "metal probe: 22 seeds agree with the simulator; bad requests and options refused"
