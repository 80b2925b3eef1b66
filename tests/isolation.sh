#!/bin/sh
# Run isolation: every column of `pagesim compare` is the report of the
# single `pagesim run` of that strategy, byte for byte, whatever ran before
# it in the process (the strategies in two orders), and `pagesim check` of
# several files gives each file the result it gets alone.  The strategies
# are those of `pagesim --list-strategies`.
# usage: isolation.sh PAGESIM TOP
set -u
pagesim="$1"
top="$2"
cd "$top" || exit 2
strategies=$("$pagesim" --list-strategies | awk '{ print $1 }' | paste -sd, -)
[ -n "$strategies" ] || { echo "FAIL: pagesim --list-strategies lists nothing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
reversed=$(echo "$strategies" | tr ',' '\n' | tac | paste -sd, -)
# column NAME of a CSV table (first column: counter name), as "counter,value"
column() {
    awk -F, -v want="$2" 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == want) c = i; next }
                          c { print $1 "," $c }' "$1"
}
for scn in scenarios/*.scn; do
    for order in "$strategies" "$reversed"; do
        # compare runs each strategy in a process of its own when it can;
        # with --log it runs them one after the other in its own process,
        # each after the one before: the reversed order does that.
        one_process=""
        [ "$order" = "$reversed" ] && one_process="--log=$tmp/log"
        "$pagesim" compare "$scn" --strategies "$order" --csv $one_process > "$tmp/cmp.csv" 2>/dev/null
        for s in $(echo "$strategies" | tr ',' ' '); do
            "$pagesim" run "$scn" --strategy "$s" --csv > "$tmp/run.csv" 2>/dev/null
            column "$tmp/run.csv" "$s" | grep -v "^expect:" > "$tmp/one" # (compare has no expect rows)
            column "$tmp/cmp.csv" "$s" > "$tmp/col"
            if ! cmp -s "$tmp/one" "$tmp/col"; then
                echo "FAIL: $scn: compare --strategies $order: column $s differs from run:"
                diff "$tmp/one" "$tmp/col" | head -6
                fail=1
            fi
        done
    done
done
# check: each file's block of a multi-file check equals its single check
set -- scenarios/*.scn
"$pagesim" check "$@" > "$tmp/all.txt"
for scn in "$@"; do
    "$pagesim" check "$scn" | sed '$d' > "$tmp/single.txt"
    awk -v f="$scn" 'index($0, f ": ") == 1 { on = 1; print; next }
                     on && /^  / { print; next } { on = 0 }' "$tmp/all.txt" > "$tmp/block.txt"
    if ! cmp -s "$tmp/single.txt" "$tmp/block.txt"; then
        echo "FAIL: check $*: the block of $scn differs from check $scn alone:"
        diff "$tmp/single.txt" "$tmp/block.txt" | head -6
        fail=1
    fi
done
# ... and in the reverse order of files
"$pagesim" check $(printf '%s\n' "$@" | tac) > "$tmp/rev.txt"
sort "$tmp/all.txt" > "$tmp/a"; sort "$tmp/rev.txt" > "$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { echo "FAIL: check gives other results in reverse file order"; fail=1; }
[ $fail -eq 0 ] && echo "isolation: every compare column equals its single run; check per file as alone"
exit $fail
