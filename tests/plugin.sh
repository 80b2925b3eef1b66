#!/bin/sh
# Plug-ins (--plugin FILE.so, kernel/plugin.h), with the test plug-ins of
# tests/plugins: each refused plug-in exits 2 with its one message naming
# the file; a plug-in's names work wherever built-in ones do (every command,
# strategy and pmm lines, compare columns after the built-ins); its kernel
# data is as built in every machine; a fault in its code is reported as
# one in built-in code.
# usage: plugin.sh PAGESIM TOP PLUGINS_DIR
set -u
pagesim="$1"
top="$2"
P="$3"
cd "$top" || exit 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { # description, expected status, actual status
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: exit $3, expected $2"
        fail=1
    fi
}
has() { # description, file, fixed string it must hold
    if ! grep -qF -- "$3" "$2"; then
        echo "FAIL: $1: no '$3' in:"
        sed 's/^/  /' "$2" | head -12
        fail=1
    fi
}

# ---- refusals: exit 2, the file named, what is wrong ----
refused() { # plug-in file(s) as --plugin options, expected message
    want=$1
    shift
    "$pagesim" run scenarios/thread.scn "$@" > "$T/out" 2> "$T/err"
    check "refused: $want" 2 $?
    has "refused" "$T/err" "$want"
    [ -s "$T/out" ] && { echo "FAIL: refused: $want: something on stdout"; fail=1; }
}
refused "pagesim: plug-in $P/none.so: cannot be loaded: $P/none.so: cannot open shared object" \
    --plugin "$P/none.so"
refused "pagesim: plug-in README.md: cannot be loaded: ./README.md: invalid ELF header" \
    --plugin README.md
refused "pagesim: plug-in $P/ps_bad_no_init.so: not a pagesim plug-in (it defines no pagesim_plugin_init" \
    --plugin "$P/ps_bad_no_init.so"
refused "pagesim: plug-in $P/ps_bad_abi.so: built for plug-in ABI 999, this pagesim has 1" \
    --plugin "$P/ps_bad_abi.so"
refused "pagesim: plug-in $P/ps_dup_builtin.so: strategy 'tempmap' is registered already: it is a built-in one" \
    --plugin "$P/ps_dup_builtin.so"
refused "pagesim: plug-in $P/ps_dup_self.so: registers strategy 'dupself' twice" \
    --plugin "$P/ps_dup_self.so"
refused "pagesim: plug-in $P/ps_dup_other.so: strategy 'tmtest' is registered already by plug-in $P/ps_tmtest.so" \
    --plugin "$P/ps_tmtest.so" --plugin "$P/ps_dup_other.so"
refused "pagesim: plug-in $P/ps_tmtest.so: loaded twice" \
    --plugin "$P/ps_tmtest.so" --plugin "$P/ps_tmtest.so"
refused "pagesim: plug-in $P/ps_bad_incomplete.so: strategy 'bad' refused: its member reach is NULL" \
    --plugin "$P/ps_bad_incomplete.so"
# A name must fit the boot module (31 characters) and read as one word in
# scenario lines and --strategies lists.
refused "pagesim: plug-in $P/ps_bad_name_space.so: strategy 'my strat' refused: a name is 1 to 31 letters, digits, '-', '_' or '.'" \
    --plugin "$P/ps_bad_name_space.so"
refused "pagesim: plug-in $P/ps_bad_name_long.so: strategy 'abcdefghijklmnopqrstuvwxyz012345' refused: a name is 1 to 31" \
    --plugin "$P/ps_bad_name_long.so"
refused "pagesim: plug-in $P/ps_bad_return.so: its init (pagesim_plugin_init) returned 5" \
    --plugin "$P/ps_bad_return.so"
# Damaged section headers that dlopen does not read: the section header
# offset wrapped around, and pagesim_kbss moved outside the loaded segments
# (the simulator would zero it in every machine).
python3 - "$P/ps_tmtest.so" "$T" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
d = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shnum, shstr = struct.unpack_from('<HH', d, 0x3c)
w = bytearray(d)
struct.pack_into('<Q', w, 0x28, (2**64 - shnum * 64 + 64) % 2**64)
open(out + '/wrap.so', 'wb').write(w)
stroff, = struct.unpack_from('<Q', d, shoff + shstr * 64 + 0x18)
for i in range(shnum):
    o = shoff + i * 64
    n, = struct.unpack_from('<I', d, o)
    if d[stroff + n:d.index(0, stroff + n)] == b'pagesim_kbss':
        struct.pack_into('<Q', d, o + 0x10, 0x7000000000)
open(out + '/bss.so', 'wb').write(d)
PY
refused "pagesim: plug-in $T/wrap.so: damaged: its ELF headers do not hold together" --plugin "$T/wrap.so"
refused "pagesim: plug-in $T/bss.so: damaged: its ELF headers do not hold together" --plugin "$T/bss.so"
# init writes through a null pointer: the access runtime stops the process
# (kernel code outside a machine), and the abort is caught around init.
refused "pagesim: plug-in $P/ps_bad_crash.so: its init (pagesim_plugin_init) crashed: SIGABRT" \
    --plugin "$P/ps_bad_crash.so"
