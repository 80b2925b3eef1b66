#!/bin/sh
# template.sh PAGESIM SRCDIR HYBRID.so
#
# The template's strategy (examples/strategy-template/) loaded as a plug-in
# is the seventh column of compare on thread.scn, and shows there every
# figure of the table in examples/strategy-template/EXPECTED.md, which
# counts them by hand line by line (invlpg 68: one per directory or table
# opened in a space that is not current; cr3_writes 4: the four `space
# switch` lines; foreign.switches 0: no foreign slot; ...).  That table is
# the one place the figures are written.
set -u
pagesim=$1 src=$2 so=$3
expected="$src/examples/strategy-template/EXPECTED.md"
fail=0
csv=$("$pagesim" compare "$src/scenarios/thread.scn" --plugin "$so" --csv) || {
    echo "FAIL: compare with the plug-in exited $?"
    exit 1
}
header=$(echo "$csv" | head -1)
[ "$(echo "$header" | awk -F, '{ print NF }')" = 8 ] && [ "$(echo "$header" | cut -d, -f8)" = hybrid ] ||
    { echo "FAIL: hybrid is not the seventh column: $header"; fail=1; }
[ "$(echo "$csv" | awk -F, '$1 == "status" { print $8 }')" = ok ] ||
    { echo "FAIL: hybrid's run did not complete"; fail=1; }
# The rows of EXPECTED.md's first table: | `row` | value |
rows=$(awk -F'|' '/^\| `[a-z_.0-9]+` *\|/ { gsub(/[` ]/, "", $2); gsub(/ /, "", $3); print $2, $3 }
                  /^## / { exit }' "$expected")
[ "$(echo "$rows" | wc -l)" -ge 8 ] || { echo "FAIL: no table of figures in $expected"; exit 1; }
echo "$rows" | {
    bad=0
    while read -r row want; do
        got=$(echo "$csv" | awk -F, -v row="$row" '$1 == row { print $8 }')
        if [ "$got" != "$want" ]; then
            echo "FAIL: hybrid $row = '$got', counted by hand in EXPECTED.md: $want"
            bad=1
        fi
    done
    exit $bad
} || fail=1
[ $fail -eq 0 ] && echo "template.compare: hybrid is the seventh column with the figures of EXPECTED.md"
exit $fail
