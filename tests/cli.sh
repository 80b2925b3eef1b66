#!/bin/sh
# CLI tests: exit codes, help, and one "file:line:col: error:" line (exit 2)
# for every malformed scenario in tests/bad (expected lines in expected.txt).
set -u
pagesim="$1"
top="$2"
fail=0
check() { # description, expected status, actual status
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: exit $3, expected $2"
        fail=1
    fi
}
cd "$top/tests/bad" || exit 1
while IFS= read -r want; do
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
"$pagesim" compare scenarios/thread.scn > /tmp/pagesim-cmp1.txt
"$pagesim" compare scenarios/thread.scn > /tmp/pagesim-cmp2.txt
cmp -s /tmp/pagesim-cmp1.txt /tmp/pagesim-cmp2.txt || { echo "FAIL: compare not deterministic"; fail=1; }
grep -q '\*' /tmp/pagesim-cmp1.txt || { echo "FAIL: compare marks no best value"; fail=1; }
for s in heap pageheap recursive tempmap tempmap-lazy physmap; do
    head -3 /tmp/pagesim-cmp1.txt | grep -q -- " $s" || { echo "FAIL: compare lacks $s"; fail=1; }
done
# --from: events after a snapshot are the totals minus the totals there
total=$("$pagesim" run scenarios/thread.scn --csv | grep '^invlpg,' | cut -d, -f2)
early=$("$pagesim" run scenarios/thread.scn --csv --at booted | grep '^invlpg,' | cut -d, -f2)
since=$("$pagesim" run scenarios/thread.scn --csv --from booted | grep '^invlpg,' | cut -d, -f2)
[ "$since" -eq $((total - early)) ] || { echo "FAIL: --from: $since != $total - $early"; fail=1; }
"$pagesim" run scenarios/thread.scn --from children --at booted 2>/dev/null
check "--from after --at" 2 $?
# --trace: one line per INVLPG and per CR3 write the kernel made (the
# loader's CR3 write before the kernel runs is not the kernel's)
"$pagesim" run scenarios/thread.scn --trace /tmp/pagesim-trace.txt > /dev/null
check "run --trace" 0 $?
csv=$("$pagesim" run scenarios/thread.scn --csv)
n_inv=$(grep -c ' invlpg ' /tmp/pagesim-trace.txt)
n_cr3=$(grep -c ' cr3 ' /tmp/pagesim-trace.txt)
[ "$n_inv" = "$(echo "$csv" | grep '^invlpg,' | cut -d, -f2)" ] ||
    { echo "FAIL: trace has $n_inv invlpg lines"; fail=1; }
[ "$n_cr3" = $(($(echo "$csv" | grep '^cr3_writes,' | cut -d, -f2) - 1)) ] ||
    { echo "FAIL: trace has $n_cr3 cr3 lines"; fail=1; }
grep -q '^scenarios/thread.scn:10 .* cr3 .*vmm_space_switch$' /tmp/pagesim-trace.txt ||
    { echo "FAIL: trace does not name line 10's switch"; fail=1; }
# check: pass is 0; a failing expectation is 1 and names the line
"$pagesim" check scenarios/thread.scn >/dev/null; check "check thread" 0 $?
printf 'space create a\nspace switch a\nexpect invlpg == 999999\n' > /tmp/pagesim-fail.scn
out=$("$pagesim" check /tmp/pagesim-fail.scn); check "failing expect" 1 $?
echo "$out" | grep -q "pagesim-fail.scn:3:1: expect invlpg == 999999 failed" ||
    { echo "FAIL: check output: $out"; fail=1; }
# a kernel stop is a report with the scenario line, exit 1, never a crash
printf 'space create a\nspace switch a\ntouch 0x10000000 4K write user\n' > /tmp/pagesim-pf.scn
out=$("$pagesim" run /tmp/pagesim-pf.scn); check "run that faults" 1 $?
echo "$out" | grep -q "pagesim-pf.scn:3: while running this line" ||
    { echo "FAIL: stop report lacks the line: $out"; fail=1; }
echo "$out" | grep -q "CR2=0x10000000 error=0x6 (not present, write, user)" ||
    { echo "FAIL: stop report lacks CR2/error code"; fail=1; }
# expectations after the stop are not reached, and say so
printf 'space create a\nspace switch a\ntouch 0x10000000 4K\nexpect faults == 0\n' > /tmp/pagesim-nr.scn
out=$("$pagesim" run /tmp/pagesim-nr.scn); check "run with unreached expect" 1 $?
echo "$out" | grep -q "pagesim-nr.scn:4: expect faults == 0: FAIL (not reached)" ||
    { echo "FAIL: unreached expectation not reported"; fail=1; }