# --list-strategies refuses them alike; a plug-in name without one unknown
"$pagesim" --list-strategies --plugin "$P/ps_bad_abi.so" > /dev/null 2> "$T/err"
check "--list-strategies with a refused plug-in" 2 $?
has "--list-strategies refused" "$T/err" "built for plug-in ABI 999"
"$pagesim" --list-strategies --plugin > /dev/null 2>&1
check "--list-strategies --plugin without FILE" 2 $?
"$pagesim" run scenarios/thread.scn --strategy tmtest > /dev/null 2> "$T/err"
check "tmtest without its plug-in" 2 $?
has "tmtest without its plug-in" "$T/err" "unknown strategy 'tmtest'"
# boot: kernel.elf links no plug-in, so a plug-in's strategy or frame
# allocator needs --kernel (a kernel that links it): refused before QEMU.
"$pagesim" boot scenarios/thread.scn --strategy tmtest --plugin "$P/ps_tmtest.so" > "$T/out" 2> "$T/err"
check "boot of a plug-in strategy on kernel.elf" 2 $?
has "boot of a plug-in strategy on kernel.elf" "$T/err" "strategy 'tmtest' comes from plug-in $P/ps_tmtest.so, which kernel.elf does not link"
"$pagesim" boot scenarios/thread.scn --pmm firstfit --plugin "$P/ps_firstfit.so" > "$T/out" 2> "$T/err"
check "boot of a plug-in frame allocator on kernel.elf" 2 $?
has "boot of a plug-in frame allocator on kernel.elf" "$T/err" "frame allocator 'firstfit' comes from plug-in $P/ps_firstfit.so"
"$pagesim" boot scenarios/thread.scn --vs-sim --plugin "$P/ps_bad_abi.so" > /dev/null 2> "$T/err"
check "boot --vs-sim with a refused plug-in" 2 $?
has "boot --vs-sim with a refused plug-in" "$T/err" "built for plug-in ABI 999"

# ---- listed after the built-in strategies ----
"$pagesim" --list-strategies > "$T/builtin"
"$pagesim" --list-strategies --plugin "$P/ps_tmtest.so" --plugin="$P/ps_wild.so" > "$T/list"
check "--list-strategies --plugin" 0 $?
# The plug-ins may come before --list-strategies too: the same list.
"$pagesim" --plugin "$P/ps_tmtest.so" --plugin="$P/ps_wild.so" --list-strategies > "$T/list2"
check "--plugin ... --list-strategies" 0 $?
cmp -s "$T/list" "$T/list2" || { echo "FAIL: --plugin before --list-strategies lists otherwise"; fail=1; }
n=$(wc -l < "$T/builtin")
head -n "$n" "$T/list" | cmp -s - "$T/builtin" || { echo "FAIL: built-ins not listed first"; fail=1; }
tail -n 2 "$T/list" | awk '{ print $1, $2 }' > "$T/added"
printf 'tmtest bitmap\nwild bitmap\n' | cmp -s - "$T/added" ||
    { echo "FAIL: plug-in strategies not listed last:"; cat "$T/added"; fail=1; }

# ---- every command takes a plug-in's strategy ----
plug="--plugin $P/ps_tmtest.so"
"$pagesim" run scenarios/thread.scn $plug --strategy tmtest --csv > "$T/run.csv"
check "run --strategy tmtest" 0 $?
# check runs its files one after the other in one process: tmtest's boot
# panics unless its static data (a counter in data, one in bss) is as
# built, so this holds the restore of a plug-in's sections per machine.
"$pagesim" check scenarios/thread.scn scenarios/fork-exec.scn $plug --strategy tmtest > "$T/check"
check "check --strategy tmtest" 0 $?
has "check" "$T/check" "scenarios/thread.scn: pass (tmtest, "
"$pagesim" graph scenarios/thread.scn $plug --strategy tmtest -o "$T/g.dot"
check "graph --strategy tmtest" 0 $?
"$pagesim" dump scenarios/thread.scn $plug --strategy tmtest > "$T/dump"
check "dump --strategy tmtest" 0 $?
has "dump" "$T/dump" 'space "shell"'
"$pagesim" profile scenarios/thread.scn $plug --strategy tmtest --folded > "$T/prof"
check "profile --strategy tmtest" 0 $?
# the plug-in's static functions are named in call chains
has "profile names tmtest's functions" "$T/prof" ";vmm_walk_map;tt_open_pd;vmm_window_map"
# a strategy line names it
sed 's/^strategy .*/strategy tmtest/' scenarios/thread.scn > "$T/tm.scn"
"$pagesim" run "$T/tm.scn" $plug | head -1 > "$T/head"
has "strategy line" "$T/head" "strategy tmtest, frames bitmap"

