#!/bin/sh
# CLI tests: exit codes, help, and one "file:line:col: error:" line (exit 2)
# for every malformed scenario in tests/bad (expected lines in expected.txt).
set -u
pagesim="$1"
top="$2"
# Scratch files in a directory of this run's own (tests may run side by side).
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { # description, expected status, actual status
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: exit $3, expected $2"
        fail=1
    fi
}
# the strategies, from the registry; an expected line names them as @STRATEGIES@
strategies=$("$pagesim" --list-strategies | awk '{ print $1 }')
[ -n "$strategies" ] || { echo "FAIL: pagesim --list-strategies lists nothing"; exit 1; }
strategy_list=$(echo "$strategies" | paste -sd, - | sed 's/,/, /g')
cd "$top/tests/bad" || exit 1
while IFS= read -r want; do
    want=$(printf '%s\n' "$want" | sed "s/@STRATEGIES@/$strategy_list/")
    file=${want%%:*}
    got=$("$pagesim" run "$file" 2>&1 >/dev/null)
    st=$?
    check "$file" 2 $st
    if [ "$got" != "$want" ]; then
        echo "FAIL: $file"
        echo "  expected: $want"
        echo "  got:      $got"
        fail=1
    fi
    lines=$("$pagesim" run "$file" 2>&1 | wc -l)
    check "$file prints one line" 1 "$lines"
done < expected.txt
cd "$top" || exit 1

"$pagesim" >/dev/null 2>&1; check "no command" 2 $?
"$pagesim" --list-strategies x >/dev/null 2>&1; check "--list-strategies with an argument" 2 $?
"$pagesim" --list-strategies > /dev/full 2>/dev/null; check "--list-strategies to a full disk" 2 $?
# a scenario without a strategy line runs the default the help names, on its frame allocator
def=$("$pagesim" --help | sed -n 's/^strategies: .* (default: \(.*\))$/\1/p')
defpmm=$("$pagesim" --list-strategies | awk -v s="$def" '$1 == s { print $2 }')
printf 'space create a\n' > $T/pagesim-nostrategy.scn
"$pagesim" run $T/pagesim-nostrategy.scn --log 2>&1 |
    grep -q "^  boot: paging $def, frames $defpmm: " || { echo "FAIL: default strategy is not $def on $defpmm"; fail=1; }
"$pagesim" --help | grep -q "commands:"; check "--help lists commands" 0 $?
for c in run compare graph dump check; do
    "$pagesim" $c --help | grep -q "usage: pagesim $c"; check "$c --help" 0 $?
done
"$pagesim" frob x 2>/dev/null; check "unknown command" 2 $?
"$pagesim" run 2>/dev/null; check "run without scenario" 2 $?
"$pagesim" run scenarios/thread.scn --bogus 2>/dev/null; check "unknown option" 2 $?
"$pagesim" run scenarios/thread.scn --json --csv 2>/dev/null; check "--json with --csv" 2 $?
"$pagesim" run scenarios/thread.scn --cost nosuch=3 2>/dev/null; check "bad --cost" 2 $?
"$pagesim" run scenarios/thread.scn --tlb 3/2 2>/dev/null; check "bad --tlb" 2 $?
"$pagesim" run /nonexistent.scn 2>/dev/null; check "missing file" 2 $?
"$pagesim" graph scenarios/thread.scn -o x.txt 2>/dev/null; check "graph bad extension" 2 $?
"$pagesim" graph scenarios/thread.scn --at nosuch -o /tmp/x.dot 2>/dev/null; check "graph unknown label" 2 $?

# run: a report, exit 0; JSON is valid enough to name every counter.
out=$("$pagesim" run scenarios/thread.scn); check "run thread" 0 $?
echo "$out" | grep -q "^  tlb.misses " || { echo "FAIL: run report lacks tlb.misses"; fail=1; }
"$pagesim" run scenarios/thread.scn --json | grep -q '"tlb.misses": '; check "run --json" 0 $?
"$pagesim" run scenarios/thread.scn --csv | grep -q '^invlpg,'; check "run --csv" 0 $?
# the cost model constant changes the estimate
a=$("$pagesim" run scenarios/thread.scn --csv | grep '^cycles,')
b=$("$pagesim" run scenarios/thread.scn --csv --cost invlpg=100000 | grep '^cycles,')
[ "$a" != "$b" ] || { echo "FAIL: --cost invlpg had no effect"; fail=1; }
# determinism: two runs, same bytes
"$pagesim" compare scenarios/thread.scn > $T/pagesim-cmp1.txt
"$pagesim" compare scenarios/thread.scn > $T/pagesim-cmp2.txt
cmp -s $T/pagesim-cmp1.txt $T/pagesim-cmp2.txt || { echo "FAIL: compare not deterministic"; fail=1; }
grep -q '\*' $T/pagesim-cmp1.txt || { echo "FAIL: compare marks no best value"; fail=1; }
for s in $strategies; do
    head -4 $T/pagesim-cmp1.txt | grep -q -- " $s" || { echo "FAIL: compare lacks $s"; fail=1; }
done
# --from: events after a snapshot are the totals minus the totals there
total=$("$pagesim" run scenarios/thread.scn --csv | grep '^invlpg,' | cut -d, -f2)
early=$("$pagesim" run scenarios/thread.scn --csv --at booted | grep '^invlpg,' | cut -d, -f2)
since=$("$pagesim" run scenarios/thread.scn --csv --from booted | grep '^invlpg,' | cut -d, -f2)
[ "$since" -eq $((total - early)) ] || { echo "FAIL: --from: $since != $total - $early"; fail=1; }
# boot is not in the figures: at a snapshot before the first op the
# workload has done nothing, so every event count is 0 for every strategy;
# with --with-boot boot's own work shows (it builds the kernel directory
# and loads CR3 at least once)
printf 'snapshot start\nspace create a\n' > $T/pagesim-start.scn
for s in $strategies; do
    at=$("$pagesim" run $T/pagesim-start.scn --strategy $s --at start --csv)
    for k in accesses tlb.misses walks invlpg cr3_writes cycles; do
        [ "$(echo "$at" | grep "^$k," | cut -d, -f2)" = 0 ] ||
            { echo "FAIL: $s: $k at the first line is not 0: boot counted"; fail=1; }
    done
    atb=$("$pagesim" run $T/pagesim-start.scn --strategy $s --at start --csv --with-boot)
    [ "$(echo "$atb" | grep '^cr3_writes,' | cut -d, -f2)" -ge 1 ] ||
        { echo "FAIL: $s: --with-boot shows no boot CR3 write"; fail=1; }
done
# the boot rows are what the workload figures leave out: for every event
# row shown for boot, workload + boot = the --with-boot figure
for s in heap recursive tempmap; do
    w=$("$pagesim" run scenarios/thread.scn --strategy $s --csv)
    b=$("$pagesim" run scenarios/thread.scn --strategy $s --csv --with-boot)
    for k in $(echo "$w" | sed -n 's/^boot:\([^,]*\),.*/\1/p'); do
        wv=$(echo "$w" | grep "^$k," | cut -d, -f2)
        bv=$(echo "$w" | grep "^boot:$k," | cut -d, -f2)
        tv=$(echo "$b" | grep "^$k," | cut -d, -f2)
        [ $((wv + bv)) -eq "$tv" ] ||
            { echo "FAIL: $s: $k: workload $wv + boot $bv != --with-boot $tv"; fail=1; }
    done
done
"$pagesim" run scenarios/thread.scn --from children --at booted 2>/dev/null
check "--from after --at" 2 $?

