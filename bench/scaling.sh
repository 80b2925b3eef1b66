#!/bin/sh
# scaling.sh - how a run grows with the workload: live address spaces
# (100 -> 1,000, each with a page of text and one of stack, switched to
# and written once) and touched pages (16K -> 512K pages written once in
# one space).  Prints seconds (best of RUNS, worst beside it) and peak RSS
# (GNU time's maximum resident set of the pagesim process).  A figure, not
# a test.
# usage: bench/scaling.sh [PAGESIM [STRATEGY [RUNS]]]
#
# Why the ranges stop there: a scenario names at most WL_MAX_SPACES
# (1,024) spaces, so 1,600 live spaces cannot be written; and 1M touched
# pages need 4 GiB of frames, all the RAM a 32-bit machine may have
# (SIM_RAM_MAX), with nothing left for the kernel and the page tables.
pagesim="${1:-build/tools/pagesim}"
strategy="${2:-recursive}"
runs="${3:-3}"
timebin=/usr/bin/time
if ! "$timebin" -f %M true > /dev/null 2>&1; then
    echo "scaling.sh: needs GNU time at $timebin (for the peak RSS)" >&2
    exit 2
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

# measure SCENARIO: "best worst rss" (seconds, seconds, MiB), or "failed".
measure() {
    best="" worst="" rss=0
    i=0
    while [ "$i" -lt "$runs" ]; do
        if ! "$timebin" -f '%e %M' -o "$dir/time" "$pagesim" run --strategy "$strategy" "$1" \
            > /dev/null 2> "$dir/err"; then
            echo failed
            sed 's/^/    /' "$dir/err" >&2
            return
        fi
        set -- "$1" $(cat "$dir/time")
        best=$(awk -v a="$2" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
        worst=$(awk -v a="$2" -v b="$worst" 'BEGIN { print (b == "" || a > b) ? a : b }')
        rss=$(awk -v a="$3" -v b="$rss" 'BEGIN { print (a > b) ? a : b }')
        i=$((i + 1))
    done
    awk -v b="$best" -v w="$worst" -v r="$rss" 'BEGIN { printf "%.2f (%.2f) %.0f\n", b, w, r / 1024 }'
}

echo "pagesim scaling, strategy $strategy: seconds a run, best of $runs (worst), peak RSS"
printf '%-22s %16s %12s\n' "live spaces" "seconds" "peak RSS MiB"
for n in 100 200 400 800 1000; do
    f="$dir/spaces-$n.scn"
    cat > "$f" <<SCN
machine ram=256M
repeat $n
  space create p\$i
  map p\$i 0x08048000 4K rw user
  map p\$i 0xBFFFF000 4K rw user
  space switch p\$i
  touch 0x08048000 4K write user
  touch 0xBFFFF000 4K write user
end
SCN
    set -- $(measure "$f")
    printf '%-22s %16s %12s\n' "$n" "$1 $2" "$3"
done

printf '%-22s %16s %12s\n' "touched pages" "seconds" "peak RSS MiB"
for k in 16 64 256 512; do
    mib=$((k * 4))
    f="$dir/pages-$k.scn"
    cat > "$f" <<SCN
machine ram=$((mib + 64))M
space create big
space switch big
map 0x10000000 ${mib}M rw user
touch 0x10000000 ${mib}M write user
SCN
    set -- $(measure "$f")
    printf '%-22s %16s %12s\n' "${k}K" "$1 $2" "$3"
done