# dump and graph fail (exit 1) when the run stops after their snapshot
printf 'space create a\nspace switch a\nsnapshot s\ntouch 0x10000000 4K\n' > /tmp/pagesim-sf.scn
"$pagesim" dump /tmp/pagesim-sf.scn --at s > /dev/null 2>&1; check "dump, run fails later" 1 $?
"$pagesim" graph /tmp/pagesim-sf.scn --at s -o /tmp/pagesim-sf.dot 2>/dev/null
check "graph, run fails later" 1 $?
"$pagesim" run scenarios/thread.scn --cost invlpg=-1 2>/dev/null; check "negative --cost" 2 $?
# a scenario name with a quote reaches gnuplot as text, not as commands
rm -f /tmp/pagesim-pwned
cp scenarios/thread.scn "/tmp/pagesim-q'; system 'touch pagesim-pwned'; print '.scn"
(cd /tmp && "$pagesim" compare "pagesim-q'; system 'touch pagesim-pwned'; print '.scn" \
    --plot "pagesim-q'.png" > /dev/null)
check "compare --plot with quotes" 0 $?
[ -s "/tmp/pagesim-q'.png" ] || { echo "FAIL: no plot written"; fail=1; }
[ ! -e /tmp/pagesim-pwned ] || { echo "FAIL: gnuplot ran a command from a file name"; fail=1; }
# dump shows mappings and the TLB
"$pagesim" dump scenarios/thread.scn --at booted | grep -qi "tlb"; check "dump" 0 $?

# graph: DOT edges follow the page tables.  At "children" thread.scn has five
# spaces; under recursive each has a self-map and the shell's foreign slot
# points at a child; under heap there is neither.
"$pagesim" graph scenarios/thread.scn --at children --strategy recursive -o /tmp/pagesim-r.dot
check "graph recursive dot" 0 $?
n=$(grep -c 'label="self-map 1023"' /tmp/pagesim-r.dot)
[ "$n" = 5 ] || { echo "FAIL: recursive graph has $n self-map edges, expected 5"; fail=1; }
grep -q 'label="foreign 1022"' /tmp/pagesim-r.dot || { echo "FAIL: no foreign edge"; fail=1; }
"$pagesim" graph scenarios/thread.scn --at children --strategy heap -o /tmp/pagesim-h.dot
check "graph heap dot" 0 $?
if grep -q 'label="self-map 1023"\|label="foreign 1022"' /tmp/pagesim-h.dot; then
    echo "FAIL: heap graph has a self-map or foreign edge"; fail=1
fi
"$pagesim" graph scenarios/thread.scn --strategy heap -o /tmp/pagesim-h.svg
check "graph svg" 0 $?
grep -q '</svg>' /tmp/pagesim-h.svg || { echo "FAIL: svg not complete"; fail=1; }
if command -v xmllint >/dev/null; then
    xmllint --noout /tmp/pagesim-h.svg || { echo "FAIL: svg is not well-formed XML"; fail=1; }
fi
"$pagesim" graph scenarios/thread.scn --space nosuch -o /tmp/pagesim-x.dot 2>/dev/null
check "graph unknown space" 2 $?

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
for args in "run scenarios/thread.scn --plot /tmp/pagesim-x.png" \
    "run scenarios/thread.scn --space shell" "compare scenarios/thread.scn --trace /tmp/pagesim-t" \
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
err=$("$pagesim" run scenarios/thread.scn 2>&1 >/dev/full)
check "run > /dev/full" 2 $?
echo "$err" | grep -q "writing the standard output failed" ||
    { echo "FAIL: stdout write: $err"; fail=1; }
"$pagesim" dump scenarios/thread.scn > /dev/full 2>/dev/null; check "dump > /dev/full" 2 $?
"$pagesim" run scenarios/thread.scn --log=/dev/full > /dev/null 2>&1
check "run --log=/dev/full" 2 $?

# dump and graph: an unknown space is an error on stderr, exit 2, for both.
out=$("$pagesim" dump scenarios/thread.scn --space nosuch 2>/tmp/pagesim-err.txt)
check "dump unknown space" 2 $?
[ -z "$out" ] || { echo "FAIL: dump printed on stdout: $out"; fail=1; }
grep -q 'no address space named "nosuch"' /tmp/pagesim-err.txt ||
    { echo "FAIL: dump unknown space message"; fail=1; }
# child1 exists in thread.scn but not yet at "booted"
"$pagesim" dump scenarios/thread.scn --space child1 --at booted > /dev/null 2>&1
check "dump space not live at the snapshot" 2 $?

# --plot takes only what it writes; an unwritable path is one line, no PNG on stdout.
"$pagesim" compare scenarios/thread.scn --plot /tmp/pagesim-x.gif > /dev/null 2>&1
check "--plot x.gif" 2 $?
[ ! -e /tmp/pagesim-x.gif ] || { echo "FAIL: --plot x.gif wrote a file"; fail=1; }
rm -f /tmp/pagesim-x.gif
out=$("$pagesim" compare scenarios/thread.scn --plot /nonexistent/x.png 2>/tmp/pagesim-err.txt)
check "--plot /nonexistent/x.png" 2 $?
! echo "$out" | grep -q PNG || { echo "FAIL: PNG bytes on stdout"; fail=1; }
[ "$(wc -l < /tmp/pagesim-err.txt)" = 1 ] && grep -q "cannot write /nonexistent/x.png" /tmp/pagesim-err.txt ||
    { echo "FAIL: --plot error:"; cat /tmp/pagesim-err.txt; fail=1; }