# kernel4m=on: every shipped scenario, every strategy, reads no large page
# through the self-map or foreign window; kernel4m needs pse.
for f in scenarios/*.scn; do
    sed 's/^machine /machine kernel4m=on /' "$f" > $T/pagesim-k4m.scn
    "$pagesim" compare $T/pagesim-k4m.scn --csv | grep '^recursive.large_page_hits,' |
        grep -qv '[1-9]' || { echo "FAIL: $f with kernel4m=on: large_page_hits not 0"; fail=1; }
done
printf 'machine kernel4m=on pse=off\n' > $T/pagesim-k4m.scn
"$pagesim" run $T/pagesim-k4m.scn 2> $T/pagesim-k4m.err
check "kernel4m without pse" 2 $?
grep -q "^$T/pagesim-k4m.scn:1:[0-9]*: error: kernel4m=on needs" $T/pagesim-k4m.err ||
    { echo "FAIL: kernel4m without pse: $(cat $T/pagesim-k4m.err)"; fail=1; }
printf 'machine kernel4m=on\n' > $T/pagesim-k4m.scn
"$pagesim" run $T/pagesim-k4m.scn --pse off 2> $T/pagesim-k4m.err
check "kernel4m with --pse off" 2 $?
grep -q "^$T/pagesim-k4m.scn:1:[0-9]*: error: kernel4m=on needs.*command line set pse=off" \
    $T/pagesim-k4m.err || { echo "FAIL: kernel4m, --pse off: $(cat $T/pagesim-k4m.err)"; fail=1; }
# --kernel4m on|off overrides the machine line, for every command that runs
# a scenario; compare --kernel4m both adds what 4 MiB kernel pages save.
"$pagesim" run scenarios/thread.scn --kernel4m on | head -1 | grep -q ', kernel4m on$' ||
    { echo "FAIL: run --kernel4m on is not in the report's machine line"; fail=1; }
printf 'machine kernel4m=on\nspace create a\n' > $T/pagesim-k4m.scn
"$pagesim" run $T/pagesim-k4m.scn --kernel4m off | head -1 | grep -q 'kernel4m' &&
    { echo "FAIL: run --kernel4m off leaves the scenario's kernel4m=on"; fail=1; }
for c in run compare graph dump check profile; do
    "$pagesim" $c --help | grep -q -- '--kernel4m on|off'; check "$c --help names --kernel4m" 0 $?
done
"$pagesim" run scenarios/thread.scn --kernel4m both 2>/dev/null; check "run --kernel4m both" 2 $?
"$pagesim" compare scenarios/thread.scn --kernel4m maybe 2>/dev/null
check "compare --kernel4m maybe" 2 $?
"$pagesim" run scenarios/thread.scn --kernel4m on --pse off 2> $T/pagesim-k4m.err
check "--kernel4m on --pse off" 2 $?
grep -q "^command line: error: --kernel4m on needs 4 MiB pages: pse must be on (the command line" \
    $T/pagesim-k4m.err || { echo "FAIL: --kernel4m on, --pse off: $(cat $T/pagesim-k4m.err)"; fail=1; }
printf 'machine pse=off\nspace create a\n' > $T/pagesim-k4m.scn
"$pagesim" run $T/pagesim-k4m.scn --kernel4m on 2> $T/pagesim-k4m.err
check "--kernel4m on, scenario pse=off" 2 $?
grep -q "machine line sets pse=off" $T/pagesim-k4m.err ||
    { echo "FAIL: --kernel4m on, scenario pse=off: $(cat $T/pagesim-k4m.err)"; fail=1; }
"$pagesim" boot scenarios/thread.scn --kernel4m maybe 2>/dev/null; check "boot --kernel4m maybe" 2 $?
"$pagesim" boot --probe 1 --kernel4m on 2>/dev/null; check "boot --probe --kernel4m" 2 $?
# What 4 MiB kernel pages save, thread.scn, by hand.  The early 16 MiB of the
# kernel half is 4 page tables with 4 KiB pages and 4 PDEs with PS=1 with
# kernel4m: heap saves 4 kernel tables (4 frames).  physmap, with PSE, maps
# its direct map, the early 16 MiB included, with the same 4 MiB pages
# either way: it saves nothing.  With kernel4m the four 4 MiB entries are
# global, filled at boot, one in each of sets 0-3 of the 32/4 4 MiB TLB
# (PDX 768-771), which nothing else fills under heap: the workload never
# misses in the early map.  Without it each such miss walks a PDE and a PTE
# whose A bits boot set: the walk_reads saved are twice the misses saved,
# no A/D update is saved, and the cycles saved are those reads at the
# cost model's walk_read (10 cycles).  The table above them is with 4 KiB
# pages: heap's tlb.misses there is that of --kernel4m off.
"$pagesim" compare scenarios/thread.scn --kernel4m both --strategies heap,physmap --csv \
    > $T/pagesim-k4m.csv
check "compare --kernel4m both" 0 $?
k4m() { awk -F, -v r="$1" -v k="$2" '$1 == r { print $(k + 1) }' $T/pagesim-k4m.csv; }
[ "$(k4m kernel4m_saves:frames.pt.kernel 1),$(k4m kernel4m_saves:frames.used 1)" = "4,4" ] ||
    { echo "FAIL: kernel4m saves heap $(k4m kernel4m_saves:frames.pt.kernel 1) tables"; fail=1; }
for row in tlb.misses walk_reads ad_updates frames.pt.kernel frames.used cycles; do
    [ "$(k4m kernel4m_saves:$row 2)" = 0 ] ||
        { echo "FAIL: kernel4m saves physmap $(k4m kernel4m_saves:$row 2) $row"; fail=1; }
done
m=$(k4m kernel4m_saves:tlb.misses 1)
[ "$m" -gt 0 ] && [ "$(k4m kernel4m_saves:walk_reads 1)" = $((2 * m)) ] &&
    [ "$(k4m kernel4m_saves:ad_updates 1)" = 0 ] &&
    [ "$(k4m kernel4m_saves:cycles 1)" = $((20 * m)) ] ||
    { echo "FAIL: kernel4m saves heap $m misses: $(grep kernel4m_saves $T/pagesim-k4m.csv)"; fail=1; }
off=$("$pagesim" run scenarios/thread.scn --strategy heap --kernel4m off --csv |
    awk -F, '$1 == "tlb.misses" { print $2 }')
on=$("$pagesim" run scenarios/thread.scn --strategy heap --kernel4m on --csv |
    awk -F, '$1 == "tlb.misses" { print $2 }')
[ "$(k4m tlb.misses 1)" = "$off" ] && [ $((off - on)) = "$m" ] ||
    { echo "FAIL: compare --kernel4m both: $(k4m tlb.misses 1) misses, saves $m; run: $off off, $on on"; fail=1; }
# --trace: one line per INVLPG, CR0/CR3/CR4 write and #PF, boot included, so
# under every strategy its line counts are the --with-boot counters, and
# its lines not marked boot are the default (workload) counters.  CR0 and
# CR4 have no counter; by hand: the boot entry sets CR4, CR3 and CR0 once
# each before the kernel runs (sim/bootload.c), and the kernel writes
# neither CR0 nor CR4 (no arch_write_cr0/cr4 or helper calling them in
# kernel/ or allocators/), so there is 1 cr0 and 1 cr4 line, and one of the
# cr3 lines is the entry's.
kinds() { # trace file, kind: how many lines of that kind
    awk -v k="$2" '$2 == k' "$1" | wc -l
}
for s in $strategies; do
    tr=$T/pagesim-trace-$s.txt
    "$pagesim" run scenarios/thread.scn --strategy "$s" --trace "$tr" > /dev/null
    check "run --trace ($s)" 0 $?
    grep -v '^boot ' "$tr" > "$tr.workload"
    csv=$("$pagesim" run scenarios/thread.scn --strategy "$s" --csv)
    csvb=$("$pagesim" run scenarios/thread.scn --strategy "$s" --csv --with-boot)
    for kc in invlpg:invlpg cr3:cr3_writes '#PF:faults'; do
        k=${kc%%:*}
        want=$(echo "$csvb" | grep "^${kc#*:}," | cut -d, -f2)
        [ "$(kinds "$tr" "$k")" = "$want" ] ||
            { echo "FAIL: $s: trace has $(kinds "$tr" "$k") $k lines, counter $want"; fail=1; }
        want=$(echo "$csv" | grep "^${kc#*:}," | cut -d, -f2)
        [ "$(kinds "$tr.workload" "$k")" = "$want" ] ||
            { echo "FAIL: $s: trace has $(kinds "$tr.workload" "$k") workload $k lines, counter $want"; fail=1; }
    done
    for k in cr0 cr3 cr4; do
        n=$(grep -c "^boot  *$k .*  boot entry\$" "$tr")
        [ "$n" = 1 ] || { echo "FAIL: $s: $n boot entry $k lines, expected 1"; fail=1; }
    done
    [ "$(kinds "$tr" cr0)" = 1 ] || { echo "FAIL: $s: $(kinds "$tr" cr0) cr0 lines"; fail=1; }
    [ "$(kinds "$tr" cr4)" = 1 ] || { echo "FAIL: $s: $(kinds "$tr" cr4) cr4 lines"; fail=1; }
    # a switch names the wrappers and who asked for it
    grep -q '^scenarios/thread.scn:10 .* cr3 .*  vmm_load_cr3 < vmm_space_switch < wl_execute$' "$tr" ||
        { echo "FAIL: $s: trace does not name line 10's switch and its caller"; fail=1; }
done
# who flushed: recursive's foreign-slot code, behind the INVLPG wrapper
grep -q '^scenarios/thread.scn:20 .* invlpg .*  vmm_invlpg < rc_aim$' \
    $T/pagesim-trace-recursive.txt ||
    { echo "FAIL: recursive trace does not name rc_aim as who flushed"; fail=1; }
# check: pass is 0; a failing expectation is 1 and names the line
"$pagesim" check scenarios/thread.scn >/dev/null; check "check thread" 0 $?
printf 'space create a\nspace switch a\nexpect invlpg == 999999\n' > $T/pagesim-fail.scn
out=$("$pagesim" check $T/pagesim-fail.scn); check "failing expect" 1 $?
echo "$out" | grep -q "pagesim-fail.scn:3:1: expect invlpg == 999999 failed" ||
    { echo "FAIL: check output: $out"; fail=1; }
# expect COUNTER OP COUNTER: a failure shows both values.  Two user pages
# mapped (frames.data 2), each touched by a read and then a write, one
# translation per page per touch (accesses.user 2 * 2 = 4), so
# "accesses.user < frames.data" fails with 4 against 2.
ccscn=$T/pagesim-cc.scn
printf 'machine ram=64M\nstrategy recursive\nspace create a\nspace switch a\nmap 0x10000000 8K rw user\ntouch 0x10000000 8K read user\ntouch 0x10000000 8K write user\nexpect accesses.user < frames.data\n' >"$ccscn"
out=$("$pagesim" check "$ccscn"); check "failing counter expect" 1 $?
echo "$out" | grep -q "pagesim-cc.scn:8:1: expect accesses.user < frames.data failed: accesses.user 4, frames.data 2$" ||
    { echo "FAIL: check output: $out"; fail=1; }
"$pagesim" run "$ccscn" | grep -q "pagesim-cc.scn:8: expect accesses.user < frames.data: FAIL (accesses.user 4, frames.data 2)$" ||
    { echo "FAIL: run does not show both values"; fail=1; }
"$pagesim" run "$ccscn" --csv | grep -q '^expect:8,"FAIL (accesses.user 4, frames.data 2)"$' ||
    { echo "FAIL: run --csv does not show both values"; fail=1; }
"$pagesim" run "$ccscn" --json | grep -q '{"line": 8, "expect": "accesses.user < frames.data", "result": "FAIL", "value": 4, "rhs_value": 2}' ||
    { echo "FAIL: run --json does not show both values"; fail=1; }
rm -f "$ccscn"
"$pagesim" check --help | grep -q "expect COUNTER OP VALUE|COUNTER" ||
    { echo "FAIL: check --help does not give the expect line's form"; fail=1; }
# heap-churn's expectations hold whatever the strategy: every kmalloc'ed
# block is freed, and heap.used == heap.paging says so for all of them
for s in $strategies; do
    "$pagesim" check scenarios/heap-churn.scn --strategy "$s" >/dev/null
    check "heap-churn check --strategy $s" 0 $?
done
# a kernel stop is a report with the scenario line, exit 1, never a crash
printf 'space create a\nspace switch a\ntouch 0x10000000 4K write user\n' > $T/pagesim-pf.scn
out=$("$pagesim" run $T/pagesim-pf.scn); check "run that faults" 1 $?
echo "$out" | grep -q "pagesim-pf.scn:3: while running this line" ||
    { echo "FAIL: stop report lacks the line: $out"; fail=1; }
echo "$out" | grep -q "CR2=0x10000000 error=0x6 (not present, write, user)" ||
    { echo "FAIL: stop report lacks CR2/error code"; fail=1; }
# a fault that stops the run is traced too: #PF lines == faults
"$pagesim" run $T/pagesim-pf.scn --trace $T/pagesim-pf-trace.txt > /dev/null
n=$(echo "$out" | sed -n 's/^  faults  *\([0-9]*\).*/\1/p')
[ "$n" = 1 ] && [ "$(kinds $T/pagesim-pf-trace.txt '#PF')" = "$n" ] ||
    { echo "FAIL: stopped run: $(kinds $T/pagesim-pf-trace.txt '#PF') #PF lines, faults $n"; fail=1; }
