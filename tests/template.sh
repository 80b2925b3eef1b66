#!/bin/sh
# template.sh PAGESIM SRCDIR HYBRID.so
#
# The template's strategy (examples/strategy-template/) loaded as a plug-in
# is the seventh column of compare on thread.scn, with the figures counted
# by hand line by line in examples/strategy-template/EXPECTED.md:
#   invlpg 68       = 1 + 4 + 16 + (2 + 3 + 2 + 2) + 24 + 4 + 4 + 6: one per
#                     directory or table opened in a space that is not current
#   tempmap.maps 68 = one slot map per INVLPG
#   tempmap.reuses 67: every map but the first into the second slot
#   cr3_writes 4    = the four `space switch` lines
#   foreign.switches 0: no foreign slot at PDE 1022
#   frames.pd 2, frames.pt.user 2, frames.data 32: the kernel's and the
#                     shell's directories, the shell's two tables, 16 + 16 pages
#   kva.bytes 4210688 = the self-map (4 MiB) + 4 scratch slots of 4 KiB
set -u
pagesim=$1 src=$2 so=$3
fail=0
csv=$("$pagesim" compare "$src/scenarios/thread.scn" --plugin "$so" --csv) || {
    echo "FAIL: compare with the plug-in exited $?"
    exit 1
}
header=$(echo "$csv" | head -1)
[ "$(echo "$header" | awk -F, '{ print NF }')" = 8 ] && [ "$(echo "$header" | cut -d, -f8)" = hybrid ] ||
    { echo "FAIL: hybrid is not the seventh column: $header"; fail=1; }
expect() {
    got=$(echo "$csv" | awk -F, -v row="$1" '$1 == row { print $8 }')
    if [ "$got" != "$2" ]; then
        echo "FAIL: hybrid $1 = '$got', counted by hand: $2"
        fail=1
    fi
}
expect status ok
expect invlpg 68
expect tempmap.maps 68
expect tempmap.reuses 67
expect cr3_writes 4
expect foreign.switches 0
expect frames.pd 2
expect frames.pt.user 2
expect frames.data 32
expect kva.bytes 4210688
expect tlb.stale_uses 0
[ $fail -eq 0 ] && echo "template.compare: hybrid is the seventh column with the hand-counted figures"
exit $fail
