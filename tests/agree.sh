#!/bin/sh
# Dump and graph agree: for one scenario under one strategy, the mappings
# `pagesim dump` prints for each space (VA -> frame, page size) and its
# self-map and foreign slots are exactly what `pagesim graph` draws from
# that space's directory, with and without --kernel-detail.  Both sides are
# cut into pages and merged again by one rule, so how each view splits its
# runs (by effective or stored flags, per space or per table) does not
# matter.  Frames a graph sums up in a "+N more runs" node are compared by
# count.  AGREE_KEEP=1 keeps the work files.
pagesim="$1"
scenario="$2"
strategy="$3"
top="$4"
gvpr="${5:-gvpr}"
cd "$top" || exit 2
tmp=$(mktemp -d)
if [ -n "${AGREE_KEEP:-}" ]; then
    echo "work files in $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi

# The graph's mappings, one line each, numbers in decimal, directories by
# address in hex: R PD VA PAGES SIZE FIRST-FRAME DESCENDING for a run,
# S PD PDE self|foreign TARGET-PD for a slot, M PD VA-LO VA-HI FRAMES for
# runs summed up.
cat > "$tmp/graph.g" <<'GVPR'
BEGIN {
    int LP = 4194304;
    /* The frames of node f, its first page at va; pages of size bytes. */
    void run(string pd, int va, node_t f, int size) {
        int n, lo, hi, first, desc;
        sscanf(f.label, "%d", &n);
        sscanf(substr(f.label, index(f.label, "0x")), "%x-%x", &lo, &hi);
        desc = index(f.label, "descending") >= 0;
        first = lo;
        if (desc)
            first = hi + 1 - size;
        printf("R %s %d %d %d %d %d\n", pd, va, n, size, first, desc);
    }
    /* What the table or group node h, named by PDE i, maps. */
    void table(string pd, int i, node_t h) {
        edge_t e;
        node_t f;
        int a, b, n, lo, hi, k, va;
        for (e = fstout(h); e; e = nxtout(e)) {
            f = e.head;
            if (substr(f.name, 0, 5) == "more_") {
                k = index(f.label, "more runs");
                sscanf(substr(f.label, k + 11), "%d frames", &n);
                k = index(f.label, "in PTE ");
                if (k >= 0) {
                    sscanf(substr(f.label, k + 7), "%d-%d", &a, &b);
                    lo = i * LP + a * 4096;
                    hi = i * LP + b * 4096 + 4095;
                } else {
                    sscanf(substr(f.label, index(f.label, "in VA ") + 6), "%x-%x", &lo, &hi);
                }
                printf("M %s %d %d %d\n", pd, lo, hi, n);
            } else {
                if (sscanf(e.label, "PTE %d", &a) == 1)
                    va = i * LP + a * 4096;
                else
                    sscanf(e.label, "VA %x", &va);
                run(pd, va, f, 4096);
            }
        }
    }
    /* What edge e from the directory (or kernel half) of space pd draws. */
    void entry(string pd, edge_t e) {
        int i;
        string kind;
        kind = substr(e.head.name, 0, 3);
        if (sscanf(e.label, "self-map %d", &i) == 1)
            printf("S %s %d self %s\n", pd, i, substr(e.head.name, 3));
        else if (sscanf(e.label, "foreign %d", &i) == 1)
            printf("S %s %d foreign %s\n", pd, i, substr(e.head.name, 3));
        else if (sscanf(e.label, "PDE %d", &i) == 1 && kind == "lp_")
            run(pd, i * LP, e.head, LP);
        else if (sscanf(e.label, "PDE %d", &i) == 1 && (kind == "pt_" || kind == "kt_"))
            table(pd, i, e.head);
    }
}
BEG_G {
    node_t d, kh;
    edge_t e, k;
    string pd;
    kh = isNode($G, "kernel_half");
    for (d = fstnode($G); d; d = nxtnode(d)) {
        if (substr(d.name, 0, 3) != "pd_" || index(d.label, "page directory") < 0 ||
            index(d.label, "not drawn") >= 0)
            continue;
        pd = substr(d.name, 3);
        for (e = fstout(d); e; e = nxtout(e)) {
            if (e.head == kh)
                for (k = fstout(kh); k; k = nxtout(k))
                    entry(pd, k);
            else
                entry(pd, e);
        }
    }
}
GVPR

# The same lines from the dump, a space listed twice taken once.
cat > "$tmp/dump.awk" <<'AWK'
function hex(s,    v, i) {
    v = 0
    s = tolower(s)
    sub(/^0x/, "", s)
    for (i = 1; i <= length(s); i++)
        v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}