grep -q "^$T/pagesim-pf.scn:3 .*#PF  *0x10000000  error 0x6 " $T/pagesim-pf-trace.txt ||
    { echo "FAIL: the #PF line of pagesim-pf.scn:3 is missing"; fail=1; }
# --trace-json: a Chrome trace-event file.  It parses; its instant events
# are the trace's lines, so under every strategy the invlpg, cr3 and #PF
# ones number the --with-boot counters (as --trace above), and 1 cr0 and 1
# cr4 (the boot entry's, see above); stale events number tlb.stale_uses
# (bug) and tlb.stale_harmless.  The op slices follow one another (each
# begins where the one before ended or later, none has a negative length)
# after one boot slice from 0.  Two runs give the same bytes.
tjson() { # file, counters as csv: "name=count ..." of the events, or a failure
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
n = {}
for e in ev:
    k = e["name"]
    if e["ph"] == "i" and k == "stale":
        k = "stale_bug" if e["args"]["bug"] else "stale_harmless"
    if e["ph"] == "i":
        n[k] = n.get(k, 0) + 1
sl = [e for e in ev if e["ph"] == "X"]
assert sl[0]["cat"] == "boot" and sl[0]["ts"] == 0, "no boot slice first"
end = 0
for e in sl:
    assert e["ts"] >= end and e["dur"] >= 0, "slices overlap at %d" % e["ts"]
    end = e["ts"] + e["dur"]
assert all(e["args"]["entries"] >= 0 for e in ev if e["ph"] == "C")
print(" ".join("%s=%d" % kv for kv in sorted(n.items())))' "$1" 2>&1
}
for s in $strategies; do
    "$pagesim" run scenarios/thread.scn --strategy "$s" --trace-json $T/pagesim-tj-$s.json \
        > /dev/null
    check "run --trace-json ($s)" 0 $?
    got=$(tjson $T/pagesim-tj-$s.json)
    csvb=$("$pagesim" run scenarios/thread.scn --strategy "$s" --csv --with-boot)
    v() { echo "$csvb" | grep "^$1," | cut -d, -f2; }
    # a kind with no event is absent from the counts
    want=$(printf '%s\n' "#PF=$(v faults)" "cr0=1" "cr3=$(v cr3_writes)" "cr4=1" \
        "invlpg=$(v invlpg)" | grep -v '=0$' | sort | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$want" ] || { echo "FAIL: $s: --trace-json events '$got', counters '$want'"; fail=1; }
done
"$pagesim" run scenarios/thread.scn --strategy recursive --inject skip-invlpg=rc_aim \
    --trace-json $T/pagesim-tj-stale.json --csv --with-boot > $T/pagesim-tj-stale.csv 2>/dev/null
got=$(tjson $T/pagesim-tj-stale.json | tr ' ' '\n' | grep '^stale' | tr '\n' ' ')
want="stale_bug=$(grep '^tlb.stale_uses,' $T/pagesim-tj-stale.csv | cut -d, -f2) "
want="${want}stale_harmless=$(grep '^tlb.stale_harmless,' $T/pagesim-tj-stale.csv | cut -d, -f2) "
case "$want" in stale_bug=0*) echo "FAIL: no stale use injected"; fail=1 ;; esac
[ "$got" = "$want" ] || { echo "FAIL: --trace-json stale events '$got', counters '$want'"; fail=1; }
grep -q '"name":"stale",.*"chain":"rc_create",.*"changed by":"rc_aim"' $T/pagesim-tj-stale.json ||
    { echo "FAIL: --trace-json stale event does not name rc_create and rc_aim"; fail=1; }
"$pagesim" run scenarios/thread.scn --strategy recursive --inject skip-invlpg=rc_aim \
    --trace-json $T/pagesim-tj-stale2.json > /dev/null 2>&1
cmp -s $T/pagesim-tj-stale.json $T/pagesim-tj-stale2.json ||
    { echo "FAIL: --trace-json differs between two runs"; fail=1; }
# a run stopped by a fault still ends in a file that parses, with its #PF
"$pagesim" run $T/pagesim-pf.scn --trace-json $T/pagesim-pf.json > /dev/null
case " $(tjson $T/pagesim-pf.json) " in *" #PF=1 "*) ;;
*) echo "FAIL: stopped run --trace-json: $(tjson $T/pagesim-pf.json)"; fail=1 ;; esac
# expectations after the stop are not reached, and say so
printf 'space create a\nspace switch a\ntouch 0x10000000 4K\nexpect faults == 0\n' > $T/pagesim-nr.scn
out=$("$pagesim" run $T/pagesim-nr.scn); check "run with unreached expect" 1 $?
echo "$out" | grep -q "pagesim-nr.scn:4: expect faults == 0: FAIL (not reached)" ||
    { echo "FAIL: unreached expectation not reported"; fail=1; }