# ---- compare: its column last; equal to its single run, and to tempmap ----
"$pagesim" compare scenarios/thread.scn $plug --csv > "$T/cmp.csv"
check "compare with a plug-in" 0 $?
head -1 "$T/cmp.csv" | grep -q ',physmap,tmtest$' || { echo "FAIL: compare: tmtest not last"; fail=1; }
column() { # CSV file, column name: "counter,value" lines
    awk -F, -v want="$2" 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == want) c = i; next }
                          c { print $1 "," $c }' "$1"
}
column "$T/run.csv" tmtest | grep -v '^expect:' > "$T/one"
column "$T/cmp.csv" tmtest > "$T/col"
cmp -s "$T/one" "$T/col" || { echo "FAIL: compare column tmtest differs from its run"; fail=1; }
# tmtest is tempmap's algorithm over the same kernel: every workload figure
# is tempmap's.  Only boot differs: the boot finds the strategy by name in
# the registry, comparing the module's name (in simulated memory) with
# each entry's until one matches, so the name's length and place count.
column "$T/cmp.csv" tempmap | grep -v '^boot:' | sed 's/^strategy,tempmap$/strategy,tmtest/' > "$T/tm"
grep -v '^boot:' "$T/col" > "$T/tt"
cmp -s "$T/tm" "$T/tt" || { echo "FAIL: tmtest's figures are not tempmap's:"; diff "$T/tm" "$T/tt" | head; fail=1; }
"$pagesim" compare scenarios/thread.scn $plug --strategies tmtest,recursive --csv > "$T/two.csv"
check "compare --strategies with a plug-in's name" 0 $?

# ---- a kernel bug in plug-in code: the fault report of built-in code ----
# wild's create writes 0x00BAD000, which no page table maps: a #PF with
# CR2 0x00bad000, error 0x2 (P=0 not present, W/R=1 write, U/S=0
# supervisor; SDM vol. 3 4.7), at thread.scn's first line (space create).
"$pagesim" run scenarios/thread.scn --plugin "$P/ps_wild.so" --strategy wild > "$T/wild" 2>&1
check "fault in plug-in code" 1 $?
has "fault" "$T/wild" "run stopped: page fault in wild_poke"
has "fault" "$T/wild" "CR2=0x00bad000 error=0x2 (not present, write, supervisor)"
has "fault" "$T/wild" "reason: scenarios/thread.scn:9: while running this line:"
"$pagesim" profile scenarios/thread.scn --plugin "$P/ps_wild.so" --strategy wild --folded \
    > "$T/wildprof" 2> /dev/null
has "fault's call chain" "$T/wildprof" "vmm_space_create;wild_create;wild_poke "

# ---- the frame-allocator plug-in ----
# firstfit hands out the lowest free frame.  firstfit.scn maps 2 pages at
# 0x10000000 (frames D and D+1: lowest first, both after the table), frees
# the first (D), maps 0x10002000: D again, the lowest free frame (nothing
# below D was freed).  So at the end 0x10001000 -> D+1, 0x10002000 -> D, a
# descending run of 2 frames starting where the snapshot's run started.
# bitmap (next fit) goes on after D+1 instead: 0x10002000 -> D+2.
scn=tests/plugins/firstfit.scn
ff="--plugin $P/ps_firstfit.so"
"$pagesim" dump $scn $ff --at both > "$T/both"
check "dump --pmm firstfit (pmm line)" 0 $?
d=$(awk '$1 == "0x10000000-0x10001fff" { split($3, r, "-"); print r[1] }' "$T/both")
[ -n "$d" ] || { echo "FAIL: firstfit: no 2-page run at 0x10000000"; cat "$T/both"; fail=1; }
d1=$(printf '0x%08x' $((d + 0x1000)))
d1end=$(printf '0x%08x' $((d + 0x1fff)))
"$pagesim" dump $scn $ff > "$T/end"
grep -q "^    0x10001000-0x10002fff     8K  $d-$d1end      2 x 4K .* descending$" "$T/end" ||
    { echo "FAIL: firstfit did not hand $d out again:"; head -4 "$T/end"; fail=1; }
"$pagesim" dump $scn $ff --pmm bitmap > "$T/bm"
d2end=$(printf '0x%08x' $((d + 0x2fff)))
grep -q "^    0x10001000-0x10002fff     8K  $d1-$d2end      2 x 4K " "$T/bm" ||
    { echo "FAIL: bitmap did not go on after $d1:"; head -4 "$T/bm"; fail=1; }
# --pmm names it too; the report says which allocator ran; 2 data frames.
"$pagesim" run $scn $ff --pmm firstfit > "$T/ffrun"
check "run --pmm firstfit" 0 $?
has "run --pmm firstfit" "$T/ffrun" "strategy tempmap, frames firstfit,"
has "run --pmm firstfit" "$T/ffrun" "expect frames.data == 2: pass"
"$pagesim" run $scn --pmm firstfit > /dev/null 2> "$T/err"
check "--pmm firstfit without its plug-in" 2 $?
has "--pmm firstfit without its plug-in" "$T/err" "unknown frame allocator 'firstfit'"

[ $fail -eq 0 ] && echo "plugin: all checks passed"
exit $fail
