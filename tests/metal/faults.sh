#!/bin/sh
# How the bare-metal kernel fails: each failure gives its report or one
# clear line and its own exit status of `pagesim boot` (tools/boot.h), and
# faulting user accesses agree with the simulator.
# usage: faults.sh PAGESIM TOP KERNEL_ELF
set -u
pagesim="$1"
top="$2"
kernel="$3"
fails=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$top" || exit 1

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# expect STATUS PATTERN CMD...: CMD exits with STATUS and prints PATTERN
# (a fixed string) on stdout or stderr.
expect() {
    want="$1"
    pattern="$2"
    shift 2
    "$@" > "$out/log" 2>&1
    st=$?
    [ "$st" -eq "$want" ] || fail "$* exited $st, not $want"
    grep -qF -- "$pattern" "$out/log" || {
        fail "$* did not print: $pattern"
        head -30 "$out/log"
    }
}

thread=scenarios/thread.scn

# A kernel write through a wild pointer: the fault report and the panic
# status, not a hang.  0x0BAD0000 is unmapped user space in the kernel's
# directory: PDE 46 (0x0BAD0000 >> 22) is 0, so the write (W=1) made in
# supervisor mode (U=0) on a not-present entry (P=0) has error code 0x2.
expect 3 "CR2=0x0bad0000 error=0x2 (not present, write, supervisor)" \
    "$pagesim" boot $thread --inject wild-pointer
grep -qF "PDE[46]" "$out/log" || fail "wild pointer: no PDE[46] in the report"

# A general-protection fault and a double fault are reported, not reset.
# Loading DS with selector 0xFF8 (GDT index 511, past the kernel's 7
# descriptors) is a #GP whose error code is the selector (SDM 6.13).  A #UD
# with ESP on an unmapped page faults again while pushing its frame, which
# is a double fault (SDM table 6-5); its task gate has its own stack.
expect 3 "error code 0xff8" "$pagesim" boot $thread --inject general-protection
grep -qF "run stopped: general-protection" "$out/log" || fail "#GP: no report"
expect 3 "double fault (an exception while delivering another)" \
    "$pagesim" boot $thread --inject double-fault
grep -qF "run stopped: double-fault" "$out/log" || fail "#DF: no report"

# User-mode accesses are real ring-3 accesses: both builds fault the same
# way (error codes worked out in the scenario files).
expect 3 "metal: page fault CR2=0x40000000 error=0x5" \
    "$pagesim" boot tests/metal/user-read-kernel-page.scn --vs-sim
grep -qF "sim:   page fault CR2=0x40000000 error=0x5" "$out/log" || fail "user read: sim outcome"
grep -qx "The runs agree." "$out/log" || fail "user read: the runs differ"
# An op both builds refuse: the outcomes agree.  Line 3 maps a page of
# the range line 2 mapped, which the kernel refuses (already mapped).
printf 'space create a\nmap a 0x10000000 8K rw user\nmap a 0x10001000 4K rw user\n' \
    > "$out/refuse.scn"
expect 1 "The runs agree." "$pagesim" boot "$out/refuse.scn" --vs-sim
grep -qF "  outcome" "$out/log" || fail "refused op: outcomes differ"
grep -qF "metal: line 3 refused: a page of the range is mapped already" "$out/log" ||
    fail "refused op: metal outcome"

expect 3 "metal: page fault CR2=0x08049000 error=0x7" \
    "$pagesim" boot tests/metal/user-write-readonly.scn --vs-sim
grep -qx "The runs agree." "$out/log" || fail "user write: the runs differ"

# The kernel rejects a malformed module with a clear message.
expect 4 "the kernel rejected the module: not a pagesim module (bad magic number)" \
    "$pagesim" boot $thread --inject bad-module
# ... straight from QEMU as well: a header whose length field is not the
# module's size (88-byte header + 8-byte workload header = 96 bytes, the
# field says 999), and no module at all.  Status 39 = 0x13 (bad module) * 2 + 1.
printf 'PGSM\002\000\000\000\347\003\000\000' > "$out/bad.mod"
head -c 84 /dev/zero >> "$out/bad.mod"
for mod in "$out/bad.mod" ""; do
    qemu-system-i386 -kernel "$kernel" ${mod:+-initrd "$mod"} -m 32M -display none -monitor none \
        -no-reboot -serial "file:$out/serial" -accel tcg \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 > /dev/null 2>&1
    st=$?
    [ $st -eq 39 ] || fail "QEMU with module '${mod:-none}' exited $st, not 39"
    if [ -n "$mod" ]; then
        grep -qx "bad-module module length field does not match its size" "$out/serial" ||
            fail "bad length: $(cat "$out/serial")"
    else
        grep -q "^bad-module no module" "$out/serial" || fail "no module: $(cat "$out/serial")"
    fi
done

# Each way a boot can go wrong has its own line and status.
expect 7 "the machine reset without the kernel's exit (a triple fault)" \
    "$pagesim" boot $thread --inject triple-fault
expect 6 "the kernel did not finish within 2 seconds (hung?)" \
    "$pagesim" boot $thread --inject hang --timeout 2
expect 8 "the serial output is not a kernel report (at: this line is not part of a report)" \
    "$pagesim" boot $thread --inject noise
expect 5 "QEMU not found" "$pagesim" boot $thread --qemu /nonexistent/qemu-system-i386
expect 5 "grub-mkrescue not found" env PATH=/nonexistent "$pagesim" boot $thread --grub \
    --qemu "$(command -v qemu-system-i386)"

# Options that do not apply are usage errors.
expect 2 "unknown or incomplete option '--tlb'" "$pagesim" boot $thread --tlb 64/4
expect 2 "expected one SCENARIO" "$pagesim" boot
expect 2 "--gdb and --vs-sim exclude each other" "$pagesim" boot $thread --gdb --vs-sim
expect 0 "Expectations" "$pagesim" boot $thread

# --kernel: a file that is missing, or that carries no Multiboot header
# (a scenario file, or kernel.elf cut before its header: the header is the
# first thing in .text, so its first 8 bytes hold no magic + checksum), is
# refused before any boot.  kernel.elf itself boots.
expect 2 "--kernel $out/none.elf: No such file or directory" \
    "$pagesim" boot $thread --kernel "$out/none.elf"
expect 2 "--kernel $thread: not a Multiboot kernel" "$pagesim" boot $thread --kernel $thread
head -c 8 "$kernel" > "$out/cut.elf"
expect 2 "not a Multiboot kernel" "$pagesim" boot $thread --kernel "$out/cut.elf"
expect 0 "The runs agree." "$pagesim" boot $thread --kernel "$kernel" --vs-sim

[ $fails -eq 0 ] || exit 1
echo "metal faults: every failure reported as expected"