# dump and graph fail (exit 1) when the run stops after their snapshot
printf 'space create a\nspace switch a\nsnapshot s\ntouch 0x10000000 4K\n' > $T/pagesim-sf.scn
"$pagesim" dump $T/pagesim-sf.scn --at s > /dev/null 2>&1; check "dump, run fails later" 1 $?
"$pagesim" graph $T/pagesim-sf.scn --at s -o $T/pagesim-sf.dot 2>/dev/null
check "graph, run fails later" 1 $?
"$pagesim" run scenarios/thread.scn --cost invlpg=-1 2>/dev/null; check "negative --cost" 2 $?
# a scenario name with a quote reaches gnuplot as text, not as commands
rm -f $T/pagesim-pwned
cp scenarios/thread.scn "$T/pagesim-q'; system 'touch pagesim-pwned'; print '.scn"
(cd "$T" && "$pagesim" compare "pagesim-q'; system 'touch pagesim-pwned'; print '.scn" \
    --plot "pagesim-q'.png" > /dev/null)
check "compare --plot with quotes" 0 $?
[ -s "$T/pagesim-q'.png" ] || { echo "FAIL: no plot written"; fail=1; }
[ ! -e $T/pagesim-pwned ] || { echo "FAIL: gnuplot ran a command from a file name"; fail=1; }
# dump shows mappings and the TLB
"$pagesim" dump scenarios/thread.scn --at booted | grep -qi "tlb"; check "dump" 0 $?

# graph: DOT edges follow the page tables.  At "children" thread.scn has five
# spaces; under recursive each has a self-map and the shell's foreign slot
# points at a child; under heap there is neither.
"$pagesim" graph scenarios/thread.scn --at children --strategy recursive -o $T/pagesim-r.dot
check "graph recursive dot" 0 $?
n=$(grep -c 'label="self-map 1023"' $T/pagesim-r.dot)
[ "$n" = 5 ] || { echo "FAIL: recursive graph has $n self-map edges, expected 5"; fail=1; }
grep -q 'label="foreign 1022"' $T/pagesim-r.dot || { echo "FAIL: no foreign edge"; fail=1; }
"$pagesim" graph scenarios/thread.scn --at children --strategy heap -o $T/pagesim-h.dot
check "graph heap dot" 0 $?
if grep -q 'label="self-map 1023"\|label="foreign 1022"' $T/pagesim-h.dot; then
    echo "FAIL: heap graph has a self-map or foreign edge"; fail=1
fi
"$pagesim" graph scenarios/thread.scn --strategy heap -o $T/pagesim-h.svg
check "graph svg" 0 $?
grep -q '</svg>' $T/pagesim-h.svg || { echo "FAIL: svg not complete"; fail=1; }
if command -v xmllint >/dev/null; then
    xmllint --noout $T/pagesim-h.svg || { echo "FAIL: svg is not well-formed XML"; fail=1; }
fi
"$pagesim" graph scenarios/thread.scn --space nosuch -o $T/pagesim-x.dot 2>/dev/null
check "graph unknown space" 2 $?
# graph --diff A B: in one table, between A and B 0x10000000 is unmapped
# (removed), 0x10001000 unmapped and mapped again read-only (changed: R/W
# cleared, whatever frame it gets), 0x10002000 mapped (added); 0x10003000 is
# untouched and the table stays.  So exactly one element of each kind.
printf 'space create a\nspace switch a\nmap 0x10000000 4K rw user\nmap 0x10001000 4K rw user
map 0x10003000 4K rw user\nsnapshot A\nunmap 0x10000000 4K\nunmap 0x10001000 4K
map 0x10001000 4K ro user\nmap 0x10002000 4K rw user\nsnapshot B\n' > $T/pagesim-gd.scn
"$pagesim" graph $T/pagesim-gd.scn --strategy recursive --diff A B -o $T/pagesim-gd.dot
check "graph --diff" 0 $?
for k in added changed removed; do
    n=$(grep -c "$k since 'A'" $T/pagesim-gd.dot)
    [ "$n" = 1 ] || { echo "FAIL: graph --diff has $n $k elements, expected 1"; fail=1; }
done
"$pagesim" graph $T/pagesim-gd.scn --diff B A -o $T/pagesim-x.dot 2>/dev/null
check "graph --diff out of order" 2 $?
"$pagesim" graph $T/pagesim-gd.scn --diff A nosuch -o $T/pagesim-x.dot 2>/dev/null
check "graph --diff unknown label" 2 $?
"$pagesim" dump $T/pagesim-gd.scn --diff A B 2>/dev/null; check "dump --diff" 2 $?

# --max-ops: 1 create, then 2 ops a pass.  A limit of 5 runs the create and
# two passes (1 + 4) and stops before the kmalloc of line 3; 2001 is all of
# them; 2000 stops before the last kfree (line 4).  Exit 1, the report says so.
printf 'space create a\nrepeat 1000\nkmalloc b 8\nkfree b\nend\n' > $T/pagesim-lim.scn
out=$("$pagesim" run $T/pagesim-lim.scn --max-ops 5); check "run --max-ops 5" 1 $?
echo "$out" | grep -q "^status: stopped$" || { echo "FAIL: --max-ops stop status: $out"; fail=1; }
echo "$out" | grep -q "^reason: $T/pagesim-lim.scn:3: stopped before this line: the run reached its limit of 5 executed operations (--max-ops N raises it; 0 for no limit)$" ||
    { echo "FAIL: --max-ops stop not reported: $out"; fail=1; }
out=$("$pagesim" run $T/pagesim-lim.scn --max-ops 2000); check "run --max-ops 2000" 1 $?
echo "$out" | grep -q "^reason: $T/pagesim-lim.scn:4: stopped before this line" ||
    { echo "FAIL: --max-ops 2000 stopped elsewhere: $out"; fail=1; }
"$pagesim" run $T/pagesim-lim.scn --max-ops 2001 >/dev/null; check "run --max-ops 2001" 0 $?
"$pagesim" run $T/pagesim-lim.scn --max-ops 0 >/dev/null; check "run --max-ops 0" 0 $?
"$pagesim" check $T/pagesim-lim.scn --max-ops 5 >/dev/null; check "check --max-ops 5" 1 $?
"$pagesim" compare $T/pagesim-lim.scn --max-ops 5 >/dev/null; check "compare --max-ops 5" 1 $?
"$pagesim" run $T/pagesim-lim.scn --max-ops 12x 2>/dev/null; check "bad --max-ops" 2 $?
"$pagesim" run --help | grep -q -- "--max-ops N"; check "run --help lists --max-ops" 0 $?
# the script-size limit is an input error at parse time, at the line past it
yes 'kmalloc a 8' | head -n 65537 > $T/pagesim-big.scn
got=$("$pagesim" run $T/pagesim-big.scn 2>&1 >/dev/null); check "script over the op limit" 2 $?
[ "$got" = "$T/pagesim-big.scn:65537:1: error: the script has more than 65536 operations (the limit)" ] ||
    { echo "FAIL: op limit message: $got"; fail=1; }
# --pmm overrides the scenario's pmm line: thread.scn with 'pmm bitmap' added
# reports as thread.scn --pmm bitmap, and differently from the default (stack
# for recursive: a pre-zeroed pool at boot); --pmm stack takes it back.
sed 's/^strategy recursive$/strategy recursive\npmm bitmap/' scenarios/thread.scn > $T/pagesim-pmm.scn
# (the expect rows name lines, and the copy has one line more: left out)
a=$("$pagesim" run $T/pagesim-pmm.scn --csv | grep -v '^expect:')
b=$("$pagesim" run scenarios/thread.scn --csv --pmm bitmap | grep -v '^expect:')
c=$("$pagesim" run scenarios/thread.scn --csv | grep -v '^expect:')
d=$("$pagesim" run $T/pagesim-pmm.scn --csv --pmm stack | grep -v '^expect:')
[ "$a" = "$b" ] || { echo "FAIL: --pmm bitmap differs from a pmm bitmap line"; fail=1; }
[ "$b" != "$c" ] || { echo "FAIL: --pmm bitmap had no effect"; fail=1; }
[ "$c" = "$d" ] || { echo "FAIL: --pmm stack did not override the pmm line"; fail=1; }
got=$("$pagesim" run scenarios/thread.scn --pmm buddy 2>&1 >/dev/null); check "--pmm unknown" 2 $?
[ "$got" = "command line: error: unknown frame allocator 'buddy' (bitmap, stack)" ] ||
    { echo "FAIL: --pmm message: $got"; fail=1; }
