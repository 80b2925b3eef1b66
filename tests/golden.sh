#!/bin/sh
# Golden report test: `pagesim run SCENARIO --strategy NAME` must print
# exactly tests/golden/SCENARIO.NAME.txt (reports are deterministic).
# With PAGESIM_UPDATE_GOLDEN=1 it rewrites the file instead.
pagesim="$1"
scenario="$2"
strategy="$3"
top="$4"
cd "$top" || exit 2
want="tests/golden/$(basename "$scenario" .scn).$strategy.txt"
got=$(mktemp)
trap 'rm -f "$got"' EXIT
"$pagesim" run "$scenario" --strategy "$strategy" > "$got"
st=$?
[ $st -le 1 ] || { echo "pagesim exited $st"; exit 1; }
if [ "${PAGESIM_UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$got" "$want"
    echo "updated $want"
    exit 0
fi
if ! cmp -s "$want" "$got"; then
    echo "report differs from $want:"
    diff -u "$want" "$got" | head -40
    exit 1
fi
echo "golden: $want matches"
