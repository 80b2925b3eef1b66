#!/bin/sh
# One strategy list: `pagesim --list-strategies` (the registry,
# allocators/vmm_registry.c) is the only list of strategies.  Every list
# that must be whole (the help, the unknown-strategy error, the README's
# strategy table with each one's frame allocator, the golden reports of
# every shipped scenario) names exactly its strategies, in its order; every
# strategy a golden report, scenario, shell test or C test names is one of
# them.  (The Check suites also boot each name they use: an unknown one
# fails there.)
# usage: registry.sh PAGESIM TOP
set -u
pagesim="$1"
top="$2"
cd "$top" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

"$pagesim" --list-strategies > "$tmp/list" || { echo "FAIL: pagesim --list-strategies: exit $?"; exit 1; }
awk '{ print $1 }' "$tmp/list" > "$tmp/names"
[ -s "$tmp/names" ] || { echo "FAIL: the registry lists no strategy"; exit 1; }
known() { grep -qxF -- "$1" "$tmp/names"; }
same() { # what, file with the expected lines, file with what was found
    if ! cmp -s "$2" "$3"; then
        echo "FAIL: $1 does not name the registry's strategies:"
        diff "$2" "$3" | sed 's/^/  /' | head -20
        fail=1
    fi
}

# The listing: name, frame allocator, summary; each name once; the frame
# allocator one of those the unknown-allocator error lists.
awk 'NF < 3 { print "FAIL: --list-strategies line " NR " is not NAME PMM SUMMARY: " $0; bad = 1 }
     END { exit bad }' "$tmp/list" || fail=1
[ "$(sort -u "$tmp/names" | wc -l)" = "$(wc -l < "$tmp/names")" ] ||
    { echo "FAIL: --list-strategies names a strategy twice"; fail=1; }
pmms=$("$pagesim" run scenarios/thread.scn --pmm nosuch 2>&1 | sed -n "s/.*unknown frame allocator 'nosuch' (\(.*\))$/\1/p")
[ -n "$pmms" ] || { echo "FAIL: no list of frame allocators in the --pmm error"; fail=1; }
for p in $(awk '{ print $2 }' "$tmp/list"); do
    echo "$pmms" | tr -d ' ' | tr , '\n' | grep -qxF -- "$p" ||
        { echo "FAIL: --list-strategies names frame allocator '$p', not one of ($pmms)"; fail=1; }
done

# The help: the list and the default.
"$pagesim" --help | sed -n 's/^strategies: \([^ ]*\).*/\1/p' | tr , '\n' > "$tmp/help"
same "pagesim --help" "$tmp/names" "$tmp/help"
def=$("$pagesim" --help | sed -n 's/^strategies: .* (default: \(.*\))$/\1/p')
known "$def" || { echo "FAIL: the default strategy '$def' is not in the registry"; fail=1; }
grep -q "^| \`strategy\` | .* Default: \`$def\`" README.md ||
    { echo "FAIL: the README's scenario language does not give '$def' as the default strategy"; fail=1; }

# The unknown-strategy error lists them all.
"$pagesim" run tests/bad/unknown-strategy.scn 2>&1 >/dev/null |
    sed -n "s/.*unknown strategy '[^']*' (\(.*\))$/\1/p" | sed 's/, /\n/g' > "$tmp/error"
same "the unknown-strategy error" "$tmp/names" "$tmp/error"

# The README's strategy table: | `name` | `pmm` | ... |, in registry order.
awk '/^## / { on = ($0 == "## Strategies") } on && /^\| `/' README.md |
    awk -F'|' '{ gsub(/[ `]/, "", $2); gsub(/[ `]/, "", $3); print $2, $3 }' > "$tmp/readme"
awk '{ print $1, $2 }' "$tmp/list" > "$tmp/pairs"
same "the README's strategy table (name and frame allocator)" "$tmp/pairs" "$tmp/readme"

# Golden reports: one per shipped scenario and strategy, and no other; each
# report names the strategy of its file name.
for scn in scenarios/*.scn; do
    while read -r s; do
        [ -f "tests/golden/$(basename "$scn" .scn).$s.txt" ] ||
            { echo "FAIL: no golden report tests/golden/$(basename "$scn" .scn).$s.txt"; fail=1; }
    done < "$tmp/names"
done
for g in tests/golden/*.txt; do
    b=$(basename "$g" .txt)
    s=${b#*.}
    known "$s" || { echo "FAIL: $g is for strategy '$s', not in the registry"; fail=1; }
    [ -f "scenarios/${b%%.*}.scn" ] || { echo "FAIL: $g is for no shipped scenario"; fail=1; }
    head -1 "$g" | grep -q ", strategy $s, " || { echo "FAIL: $g does not report strategy $s"; fail=1; }
done

# Names given in scenarios, shell tests, C tests and benchmarks (not the
# plug-in and install tests: their names are those their plug-ins register).
shell_tests=$(ls tests/*.sh | grep -vx -e tests/plugin.sh -e tests/install.sh)
{
    grep -h '^strategy ' scenarios/*.scn tests/bad/*.scn | grep -v '^strategy nosuch$' | awk '{ print $2 }'
    grep -hv '^[[:space:]]*#' $shell_tests | grep -oE -- '--strategy[ =][a-z][a-z0-9-]*' | sed 's/^--strategy.//'
    grep -hv '^[[:space:]]*#' $shell_tests | grep -oE -- '--strategies[ =][a-z][a-z0-9,-]*' |
        sed 's/^--strategies.//' | tr , '\n'
    grep -ohE '\.strategy = "[^"]*"' tests/*.c bench/*.c | sed 's/.*"\(.*\)"/\1/' | grep -vx nosuch
} | sort -u > "$tmp/used"
while read -r s; do
    known "$s" || { echo "FAIL: '$s' is named as a strategy in scenarios or tests, not in the registry"; fail=1; }
done < "$tmp/used"

[ $fail -eq 0 ] && echo "registry: help, errors, README, goldens and tests name the registry's $(wc -l < "$tmp/names") strategies"
exit $fail