for c in compare dump check; do
    "$pagesim" $c scenarios/thread.scn --pmm buddy >/dev/null 2>&1; check "$c --pmm unknown" 2 $?
done
# loop-indexed names are the spaces' names: q0..q198 of many-processes.scn
"$pagesim" dump scenarios/many-processes.scn --at crowded --space q198 | grep -q '^space "q198"'
check "dump a loop-indexed space" 0 $?

# Counters are documented: run --help's counter list and the README's counter
# table have the same counters, merits and descriptions, and every counter a
# report prints has a line there with a description.
"$pagesim" run --help | awk 'f && NR > f + 1 { print substr($0, 3, 26) "|" substr($0, 30, 6) "|" substr($0, 38) }
    /^counters:/ { f = NR }' | sed 's/ *|/|/g' > $T/pagesim-help-ctr.txt
sed -n '/^## Counters/,/^## /p' README.md | grep '^| `' |
    sed 's/^| `\([^`]*\)` | \(.*\) | \(.*\) |$/\1|\2|\3/' > $T/pagesim-readme-ctr.txt
diff $T/pagesim-help-ctr.txt $T/pagesim-readme-ctr.txt > /dev/null ||
    { echo "FAIL: run --help counters differ from the README's table:";
      diff $T/pagesim-help-ctr.txt $T/pagesim-readme-ctr.txt; fail=1; }
# (boot:NAME rows repeat counter NAME for boot: NAME must be documented)
"$pagesim" run scenarios/thread.scn --csv | tail -n +5 | cut -d, -f1 | grep -v '^expect:' | sed 's/^boot://' |
    sort -u > $T/pagesim-ctr-names.txt
[ -s $T/pagesim-ctr-names.txt ] || { echo "FAIL: no counters in run --csv"; fail=1; }
while read -r name; do
    grep -q "^$name|\(lower\|higher\|-\)|..*" $T/pagesim-help-ctr.txt ||
        { echo "FAIL: counter $name has no documentation line"; fail=1; }
done < $T/pagesim-ctr-names.txt

# The memory rows add up, on every shipped scenario under every strategy:
# frames.used (counted from the allocators) = frames.pd + frames.pt +
# frames.data + frames.heap + frames.boot, frames.pt = frames.pt.user +
# frames.pt.kernel.
for scn in scenarios/*.scn; do
    "$pagesim" compare "$scn" --csv | awk -F, -v scn="$scn" '
        { for (i = 2; i <= NF; i++) v[$1, i] = $i; n = NF }
        END {
            for (i = 2; i <= n; i++) {
                sum = v["frames.pd", i] + v["frames.pt", i] + v["frames.data", i] \
                      + v["frames.heap", i] + v["frames.boot", i]
                pt = v["frames.pt.user", i] + v["frames.pt.kernel", i]
                if (v["status", i] != "ok" || v["frames.used", i] == "" ||
                    sum != v["frames.used", i] || pt != v["frames.pt", i]) {
                    print "FAIL: " scn " " v["counter", i] ": frames.used " v["frames.used", i] \
                          ", rows sum " sum "; frames.pt " v["frames.pt", i] ", user+kernel " pt
                    bad = 1
                }
            }
            exit bad
        }' || fail=1
done
# By hand, thread.scn under recursive at its end: directories: the kernel's
# and the shell's (the children are destroyed) = 2.  User tables: the shell's
# for 0x08048000 (PDE 32) and 0xBFFF0000 (PDE 767) = 2.  Kernel tables: the
# boot loader's 4 for the early 16 MiB, and PDEs 960 (0xF0000000) to 1008
# (0xFC3FFFFF) made at boot = 4 + 49 = 53.  Data: 64K + 64K = 32 pages.  No
# kmalloc, and recursive takes nothing from the heaps: 0.  Placement memory
# (stack allocator for 64 MiB = 16384 frames): the stack, 16384 * 4 bytes,
# and the free bitmap, 512 * 4 bytes = 16.5 pages; the kernel directory at
# the next page (page 17), the 49 tables (18..66), the page heap's bitmap,
# 16384 pages / 8 = 2048 bytes, in page 67: 68 frames, of which 50 hold the
# directory and tables, so frames.boot = 18.  frames.used = 2 + 55 + 32 + 0
# + 18 = 107: the 35 frames the allocator handed out (32 data, the shell's
# directory and 2 tables) + 68 placement frames + the 4 early tables.
csv=$("$pagesim" run scenarios/thread.scn --strategy recursive --csv)
for want in frames.pd,2 frames.pt,55 frames.pt.user,2 frames.pt.kernel,53 frames.data,32 \
    frames.heap,0 frames.boot,18 frames.used,107; do
    echo "$csv" | grep -qx "$want" || { echo "FAIL: thread recursive: want $want"; fail=1; }
done

# Best marks: only in rows where lower or higher is better (run --help's
# "better" column), never where all values are equal; a lower-is-better row
# marks exactly its minimum, a higher-is-better row its maximum.
"$pagesim" compare scenarios/thread.scn | awk -v help=$T/pagesim-help-ctr.txt '
    BEGIN { FS = "|"; while ((getline l < help) > 0) { split(l, f, "|"); merit[f[1]] = f[2] }
            FS = " " }
    /^Boot \(/ { boot = 1 }
    !boot && NR > 4 && NF > 1 && ($1 in merit) {
        lo = ""; hi = ""; stars = ""; best = ""
        for (i = 2; i <= NF; i++) {
            x = $i; sub(/\*$/, "", x)
            if (x == "-") continue
            if (lo == "" || x + 0 < lo + 0) lo = x
            if (hi == "" || x + 0 > hi + 0) hi = x
        }
        if (merit[$1] == "lower") best = lo
        if (merit[$1] == "higher") best = hi
        if (lo == hi) best = ""
        for (i = 2; i <= NF; i++) {
            x = $i; starred = sub(/\*$/, "", x)
            if (starred != (best != "" && x == best)) {
                print "FAIL: compare row " $1 ": mark on " $i " (merit " merit[$1] ")"; bad = 1
            }
        }
    }
    END { exit bad }' || fail=1
for row in recursive.accesses foreign.accesses foreign.switches tempmap.accesses tempmap.maps \
    tempmap.reuses directmap.accesses accesses.user reach.bytes; do
    "$pagesim" compare scenarios/thread.scn | grep "^$row " | grep -q '\*' &&
        { echo "FAIL: compare marks a best value in $row"; fail=1; }
done

# tlb.hit_permille: the report prints the figure expect compares, in permille.
printf 'space create a\nspace switch a\nmap 0x10000000 8K rw user\ntouch 0x10000000 8K write user\nexpect tlb.hit_permille >= 900\nexpect tlb.hit_permille <= 1000\n' \
    > $T/pagesim-hit.scn
out=$("$pagesim" run $T/pagesim-hit.scn); check "hit_permille expectations" 0 $?
printed=$(echo "$out" | awk '$1 == "tlb.hit_permille" { print $2 }')
compared=$(echo "$out" | sed -n 's/.*expect tlb.hit_permille >= 900: pass (\(.*\))$/\1/p')
json=$("$pagesim" run $T/pagesim-hit.scn --json | sed -n 's/.*"tlb.hit_permille": \([0-9]*\).*/\1/p')
[ -n "$printed" ] && [ "$printed" = "$compared" ] && [ "$printed" = "$json" ] ||
    { echo "FAIL: tlb.hit_permille printed '$printed', compared '$compared', JSON '$json'"; fail=1; }

# Status: a run that stopped says so, with the reason, in every format.
out=$("$pagesim" run $T/pagesim-pf.scn --csv)
echo "$out" | sed -n 2p | grep -qx 'status,stopped' || { echo "FAIL: run --csv status: $out"; fail=1; }
echo "$out" | sed -n 3p | grep -q '^reason,".*pagesim-pf.scn:3: while running this line' ||
    { echo "FAIL: run --csv reason"; fail=1; }
out=$("$pagesim" run $T/pagesim-pf.scn --json)
echo "$out" | grep -q '"status": "stopped"' && echo "$out" | grep -q '"reason": ".*pagesim-pf.scn:3' ||
    { echo "FAIL: run --json status/reason: $out"; fail=1; }