/^TLB / { exit }
/^space / { pd = $NF == "CR3)" ? $(NF - 2) : $NF; pd = substr(pd, 3); skip = (pd in seen); seen[pd] = 1; next }
skip { next }
/ x 4[KM]  / {
    split($1, va, "-"); split($3, pa, "-")
    size = $6 == "4M" ? 4194304 : 4096
    desc = $NF == "descending"
    first = desc ? hex(pa[2]) + 1 - size : hex(pa[1])
    printf "R %s %.0f %d %d %.0f %d\n", pd, hex(va[1]), $4, size, first, desc
    next
}
/self-map \(PDE / { i = $0; sub(/.*\(PDE /, "", i); sub(/\).*/, "", i); printf "S %s %d self %s\n", pd, i, substr($NF, 3); next }
/foreign (slot|directory) \(PDE / { i = $0; sub(/.*\(PDE /, "", i); sub(/\).*/, "", i); printf "S %s %d foreign %s\n", pd, i, substr($NF, 3); next }
AWK

# Cuts R lines (sorted by space and VA) into pages and merges them again as
# mapiter does: next VA, same size, frame one up (or down, once a run of
# one page turns so); pages inside an M span of the other side are counted
# instead.  A run's pages after its first need no page-by-page look: they go
# on in its direction.  Output: canonical runs and M counts.
cat > "$tmp/canon.awk" <<'AWK'
BEGIN {
    # spans: M lines sorted by space and VA; first[pd] is the first of pd's.
    while ((getline line < spans) > 0) {
        split(line, f, " ")
        nm++; mpd[nm] = f[2]; mlo[nm] = f[3] + 0; mhi[nm] = f[4] + 0; mcount[nm] = 0
        if (!(f[2] in first))
            first[f[2]] = nm
    }
}
function flush() { if (n > 0) printf "R %s %.0f %d %d %.0f %d\n", cpd, cva, n, csize, cpa, cdesc; n = 0 }
# The span of pd at or after va (spans of a space are passed in VA order).
function span(pd, va) {
    if (pd != spd) { spd = pd; si = (pd in first) ? first[pd] : nm + 1 }
    while (si <= nm && mpd[si] == pd && mhi[si] < va)
        si++
    return si <= nm && mpd[si] == pd ? si : 0
}
function page(pd, va, size, pa,    k, up, down) {
    k = span(pd, va)
    if (k && va >= mlo[k]) { mcount[k]++; flush(); return }
    if (n > 0 && pd == cpd && size == csize && cva + n * size == va) {
        up = !cdesc && cpa + n * size == pa
        down = (cdesc || n == 1) && cpa == pa + n * size
        if (up || down) { cdesc = down; n++; return }
    }
    flush()
    cpd = pd; cva = va; csize = size; cpa = pa; cdesc = 0; n = 1
}
$1 == "R" {
    pd = $2; va = $3; m = $4; size = $5; pa = $6; d = $7
    k = span(pd, va)
    if (k && mlo[k] < va + m * size) {
        for (j = 0; j < m; j++)
            page(pd, va + j * size, size, d ? pa - j * size : pa + j * size)
        next
    }
    page(pd, va, size, pa)
    if (m == 1)
        next
    if (n == 1) {
        cdesc = d; n = m
    } else if (cdesc == d) {
        n += m - 1
    } else {
        flush()
        cpd = pd; cva = va + size; csize = size; cpa = d ? pa - size : pa + size
        n = m - 1; cdesc = n > 1 ? d : 0
    }
}
$1 == "S" { print }
END { flush(); for (k = 1; k <= nm; k++) printf "M %s %.0f %.0f %d\n", mpd[k], mlo[k], mhi[k], mcount[k] }
AWK

canon() { # lines file, M spans file
    { grep '^S' "$1"; grep '^R' "$1" | sort -k2,2 -k3,3n; } | awk -v spans="$2" -f "$tmp/canon.awk" | sort
}

"$pagesim" dump "$scenario" --strategy "$strategy" > "$tmp/dump.txt" ||
    { echo "pagesim dump exited $?"; exit 1; }
awk -f "$tmp/dump.awk" "$tmp/dump.txt" > "$tmp/dump.lines"
[ -s "$tmp/dump.lines" ] || { echo "the dump shows no mapping"; exit 1; }
fail=0
for detail in "" --kernel-detail; do
    "$pagesim" graph "$scenario" --strategy "$strategy" $detail -o "$tmp/g.dot" ||
        { echo "pagesim graph $detail exited $?"; exit 1; }
    "$gvpr" -f "$tmp/graph.g" "$tmp/g.dot" > "$tmp/graph.lines" || { echo "gvpr failed"; exit 1; }
    grep '^M' "$tmp/graph.lines" | sort -k2,2 -k3,3n > "$tmp/graph.more"
    canon "$tmp/graph.lines" "$tmp/graph.more" > "$tmp/graph.canon"
    { grep -v '^M' "$tmp/graph.canon"; cat "$tmp/graph.more"; } | sort > "$tmp/want"
    canon "$tmp/dump.lines" "$tmp/graph.more" > "$tmp/dump.canon"
    if ! cmp -s "$tmp/want" "$tmp/dump.canon"; then
        echo "FAIL: dump and graph${detail:+ $detail} disagree (< graph, > dump):"
        diff "$tmp/want" "$tmp/dump.canon" | head -20
        fail=1
    fi
done
[ $fail = 0 ] && echo "agree: $scenario $strategy: $(grep -c '^R' "$tmp/dump.canon") runs"
exit $fail