# The plot script, read from a stand-in gnuplot.  ram=1G: physmap reaches
# 768 MiB at most, so it is n/a and named in the title.  heap reaches its
# tables through their heap addresses and the script never changes a
# present PTE, so it makes no INVLPG: a zero bar, labelled "0", on a linear
# axis from 0 (a log axis drops zeros).
fake=/tmp/pagesim-fakegp
rm -rf "$fake"; mkdir -p "$fake"
printf '#!/bin/sh\ncat > %s/script.gp\n' "$fake" > "$fake/gnuplot"
chmod +x "$fake/gnuplot"
printf 'machine ram=1G\nspace create a\nspace switch a\nmap 0x10000000 4K rw user\n' > /tmp/pagesim-1g.scn
PATH="$fake:$PATH" "$pagesim" compare /tmp/pagesim-1g.scn --plot /tmp/pagesim-1g.png > /dev/null
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
printf 'space create a\nspace create a\n' > /tmp/pagesim-e1.scn
out=$("$pagesim" run /tmp/pagesim-e1.scn); check "space created twice" 1 $?
echo "$out" | grep -q 'pagesim-e1.scn:2: space create "a" failed: the address space exists already' ||
    { echo "FAIL: create twice: $out"; fail=1; }
printf 'kmalloc buf 100\nkfree buf\nkfree buf\n' > /tmp/pagesim-e2.scn
out=$("$pagesim" run /tmp/pagesim-e2.scn); check "kfree twice" 1 $?
echo "$out" | grep -q 'pagesim-e2.scn:3: kfree "buf" failed: the allocation was freed already' ||
    { echo "FAIL: kfree twice: $out"; fail=1; }
printf 'space create a\nspace destroy a\nspace switch a\n' > /tmp/pagesim-e3.scn
out=$("$pagesim" run /tmp/pagesim-e3.scn); check "switch to a destroyed space" 1 $?
echo "$out" | grep -q 'pagesim-e3.scn:3: space switch "a" failed: the address space was destroyed' ||
    { echo "FAIL: switch destroyed: $out"; fail=1; }
printf 'space create a\nmap a 0x10000000 8K rw user\nmap a 0x10001000 4K rw user\n' > /tmp/pagesim-e4.scn
out=$("$pagesim" run /tmp/pagesim-e4.scn); check "overlapping map" 1 $?
echo "$out" | grep -q 'pagesim-e4.scn:3: map in "a" failed: a page of the range is mapped already' ||
    { echo "FAIL: overlapping map: $out"; fail=1; }
echo "$out" | grep -q '^kernel log: workload: vmm_map_range (vmm space [0-9]*): page already mapped' ||
    { echo "FAIL: overlapping map does not quote the kernel: $out"; fail=1; }
# --log: the kernel's own lines, on stderr or in a file
err=$("$pagesim" run scenarios/thread.scn --log 2>&1 >/dev/null); check "run --log" 0 $?
echo "$err" | grep -q '^kernel log: scenarios/thread.scn, strategy recursive$' &&
    echo "$err" | grep -q '^  boot: paging recursive' || { echo "FAIL: --log: $err"; fail=1; }
"$pagesim" run /tmp/pagesim-e4.scn --log=/tmp/pagesim-log.txt > /dev/null
grep -q '^  workload: vmm_map_range' /tmp/pagesim-log.txt || { echo "FAIL: --log=FILE"; fail=1; }

# graph: the kernel half that the five spaces at "children" share is one
# node with one edge from each directory; --kernel-detail draws each
# space's own edge to every shared kernel table (PDE 768 once per space).
"$pagesim" graph scenarios/thread.scn --at children -o /tmp/pagesim-k.dot
n=$(grep -c -- '-> kernel_half' /tmp/pagesim-k.dot)
[ "$n" = 5 ] || { echo "FAIL: $n edges to the kernel half, expected 5"; fail=1; }
! grep -q 'pd_[0-9a-f]* -> pt_001fc000' /tmp/pagesim-k.dot ||
    { echo "FAIL: a directory still has its own edge to a shared table"; fail=1; }
"$pagesim" graph scenarios/thread.scn --at children --kernel-detail -o /tmp/pagesim-kd.dot
! grep -q kernel_half /tmp/pagesim-kd.dot || { echo "FAIL: --kernel-detail kept the node"; fail=1; }
n=$(grep -c 'label="PDE 768' /tmp/pagesim-kd.dot)
[ "$n" = 5 ] || { echo "FAIL: --kernel-detail has $n PDE 768 edges, expected 5"; fail=1; }
"$pagesim" graph scenarios/thread.scn --space shell --all -o /tmp/pagesim-x.dot 2>/dev/null
check "graph --space with --all" 2 $?

[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