"$pagesim" run $T/pagesim-pf.scn | grep -q '^status: stopped' || { echo "FAIL: run status"; fail=1; }
"$pagesim" run scenarios/thread.scn --json | grep -q '"status": "ok"' || { echo "FAIL: ok status"; fail=1; }
"$pagesim" run scenarios/thread.scn --json | grep -q '"reason"' && { echo "FAIL: ok run has a reason"; fail=1; }
# ... and a comparison shows no figures for it: empty cells, no counters.
out=$("$pagesim" compare $T/pagesim-pf.scn --csv); check "compare of runs that stop" 1 $?
n=$(echo "$strategies" | wc -l)
echo "$out" | grep -qx "status$(printf ',stopped%.0s' $(seq "$n"))" ||
    { echo "FAIL: compare --csv status row"; fail=1; }
echo "$out" | grep -qx "accesses$(printf ',%.0s' $(seq "$n"))" ||
    { echo "FAIL: compare --csv shows figures of stopped runs"; fail=1; }
# A strategy that cannot run (n/a): status and reason, empty cells, no counters,
# and the others still get their marks.
cell() { # CSV text, column (strategy), row (counter): the cell
    echo "$1" | awk -F, -v col="$2" -v row="$3" \
        'NR == 1 { for (i = 2; i <= NF; i++) if ($i == col) c = i; next } $1 == row { print $c }'
}
printf 'machine ram=1G\nspace create a\nspace switch a\nmap 0x10000000 4K rw user\n' > $T/pagesim-na.scn
out=$("$pagesim" compare $T/pagesim-na.scn --csv); check "compare with n/a" 0 $?
[ "$(cell "$out" physmap status)" = n/a ] && [ "$(cell "$out" heap status)" = ok ] ||
    { echo "FAIL: n/a status row: $out"; fail=1; }
cell "$out" physmap reason | grep -q 'physmap reaches only 768 MiB' || { echo "FAIL: n/a reason row"; fail=1; }
[ -z "$(cell "$out" physmap frames.used)" ] && [ -n "$(cell "$out" heap frames.used)" ] ||
    { echo "FAIL: n/a strategy shows figures"; fail=1; }
out=$("$pagesim" compare $T/pagesim-na.scn --json)
echo "$out" | grep -q '"physmap": {"status": "n/a", "reason": "[^"]*768 MiB[^"]*"}' ||
    { echo "FAIL: compare --json n/a: $out"; fail=1; }
"$pagesim" compare $T/pagesim-na.scn | grep -q '^status  *ok .* n/a' ||
    { echo "FAIL: compare status row"; fail=1; }
"$pagesim" compare $T/pagesim-na.scn | grep '^cycles ' | grep -q '\*' ||
    { echo "FAIL: no best cycles mark beside an n/a strategy"; fail=1; }

# Options: each command takes exactly the options its --help lists; any
# other is refused by name, exit 2 (they used to be ignored silently).
all_opts=$(for c in run compare graph dump check; do "$pagesim" $c --help; done |
    sed -n 's/^  \(-., \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' | sort -u)
for c in run compare graph dump check; do
    help=$("$pagesim" $c --help)
    for o in $all_opts; do
        line=$(echo "$help" | grep -- "^  \(-., \)\{0,1\}--$o[ []" | head -1)
        arg="--$o"
        # "--name ARG  text": an option with an argument
        echo "$line" | grep -q -- "--$o [^ ]" && arg="--$o=x"
        err=$("$pagesim" $c "$arg" 2>&1 >/dev/null)
        if echo "$help" | grep -q -- "^  \(-., \)\{0,1\}--$o[ []"; then
            echo "$err" | grep -q "does not apply" &&
                { echo "FAIL: $c refuses --$o that its help lists"; fail=1; }
        else
            echo "$err" | grep -q "^pagesim $c: option --$o does not apply to $c" ||
                { echo "FAIL: $c does not refuse --$o: $err"; fail=1; }
        fi
    done
done
for args in "run scenarios/thread.scn --plot $T/pagesim-x.png" \
    "run scenarios/thread.scn --space shell" "compare scenarios/thread.scn --trace $T/pagesim-t" \
    "compare scenarios/thread.scn --trace-json $T/pagesim-t" \
    "check scenarios/thread.scn --json" "dump scenarios/thread.scn --json" \
    "compare scenarios/thread.scn --strategy heap"; do
    "$pagesim" $args > /dev/null 2>&1; check "$args" 2 $?
done
# --strategies names each strategy once, none empty
"$pagesim" compare scenarios/thread.scn --strategies , > /dev/null 2>&1
check "--strategies ," 2 $?
"$pagesim" compare scenarios/thread.scn --strategies heap,heap > /dev/null 2>&1
check "--strategies heap,heap" 2 $?

# Output that cannot be written is an error (exit 2, a message on stderr).
err=$("$pagesim" run scenarios/thread.scn --trace /dev/full 2>&1 >/dev/null)
check "run --trace /dev/full" 2 $?
echo "$err" | grep -q "writing /dev/full failed" || { echo "FAIL: trace write: $err"; fail=1; }
err=$("$pagesim" run scenarios/thread.scn --trace-json /dev/full 2>&1 >/dev/null)
check "run --trace-json /dev/full" 2 $?
echo "$err" | grep -q "writing /dev/full failed" || { echo "FAIL: trace-json write: $err"; fail=1; }
err=$("$pagesim" run scenarios/thread.scn 2>&1 >/dev/full)
check "run > /dev/full" 2 $?
echo "$err" | grep -q "writing the standard output failed" ||
    { echo "FAIL: stdout write: $err"; fail=1; }
"$pagesim" dump scenarios/thread.scn > /dev/full 2>/dev/null; check "dump > /dev/full" 2 $?
"$pagesim" run scenarios/thread.scn --log=/dev/full > /dev/null 2>&1
check "run --log=/dev/full" 2 $?

# dump and graph: an unknown space is an error on stderr, exit 2, for both.
out=$("$pagesim" dump scenarios/thread.scn --space nosuch 2>$T/pagesim-err.txt)
check "dump unknown space" 2 $?
[ -z "$out" ] || { echo "FAIL: dump printed on stdout: $out"; fail=1; }
grep -q 'no address space named "nosuch"' $T/pagesim-err.txt ||
    { echo "FAIL: dump unknown space message"; fail=1; }
# child1 exists in thread.scn but not yet at "booted"
"$pagesim" dump scenarios/thread.scn --space child1 --at booted > /dev/null 2>&1
check "dump space not live at the snapshot" 2 $?

# --plot takes only what it writes; an unwritable path is one line, no PNG on stdout.
"$pagesim" compare scenarios/thread.scn --plot $T/pagesim-x.gif > /dev/null 2>&1
check "--plot x.gif" 2 $?
[ ! -e $T/pagesim-x.gif ] || { echo "FAIL: --plot x.gif wrote a file"; fail=1; }
rm -f $T/pagesim-x.gif
out=$("$pagesim" compare scenarios/thread.scn --plot /nonexistent/x.png 2>$T/pagesim-err.txt)
check "--plot /nonexistent/x.png" 2 $?
! echo "$out" | grep -q PNG || { echo "FAIL: PNG bytes on stdout"; fail=1; }
[ "$(wc -l < $T/pagesim-err.txt)" = 1 ] && grep -q "cannot write /nonexistent/x.png" $T/pagesim-err.txt ||
    { echo "FAIL: --plot error:"; cat $T/pagesim-err.txt; fail=1; }

# The plot script, read from a stand-in gnuplot.  ram=1G: physmap reaches
# 768 MiB at most, so it is n/a and named in the title.  heap reaches its
# tables through their heap addresses and the script never changes a
# present PTE, so it makes no INVLPG: a zero bar, labelled "0", on a linear
# axis from 0 (a log axis drops zeros).
fake=$T/pagesim-fakegp
rm -rf "$fake"; mkdir -p "$fake"
printf '#!/bin/sh\ncat > %s/script.gp\n' "$fake" > "$fake/gnuplot"
chmod +x "$fake/gnuplot"
printf 'machine ram=1G\nspace create a\nspace switch a\nmap 0x10000000 4K rw user\n' > $T/pagesim-1g.scn
PATH="$fake:$PATH" "$pagesim" compare $T/pagesim-1g.scn --plot $T/pagesim-1g.png > /dev/null
check "compare --plot (stand-in gnuplot)" 0 $?
gp="$fake/script.gp"
grep -q "n/a (cannot run on this machine): physmap'" "$gp" || { echo "FAIL: plot title lacks n/a physmap"; fail=1; }
! grep -q '^"physmap"' "$gp" || { echo "FAIL: plot has data for physmap"; fail=1; }
! grep -q logscale "$gp" || { echo "FAIL: plot on a log scale"; fail=1; }
[ "$(grep -c '^set yrange \[0:' "$gp")" = 6 ] || { echo "FAIL: plot panels not from 0"; fail=1; }
# data columns: name, then value and label of tlb.misses, walks, invlpg, ...
set -- $(grep '^"heap"' "$gp")
[ "${6:-}" = 0 ] && [ "${7:-}" = '"0"' ] ||
    { echo "FAIL: heap invlpg in the plot: ${6:-} ${7:-}"; fail=1; }
grep -q 'with labels' "$gp" || { echo "FAIL: bars not labelled"; fail=1; }
rm -rf "$fake"

# Workload errors name the object by its scenario name and the cause.
wlerr() { # file, scenario lines, description, message: run exits 1, $out has file:message
    printf '%b' "$2" > "$T/$1"
    out=$("$pagesim" run "$T/$1"); check "$3" 1 $?
    echo "$out" | grep -q "$1:$4" || { echo "FAIL: $3: $out"; fail=1; }
}
wlerr pagesim-e1.scn 'space create a\nspace create a\n' "space created twice" \
    '2: space create "a" failed: the address space exists already'
wlerr pagesim-e2.scn 'kmalloc buf 100\nkfree buf\nkfree buf\n' "kfree twice" \
    '3: kfree "buf" failed: the allocation was freed already'
wlerr pagesim-e3.scn 'space create a\nspace destroy a\nspace switch a\n' "switch to a destroyed space" \
    '3: space switch "a" failed: the address space was destroyed'
wlerr pagesim-e4.scn 'space create a\nmap a 0x10000000 8K rw user\nmap a 0x10001000 4K rw user\n' \
    "overlapping map" '3: map in "a" failed: a page of the range is mapped already'
echo "$out" | grep -q '^kernel log: workload: vmm_map_range (vmm space [0-9]*): page already mapped' ||
    { echo "FAIL: overlapping map does not quote the kernel: $out"; fail=1; }
# --log: the kernel's own lines, on stderr or in a file
err=$("$pagesim" run scenarios/thread.scn --log 2>&1 >/dev/null); check "run --log" 0 $?
echo "$err" | grep -q '^kernel log: scenarios/thread.scn, strategy recursive$' &&
    echo "$err" | grep -q '^  boot: paging recursive' || { echo "FAIL: --log: $err"; fail=1; }
"$pagesim" run $T/pagesim-e4.scn --log=$T/pagesim-log.txt > /dev/null
grep -q '^  workload: vmm_map_range' $T/pagesim-log.txt || { echo "FAIL: --log=FILE"; fail=1; }

# graph: the kernel half that the five spaces at "children" share is one
# node with one edge from each directory; --kernel-detail draws each
# space's own edge to every shared kernel table (PDE 768 once per space).
"$pagesim" graph scenarios/thread.scn --at children -o $T/pagesim-k.dot
n=$(grep -c -- '-> kernel_half' $T/pagesim-k.dot)
[ "$n" = 5 ] || { echo "FAIL: $n edges to the kernel half, expected 5"; fail=1; }
! grep -q 'pd_[0-9a-f]* -> pt_001fc000' $T/pagesim-k.dot ||
    { echo "FAIL: a directory still has its own edge to a shared table"; fail=1; }
"$pagesim" graph scenarios/thread.scn --at children --kernel-detail -o $T/pagesim-kd.dot
! grep -q kernel_half $T/pagesim-kd.dot || { echo "FAIL: --kernel-detail kept the node"; fail=1; }
n=$(grep -c 'label="PDE 768' $T/pagesim-kd.dot)
[ "$n" = 5 ] || { echo "FAIL: --kernel-detail has $n PDE 768 edges, expected 5"; fail=1; }
"$pagesim" graph scenarios/thread.scn --space shell --all -o $T/pagesim-x.dot 2>/dev/null
check "graph --space with --all" 2 $?

# the report says what its events cover, --from and --at included; --from
# and --with-boot exclude each other
out=$("$pagesim" run scenarios/thread.scn --from booted --at children)
echo "$out" | grep -q "^events: from snapshot 'booted' to snapshot 'children'$" ||
    { echo "FAIL: events line with --from/--at"; fail=1; }
"$pagesim" compare scenarios/thread.scn --at children --json |
    grep -q "\"figures\": \"the workload, from the scenario's first line to snapshot 'children'" ||
    { echo "FAIL: JSON figures with --at"; fail=1; }
"$pagesim" run scenarios/thread.scn --from running --with-boot >/dev/null 2>&1
check "--from with --with-boot" 2 $?
# dump with no snapshot lists each live space once (the end of the run)
printf 'space create a\nspace switch a\nspace create b\nmap b 0x10000000 4K rw user\n' > $T/pagesim-two.scn
n=$("$pagesim" dump $T/pagesim-two.scn | grep -c '^space ')
[ "$n" = 2 ] || { echo "FAIL: dump lists $n spaces, expected 2"; fail=1; }
# a scenario with no strategy line boots with the default strategy
if command -v qemu-system-i386 >/dev/null; then
    printf 'space create a\nspace switch a\nmap 0x10000000 4K rw user\n' > $T/pagesim-nostrat.scn
    "$pagesim" boot $T/pagesim-nostrat.scn --vs-sim > $T/pagesim-nostrat.txt 2>&1
    check "boot without a strategy line" 0 $?
    grep -q "strategy $("$pagesim" --list-strategies | awk 'NR == 1 { print $1 }')\|strategy recursive" \
        $T/pagesim-nostrat.txt || { echo "FAIL: boot did not use the default strategy"; fail=1; }
fi

# expect lines travel with the figures in every format: two user pages,
# each read then written, are 2 * 2 = 4 user accesses, so
# "accesses.user == 5" (line 8) fails with the value 4
printf 'machine ram=64M\nstrategy recursive\nspace create a\nspace switch a\nmap 0x10000000 8K rw user\ntouch 0x10000000 8K read user\ntouch 0x10000000 8K write user\nexpect accesses.user == 5\n' >$T/pagesim-num.scn
"$pagesim" run $T/pagesim-num.scn --json |
    grep -q '{"line": 8, "expect": "accesses.user == 5", "result": "FAIL", "value": 4}' ||
    { echo "FAIL: JSON lacks the failed expectation"; fail=1; }
"$pagesim" run $T/pagesim-num.scn --csv | grep -qx 'expect:8,FAIL (4)' ||
    { echo "FAIL: CSV lacks the failed expectation"; fail=1; }

# Stale-TLB detector.  Without injection it is silent on every shipped
# scenario under every strategy, boot included: no bug-class stale use, no case.
for scn in scenarios/*.scn; do
    for st in $strategies; do
        out=$("$pagesim" run "$scn" --strategy "$st" --with-boot)
        n=$(echo "$out" | awk '$1 == "tlb.stale_uses" { print $2 }')
        [ "$n" = 0 ] || { echo "FAIL: $scn $st: tlb.stale_uses is '$n', expected 0"; fail=1; }
        ! echo "$out" | grep -q '^stale TLB use' || { echo "FAIL: $scn $st: a stale case"; fail=1; }
    done
done
# stale SCN STRATEGY INJECT CASE-LINE...: the run with --inject INJECT reports
# a bug-class stale use, and its report has each given line.
stale() {
    scn=$1 st=$2 inj=$3
    shift 3
    out=$("$pagesim" run "$scn" --strategy "$st" --inject "$inj")
    n=$(echo "$out" | awk '$1 == "tlb.stale_uses" { print $2 }')
    [ "${n:-0}" -gt 0 ] || { echo "FAIL: $st $inj: no stale use caught"; fail=1; }
    for want in "$@"; do
        echo "$out" | grep -qxF "$want" || { echo "FAIL: $st $inj: no line '$want'"; fail=1; }
    done
}
# heap and pageheap: fork-exec.scn:16 forks through the copy window; its
# vmm_window_unmap repoints the window PTE without the skipped INVLPG, and
# kern_memcpy's next copy still goes to the old frame.
for st in heap pageheap; do
    stale scenarios/fork-exec.scn $st skip-invlpg=vmm_window_unmap \
        "  INVLPG skipped (--inject) at scenarios/fork-exec.scn:16 by vmm_invlpg < vmm_window_unmap" \
        "  used at scenarios/fork-exec.scn:16 by kern_memcpy"
done
# recursive: thread.scn:20 creates a space, rc_aim points the foreign slot
# (PDE 1022, seen as a PTE through the self-map at 0xFFFFE000) at it and its
# INVLPG of the foreign directory page is skipped: rc_create then writes the
# old target's directory.
stale scenarios/thread.scn recursive skip-invlpg=rc_aim \
    "  changed at scenarios/thread.scn:20 by rc_aim" \
    "  used at scenarios/thread.scn:20 by rc_create" \
    "  INVLPG skipped (--inject) at scenarios/thread.scn:20 by vmm_invlpg < rc_aim"
# The same by number: the first INVLPG rc_aim issues in the workload, counted
# over the run with boot's (the trace lists them all, in order).
"$pagesim" run scenarios/thread.scn --strategy recursive --trace $T/pagesim-stale.trace >/dev/null
n=$(awk '$2 == "invlpg" { k++ } $2 == "invlpg" && $1 != "boot" && /rc_aim$/ { print k; exit }' \
    $T/pagesim-stale.trace)
line=$(awk '$2 == "invlpg" && $1 != "boot" && /rc_aim$/ { print $1; exit }' $T/pagesim-stale.trace)
stale scenarios/thread.scn recursive "skip-invlpg=$n" \
    "  INVLPG skipped (--inject) at $line by vmm_invlpg < rc_aim"
# tempmap: thread.scn:9 maps the first space through the window; the window
# PTE left stale by vmm_window_unmap is used again by vmm_walk_map.
stale scenarios/thread.scn tempmap skip-invlpg=vmm_window_unmap \
    "  INVLPG skipped (--inject) at scenarios/thread.scn:9 by vmm_invlpg < vmm_window_unmap"
# tempmap-lazy and physmap issue INVLPG only when unmapping user pages, and no
# shipped scenario uses a user page after unmapping it in the same space: a
# page written, unmapped (INVLPG skipped), mapped to a fresh frame and read
# reads the old frame through the stale entry (line 7), which line 5 left.
printf 'space create a\nspace switch a\nmap 0x08048000 4K rw user\ntouch 0x08048000 4K write user\nunmap 0x08048000 4K\nmap 0x08048000 4K rw user\ntouch 0x08048000 4K read user\n' \
    > $T/pagesim-remap.scn
for st in tempmap-lazy physmap heap; do
    stale $T/pagesim-remap.scn $st skip-invlpg=vmm_walk_unmap \
        "  changed at $T/pagesim-remap.scn:5 by vmm_walk_unmap" \
        "  used at $T/pagesim-remap.scn:7 by wl_execute" \
        "  INVLPG skipped (--inject) at $T/pagesim-remap.scn:5 by vmm_invlpg < vmm_walk_unmap"
done
# skip-cr3-flush=4: boot writes CR3 twice, fork-exec.scn:8 once, line 17 (the
# switch to the child) is the 4th; the self-map entries of the shell's
# directory stay and vmm_walk_unmap (line 18) uses them in the child.
stale scenarios/fork-exec.scn recursive skip-cr3-flush=4 \
    "  changed at scenarios/fork-exec.scn:17 by vmm_load_cr3 < vmm_space_switch < wl_execute" \
    "  used at scenarios/fork-exec.scn:18 by vmm_walk_unmap"
# --strict-tlb stops at the first bug-class use, with the stop report (exit 1).
out=$("$pagesim" run scenarios/thread.scn --strategy recursive --inject skip-invlpg=rc_aim --strict-tlb)
check "--strict-tlb stops" 1 $?
echo "$out" | grep -q "^run stopped: stale TLB entry used (--strict-tlb) in rc_create" ||
    { echo "FAIL: --strict-tlb did not stop in rc_create"; fail=1; }
n=$(echo "$out" | grep -c '^stale TLB use')
[ "$n" = 1 ] || { echo "FAIL: --strict-tlb reported $n cases, expected 1"; fail=1; }
"$pagesim" run scenarios/thread.scn --inject skip-invlpg=0 2>/dev/null; check "--inject N=0" 2 $?
"$pagesim" run scenarios/thread.scn --inject frob=1 2>/dev/null; check "unknown --inject" 2 $?
"$pagesim" run scenarios/thread.scn --inject skip-cr3-flush=x 2>/dev/null; check "--inject cr3 name" 2 $?
"$pagesim" compare scenarios/thread.scn --inject skip-invlpg=1 2>/dev/null; check "compare --inject" 2 $?
"$pagesim" compare scenarios/thread.scn --strict-tlb 2>/dev/null; check "compare --strict-tlb" 2 $?

# profile: under every strategy on thread.scn each column of the table sums to
# the run's counter (the total row is checked against run --csv, and the rows
# against the total); --folded parses as "frame;...;frame COUNT" and sums to
# the cycles.  Any access charged twice or missed breaks a sum.
for s in $strategies; do
    prof=$("$pagesim" profile scenarios/thread.scn --strategy "$s"); check "profile $s" 0 $?
    run=$("$pagesim" run scenarios/thread.scn --strategy "$s" --csv)
    want=$(for k in accesses tlb.misses walks ad_updates invlpg cr3_writes faults tlb.stale_uses cycles; do
        printf '%s\n' "$run" | awk -F, -v k="$k" '$1 == k { print $2 }'; done | paste -sd' ' -)
    total=$(printf '%s\n' "$prof" | awk '$1 == "total" { $1 = ""; sub(/^ /, ""); gsub(/ +/, " "); print }')
    [ "$total" = "$want" ] || { echo "FAIL: profile $s total '$total', run '$want'"; fail=1; }
    sums=$(printf '%s\n' "$prof" | awk 'NR > 1 && $1 != "total" { for (i = 2; i <= NF; i++) s[i] += $i; n = NF }
        END { for (i = 2; i <= n; i++) printf "%s%d", (i > 2 ? " " : ""), s[i]; print "" }')
    [ "$sums" = "$want" ] || { echo "FAIL: profile $s rows sum to '$sums', run '$want'"; fail=1; }
    folded=$("$pagesim" profile scenarios/thread.scn --strategy "$s" --folded)
    bad=$(printf '%s\n' "$folded" | grep -Evc '^[^; ]+(;[^; ]+)* [0-9]+$')
    [ "$bad" = 0 ] || { echo "FAIL: profile --folded $s: $bad lines malformed"; fail=1; }
    fsum=$(printf '%s\n' "$folded" | awk '{ s += $NF } END { print s }')
    [ "$fsum" = "${want##* }" ] || { echo "FAIL: profile --folded $s sums to $fsum, cycles ${want##* }"; fail=1; }
done
# who gets a count: three `space switch` lines make three CR3 writes, each
# through vmm_space_switch and vmm_load_cr3 (wrappers), so all three go to
# the row of wl_execute, the executor that asked, and to no other row
printf 'space create a\nspace create b\nspace switch a\nspace switch b\nspace switch a\n' > $T/pagesim-prof.scn
prof=$("$pagesim" profile $T/pagesim-prof.scn --strategy physmap)
[ "$(printf '%s\n' "$prof" | awk '$1 == "wl_execute" { print $7 }')" = 3 ] ||
    { echo "FAIL: profile does not charge the 3 CR3 writes to wl_execute: $prof"; fail=1; }
[ "$(printf '%s\n' "$prof" | awk 'NR > 1 && $1 != "total" && $1 != "wl_execute" { s += $7 } END { print s + 0 }')" = 0 ] ||
    { echo "FAIL: profile charges CR3 writes to another row"; fail=1; }
"$pagesim" profile scenarios/thread.scn --json 2>/dev/null; check "profile --json" 2 $?
"$pagesim" run scenarios/thread.scn --folded 2>/dev/null; check "run --folded" 2 $?
# Flush lint: the scenario maps 4 pages (never touched), reads the second,
# then unmaps all 4; recursive's vmm_walk_unmap issues one INVLPG per page.
# Only the second page has a TLB entry (the read filled it), so 3 INVLPGs
# drop nothing (no PDE changed: the table is new, its PDE was not present),
# each wasting the cost model's invlpg, 260 cycles: 3 * 260 = 780.
lintscn=$T/pagesim-lint.scn
printf 'machine ram=64M\nstrategy recursive\nspace create a\nspace switch a\nmap 0x10000000 16K rw user\ntouch 0x10001000 4K read user\nunmap 0x10000000 16K\n' >"$lintscn"
out=$("$pagesim" run "$lintscn" --explain)
check "run --explain" 0 $?
echo "$out" | grep -Eq "^  lint.useless_invlpg +3 " || { echo "FAIL: lint.useless_invlpg is not 3"; fail=1; }
echo "$out" | grep -Eq "^  useless-invlpg +vmm_walk_unmap +3 +780$" ||
    { echo "FAIL: --explain does not list 3 useless INVLPGs (780 cycles) at vmm_walk_unmap"; fail=1; }
rm -f "$lintscn"
"$pagesim" compare scenarios/thread.scn --explain 2>/dev/null; check "compare --explain" 2 $?

[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
