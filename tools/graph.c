/*
 * graph.c - builds the page-table graph of live address spaces in cgraph
 * and renders it with gvc (or writes it as DOT).
 */
#include "tools/graph.h"

#include <cgraph.h>
#include <ctype.h>
#include <errno.h>
#include <gvc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bootlayout.h"
#include "mmu/mapiter.h"
#include "tools/dump.h"

#define TAB_NONE 0xFFFFFFFFu
#define GREC "pagesim"

/* Colours, in one place. */
#define COLOR_DIR "#cfe2ff"
#define COLOR_TABLE "#fff2cc"
#define COLOR_SHARED "#d9ead3"
#define COLOR_SHARED_EDGE "#38761d"
#define COLOR_FRAMES "#ffffff"
#define COLOR_TLB "#ffb84d"
#define COLOR_BAD "#f4cccc"
#define COLOR_CR3 "#e0e0e0"
#define COLOR_SELF "blue"
#define COLOR_FOREIGN "red"
#define COLOR_ADDED "#00b3a4"   /* --diff: border and edge of what is new since A (teal) */
#define COLOR_CHANGED "#8e44ad" /* --diff: an entry whose frame or flags changed (purple) */
#define COLOR_REMOVED "#999999" /* --diff: what A had and B has not, dashed */
#define COLOR_STALE "red"       /* border of what a stale TLB entry caches */
#define COLOR_STALE_FILL "#ff9999"

/* How an entry at B compares with the same virtual address at A (--diff). */
enum gdiff {
    GD_SAME,
    GD_ADDED,   /* not present at A */
    GD_CHANGED, /* present at both, another frame, size or flags (A and D aside) */
    GD_REMOVED, /* present at A only */
};

enum gnode_kind {
    GN_CR3,
    GN_DIR,    /* a directory drawn with its tables */
    GN_STUB,   /* a directory named by CR3 or a foreign slot, not drawn */
    GN_TABLE,  /* one page table */
    GN_GROUP,  /* a run of kernel tables shared by the same spaces */
    GN_FRAMES, /* a run of 4 KiB frames */
    GN_LARGE,  /* a run of 4 MiB pages */
    GN_MORE,   /* the frame runs of a table beyond GRAPH_RUNS_MAX */
    GN_BAD,    /* a table outside RAM */
    GN_KERNEL, /* the kernel half, the same in every space, drawn once */
    GN_GONE,   /* --diff: pages or a table A had and B has not */
};

struct gnode {
    Agnode_t *n;
    enum gnode_kind kind;
    char key[48];
    char text[192];      /* label before the sharing, summary and TLB lines */
    unsigned sharers;    /* tables and groups: spaces that name it */
    unsigned tlb;        /* translations cached of it (frames) or through it (tables) */
    unsigned tlb_slot;   /* directories: cached through a self-map or foreign slot */
    unsigned stale_slot; /* directories: stale through one (mapiter_slot_stale) */
    unsigned stale;      /* frames and 4 MiB pages: stale TLB entries of it (mapiter_run_stale) */
    unsigned more_runs;  /* GN_MORE: the runs it stands for, their frames and span */
    uint64_t more_frames;
    uint32_t more_first, more_last; /* positions in the parent table node */
    bool more_group;                /* parent is a group: show the span as VAs */
    uint32_t more_va0;              /* VA of the parent's position 0 */
    unsigned frame_runs;            /* tables and groups: frame-run nodes drawn */
    bool expanded;
    uint8_t diff; /* enum gdiff of what it stands for */
};

struct grec {
    Agrec_t h;
    unsigned idx;
};

struct gdir {
    unsigned space; /* index in the caller's list */
    paddr_t pd;
    bool inram; /* false: the directory lies outside RAM (pde all 0) */
    bool drawn;
    bool dup; /* the directory of an earlier space in the sorted list */
    int node;
    pde_t pde[NPDENTRIES];
    uint8_t kind[NPDENTRIES]; /* enum dump_pde_kind */
    uint32_t tab[NPDENTRIES]; /* table of DUMP_PDE_TABLE entries, else TAB_NONE */
};

struct graph {
    const struct mmu *m;
    const struct run_space *spaces;
    unsigned nspaces;
    Agraph_t *g;
    struct gnode *nodes;
    unsigned nnodes, capnodes;
    struct gdir *dirs;
    unsigned ndirs;
    unsigned stale;  /* TLB entries the current tables no longer give */
    unsigned nstale; /* TLB entries stale as the detector sees them (mapiter_tlb_stale) */
    int tlbdir;      /* the directory whose TLB counts are shown (see tlb_counted), or -1 */
    bool oom;
    unsigned flags;                 /* GRAPH_* */
    unsigned kspaces;               /* distinct directories */
    bool kshared[NPDENTRIES];       /* kernel PDE alike (but for A/D) in every directory */
    pde_t kcommon[NPDENTRIES];      /* its bits set in every directory */
    unsigned kaccessed[NPDENTRIES]; /* directories whose entry has A set */
    int knode;                      /* the GN_KERNEL node, or -1 */
    const struct graph_snap *since; /* --diff: the tables at A, else NULL */
    unsigned ndiff[4];              /* --diff: elements drawn per enum gdiff */
};

/* One space's tables at snapshot A: its PDEs and the PTEs of each table. */
struct snap_space {
    char *name;
    pde_t pde[NPDENTRIES];
    uint32_t *pte[NPDENTRIES]; /* NPTENTRIES entries of a table's PDE, else NULL */
};

struct graph_snap {
    struct snap_space *sp;
    unsigned n;
    char label[64]; /* the snapshot's name, for labels */
};

static void
set_attr(void *obj, const char *name, const char *value)
{
    char n[32], v[1024];
    snprintf(n, sizeof(n), "%s", name);
    snprintf(v, sizeof(v), "%s", value);
    agsafeset(obj, n, v, "");
}

static void
declare(Agraph_t *g, int kind, const char *name, const char *value)
{
    char n[32], v[256];
    snprintf(n, sizeof(n), "%s", name);
    snprintf(v, sizeof(v), "%s", value);
    agattr(g, kind, n, v);
}

/* The node named key, created (with *created true) if it does not exist; -1 if out of memory. */
static int
node_get(struct graph *G, const char *key, enum gnode_kind kind, bool *created)
{
    char name[48];
    snprintf(name, sizeof(name), "%s", key);
    Agnode_t *n = agnode(G->g, name, 0);
    if (created != NULL)
        *created = n == NULL;
    if (n != NULL)
        return (int)((struct grec *)aggetrec(n, GREC, 0))->idx;
    if (G->nnodes == G->capnodes) {
        unsigned cap = G->capnodes ? G->capnodes * 2 : 64;
        struct gnode *nn = realloc(G->nodes, cap * sizeof(*nn));
        if (nn == NULL) {
            G->oom = true;
            return -1;
        }
        G->nodes = nn;
        G->capnodes = cap;
    }
    n = agnode(G->g, name, 1);
    struct grec *r = n == NULL ? NULL : agbindrec(n, GREC, sizeof(*r), 0);
    if (r == NULL) {
        G->oom = true;
        return -1;
    }
    r->idx = G->nnodes;
    struct gnode *gn = &G->nodes[G->nnodes];
    memset(gn, 0, sizeof(*gn));
    gn->n = n;
    gn->kind = kind;
    snprintf(gn->key, sizeof(gn->key), "%s", key);
    return (int)G->nnodes++;
}

/* Copies text into a DOT label: newlines become "\n", backslashes are doubled. */
static void
escape_label(const char *text, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0' && n + 3 < len; p++) {
        if (*p == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (*p == '\\') {
            buf[n++] = '\\';
            buf[n++] = '\\';
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
}

static Agedge_t *
edge(struct graph *G, int from, int to, const char *label)
{
    if (from < 0 || to < 0)
        return NULL;
    Agedge_t *e = agedge(G->g, G->nodes[from].n, G->nodes[to].n, NULL, 1);
    if (e == NULL) {
        G->oom = true;
        return NULL;
    }
    if (label != NULL) {
        char escaped[256];
        escape_label(label, escaped, sizeof(escaped));
        set_attr(e, "label", escaped);
    }
    return e;
}

static int
dir_node(struct graph *G, paddr_t pd)
{
    char key[48];
    snprintf(key, sizeof(key), "pd_%08x", pd);
    Agnode_t *n = agnode(G->g, key, 0);
    return n == NULL ? -1 : (int)((struct grec *)aggetrec(n, GREC, 0))->idx;
}

/* Directory node of a space that is not drawn (named by CR3 or a foreign slot). */
static int
stub_node(struct graph *G, unsigned space)
{
    char key[48];
    bool created;
    paddr_t pd = PTE_ADDR(G->spaces[space].pd);
    snprintf(key, sizeof(key), "pd_%08x", pd);
    int idx = node_get(G, key, GN_STUB, &created);
    if (idx >= 0 && created)
        snprintf(G->nodes[idx].text, sizeof(G->nodes[idx].text),
                 "\"%s\"\npage directory 0x%08x\n(not drawn)", G->spaces[space].name, pd);
    return idx;
}

/* Spaces whose directory names, at index i, the table that d names there. */
static unsigned
sharers(const struct graph *G, const struct gdir *d, unsigned i)
{
    unsigned n = 0;
    for (unsigned k = 0; k < G->ndirs; k++)
        n += G->dirs[k].tab[i] == d->tab[i];
    return n;
}

/* Whether the same spaces share d's tables at indices i and j. */
static bool
same_sharers(const struct graph *G, const struct gdir *d, unsigned i, unsigned j)
{
    for (unsigned k = 0; k < G->ndirs; k++) {
        const struct gdir *e = &G->dirs[k];
        if ((e->tab[i] == d->tab[i]) != (e->tab[j] == d->tab[j]))
            return false;
    }
    return true;
}

static void
flags_str(uint32_t entry, bool large, char *buf, size_t len)
{
    dump_flags(entry, large, false, buf, len);
    if (buf[0] == '\0')
        snprintf(buf, len, "-");
}

/* The space named name in snapshot a, or NULL if it did not exist there. */
static const struct snap_space *
snap_find(const struct graph_snap *a, const char *name)
{
    for (unsigned k = 0; a != NULL && k < a->n; k++)
        if (strcmp(a->sp[k].name, name) == 0)
            return &a->sp[k];
    return NULL;
}

/* The space of the snapshot that PDE pdx of d is compared with: d's own;
 * in the kernel half, which is the same in every space, the snapshot's
 * first space if d's is new since; NULL if none. */
static const struct snap_space *
snap_of(const struct graph *G, const struct gdir *d, unsigned pdx)
{
    const struct snap_space *o = snap_find(G->since, G->spaces[d->space].name);
    if (o == NULL && pdx >= KERNEL_PDX && G->since != NULL && G->since->n > 0)
        o = &G->since->sp[0];
    return o;
}

/* The final entry that maps va in space o at the snapshot, 0 if none;
 * *large says whether it is a 4 MiB PDE. */
static uint32_t
snap_entry(const struct snap_space *o, uint32_t va, bool *large)
{
    *large = false;
    if (o == NULL || !(o->pde[PDX(va)] & PTE_P))
        return 0;
    if (o->pte[PDX(va)] == NULL) {
        *large = (o->pde[PDX(va)] & PTE_PS) != 0;
        return *large ? o->pde[PDX(va)] : 0;
    }
    return o->pte[PDX(va)][PTX(va)];
}

/* The final entry that maps va in d now, 0 if none; *large as snap_entry's. */
static uint32_t
cur_entry(const struct graph *G, const struct gdir *d, uint32_t va, bool *large)
{
    uint32_t e = 0;
    *large = d->kind[PDX(va)] == DUMP_PDE_LARGE;
    if (*large)
        return d->pde[PDX(va)];
    if (d->kind[PDX(va)] != DUMP_PDE_TABLE ||
        !mmu_read_entry(G->m, PTE_ADDR(d->pde[PDX(va)]) + PTX(va) * (paddr_t)sizeof(uint32_t), &e))
        return 0;
    return e;
}

/* How entry now compares with entry was (A and D bits aside). */
static enum gdiff
entry_diff(uint32_t was, bool was_large, uint32_t now, bool now_large)
{
    if (!(was & PTE_P))
        return (now & PTE_P) ? GD_ADDED : GD_SAME;
    if (!(now & PTE_P))
        return GD_REMOVED;
    if (was_large != now_large || ((was ^ now) & ~(PTE_A | PTE_D)) != 0)
        return GD_CHANGED;
    return GD_SAME;
}

/* How the page at va of d compares with the snapshot (GD_SAME without one). */
static enum gdiff
page_diff(const struct graph *G, const struct gdir *d, uint32_t va)
{
    bool wl, nl;
    if (G->since == NULL)
        return GD_SAME;
    uint32_t was = snap_entry(snap_of(G, d, PDX(va)), va, &wl);
    uint32_t now = cur_entry(G, d, va, &nl);
    return entry_diff(was, wl, now, nl);
}

/* Colours edge e as what it leads to compares with the snapshot. */
static void
diff_edge(Agedge_t *e, enum gdiff st)
{
    static const char *const color[] = {NULL, COLOR_ADDED, COLOR_CHANGED, COLOR_REMOVED};
    if (e == NULL || st == GD_SAME)
        return;
    set_attr(e, "color", color[st]);
    set_attr(e, "fontcolor", color[st]);
    set_attr(e, "penwidth", "2");
    if (st == GD_REMOVED)
        set_attr(e, "style", "dashed");
}

/* The part of a node key that tells st apart: a run drawn unchanged, added
 * or changed gets a node of its own. */
static const char *
diff_key(enum gdiff st)
{
    return st == GD_SAME ? "" : st == GD_ADDED ? "_a" : "_c";
}

/* A GN_GONE node with text, under node from by an edge labelled label. */
static void
emit_removed(struct graph *G, int from, const char *key, const char *text, const char *label)
{
    bool created;
    int rn = node_get(G, key, GN_GONE, &created);
    if (rn < 0)
        return;
    if (created)
        snprintf(G->nodes[rn].text, sizeof(G->nodes[rn].text), "%s", text);
    G->nodes[rn].diff = GD_REMOVED;
    diff_edge(edge(G, from, rn, label), GD_REMOVED);
}

/* Draws, under table (or group) node tn, the runs of pages that PDE i of
 * d mapped at the snapshot and maps no more. */
static void
removed_pages(struct graph *G, const struct gdir *d, unsigned i, int tn, bool group)
{
    const struct snap_space *o = snap_of(G, d, i);
    struct mapiter_run r;
    bool open = false;
    char key[48], text[128], label[48], fl[DUMP_FLAGS_MAX];
    if (o == NULL || o->pte[i] == NULL)
        return;
    for (unsigned j = 0; j <= NPTENTRIES; j++) {
        uint32_t va = (i << PDX_SHIFT) | (j << PAGE_SHIFT);
        uint32_t was = j < NPTENTRIES ? o->pte[i][j] : 0;
        bool gone = j < NPTENTRIES && page_diff(G, d, va) == GD_REMOVED;
        if (gone && open && mapiter_run_extend(&r, va, PTE_ADDR(was), false, was & PTE_FLAGS_MASK))
            continue;
        if (open) {
            paddr_t lo = mapiter_run_low(&r);
            unsigned pos = PTX(r.va);
            flags_str(r.flags, false, fl, sizeof(fl));
            snprintf(key, sizeof(key), "rm_%08x_%08x_%u", d->pd, r.va, r.pages);
            snprintf(text, sizeof(text), "%u frame%s 0x%08x-0x%08llx\n%s", r.pages,
                     r.pages == 1 ? "" : "s", lo,
                     (unsigned long long)lo + (uint64_t)r.pages * PAGE_SIZE - 1, fl);
            if (group)
                snprintf(label, sizeof(label), "VA 0x%08x-0x%08llx", r.va,
                         (unsigned long long)r.va + (uint64_t)r.pages * PAGE_SIZE - 1);
            else if (r.pages == 1)
                snprintf(label, sizeof(label), "PTE %u", pos);
            else
                snprintf(label, sizeof(label), "PTE %u-%u", pos, pos + r.pages - 1);
            emit_removed(G, tn, key, text, label);
            open = false;
        }
        if (gone) {
            mapiter_run_start(&r, va, PTE_ADDR(was), false, was & PTE_FLAGS_MASK);
            open = true;
        }
    }
}

/* Draws, from d's node, what non-present PDE i of d named at the snapshot. */
static void
removed_pde(struct graph *G, const struct gdir *d, unsigned i)
{
    const struct snap_space *o = snap_of(G, d, i);
    char key[48], text[128], label[48];
    if (o == NULL || !(o->pde[i] & PTE_P))
        return;
    snprintf(key, sizeof(key), "rmpde_%08x_%u", d->pd, i);
    if (o->pte[i] == NULL)
        snprintf(text, sizeof(text), "4 MiB page 0x%08x", PTE_ADDR(o->pde[i]) & ~(LPAGE_SIZE - 1));
    else
        snprintf(text, sizeof(text), "page table 0x%08x", PTE_ADDR(o->pde[i]));
    snprintf(label, sizeof(label), "PDE %u", i);
    emit_removed(G, d->node, key, text, label);
}

/*
 * Whether the TLB counts of what entries [i, end] of d map are shown: they
 * are those of the directory in CR3 when it is drawn, else of the first
 * drawn directory (G->tlbdir), so each cached translation is counted once,
 * on the nodes its space's walk goes through.  The tables d names there
 * count if that directory names the same ones at the same indices.
 */
static bool
tlb_counted(const struct graph *G, const struct gdir *d, unsigned i, unsigned end)
{
    if (G->tlbdir < 0)
        return false;
    const struct gdir *t = &G->dirs[G->tlbdir];
    for (unsigned k = i; k <= end; k++)
        if (t->tab[k] != d->tab[k])
            return false;
    return true;
}

/* Draws run r of frames of table (or group) node tn, which maps from
 * virtual address va0 on, marked as st says; its TLB count is added if
 * counted. */
static void
emit_frames(struct graph *G, unsigned tn, const struct mapiter_run *r, bool group, uint32_t va0,
            bool counted, enum gdiff st)
{
    char key[48], label[96];
    bool created;
    int fn;
    uint32_t pos = (r->va - va0) >> PAGE_SHIFT;
    if (G->nodes[tn].frame_runs >= GRAPH_RUNS_MAX) {
        snprintf(key, sizeof(key), "more_%s", G->nodes[tn].key);
        fn = node_get(G, key, GN_MORE, &created);
        if (fn < 0)
            return;
        struct gnode *mn = &G->nodes[fn];
        if (created) {
            edge(G, (int)tn, fn, "more PTEs");
            mn->more_first = pos;
            mn->more_group = group;
            mn->more_va0 = va0;
        }
        mn->more_runs++;
        mn->more_frames += r->pages;
        mn->more_last = pos + r->pages - 1;
    } else {
        paddr_t lo = mapiter_run_low(r);
        snprintf(key, sizeof(key), "fr_%08x_%u_%03x%s%s", lo, r->pages, r->flags,
                 r->descending ? "_d" : "", diff_key(st));
        fn = node_get(G, key, GN_FRAMES, &created);
        if (fn < 0)
            return;
        if (created) {
            char fl[DUMP_FLAGS_MAX];
            flags_str(r->flags, false, fl, sizeof(fl));
            uint64_t end = (uint64_t)lo + (uint64_t)r->pages * PAGE_SIZE - 1;
            snprintf(G->nodes[fn].text, sizeof(G->nodes[fn].text),
                     "%u frame%s 0x%08x-0x%08llx%s\n%s", r->pages, r->pages == 1 ? "" : "s", lo,
                     (unsigned long long)end, r->descending ? " (descending)" : "", fl);
        }
        G->nodes[tn].frame_runs++;
        if (group) {
            snprintf(label, sizeof(label), "VA 0x%08x-0x%08llx", r->va,
                     (unsigned long long)r->va + (uint64_t)r->pages * PAGE_SIZE - 1);
        } else if (r->pages == 1) {
            snprintf(label, sizeof(label), "PTE %u", pos);
        } else {
            snprintf(label, sizeof(label), "PTE %u-%u", pos, pos + r->pages - 1);
        }
        G->nodes[fn].diff = (uint8_t)st;
        diff_edge(edge(G, (int)tn, fn, label), st);
    }
    if (counted) {
        G->nodes[tn].tlb += r->tlb;
        G->nodes[fn].tlb += r->tlb;
        G->nodes[fn].stale += r->stale; /* on the entry's own node only */
    }
}

/* Draws the frames that tables [i, end] of d map, as node tn, merged into runs. */
static void
expand_tables(struct graph *G, unsigned tn, const struct gdir *d, unsigned i, unsigned end,
              bool group)
{
    struct mapiter it;
    struct mapiter_run r;
    bool counted = tlb_counted(G, d, i, end);
    G->nodes[tn].expanded = true;
    mapiter_init(&it, G->m, d->pd, i, end + 1, MAPITER_ENTRY);
    while (mapiter_next(&it, &r)) {
        /* With --diff, a run splits where its pages compare differently with the snapshot. */
        for (uint32_t k = 0, e; k < r.pages; k = e) {
            uint32_t size = PAGE_SIZE;
            enum gdiff st = page_diff(G, d, r.va + k * size);
            for (e = k + 1; e < r.pages && page_diff(G, d, r.va + e * size) == st; e++)
                ;
            struct mapiter_run sub = r;
            sub.va = r.va + k * size;
            sub.pa = r.descending ? r.pa - k * size : r.pa + k * size;
            sub.pages = e - k;
            if (sub.pages != r.pages) {
                sub.tlb = mapiter_run_tlb(G->m, &sub);
                sub.stale = mapiter_run_stale(G->m, d->pd, &sub);
            }
            emit_frames(G, tn, &sub, group, i << PDX_SHIFT, counted, st);
        }
    }
}

/* Draws run r of 4 MiB pages from directory (or kernel half) node dn,
 * marked as st says; its TLB count is added if counted. */
static void
emit_large(struct graph *G, int dn, const struct mapiter_run *r, const char *note, bool counted,
           enum gdiff st)
{
    char key[48], label[96], fl[DUMP_FLAGS_MAX];
    bool created;
    unsigned pos = PDX(r->va);
    paddr_t lo = mapiter_run_low(r);
    snprintf(key, sizeof(key), "lp_%08x_%u_%04x%s%s", lo, r->pages, r->flags,
             r->descending ? "_d" : "", diff_key(st));
    int fn = node_get(G, key, GN_LARGE, &created);
    if (fn < 0)
        return;
    if (created) {
        flags_str(r->flags & ~PTE_PS, true, fl, sizeof(fl));
        uint64_t end = (uint64_t)lo + (uint64_t)r->pages * LPAGE_SIZE - 1;
        snprintf(G->nodes[fn].text, sizeof(G->nodes[fn].text),
                 "%u x 4 MiB page%s 0x%08x-0x%08llx%s\n%s", r->pages, r->pages == 1 ? "" : "s", lo,
                 (unsigned long long)end, r->descending ? " (descending)" : "", fl);
    }
    if (r->pages == 1)
        snprintf(label, sizeof(label), "PDE %u (4M)%s", pos, note);
    else
        snprintf(label, sizeof(label), "PDE %u-%u (4M)%s", pos, pos + r->pages - 1, note);
    G->nodes[fn].diff = (uint8_t)st;
    diff_edge(edge(G, dn, fn, label), st);
    if (counted) {
        G->nodes[fn].tlb += r->tlb;
        G->nodes[fn].stale += r->stale;
    }
}

/* Draws run r of 4 MiB pages of d (whose TLB and stale counts are those of
 * the directory at pd) as emit_large does, split where its pages compare
 * differently with the snapshot. */
static void
emit_large_diff(struct graph *G, int dn, const struct gdir *d, paddr_t pd,
                const struct mapiter_run *r, const char *note, bool counted)
{
    for (uint32_t k = 0, e; k < r->pages; k = e) {
        enum gdiff st = page_diff(G, d, r->va + k * LPAGE_SIZE);
        for (e = k + 1; e < r->pages && page_diff(G, d, r->va + e * LPAGE_SIZE) == st; e++)
            ;
        struct mapiter_run sub = *r;
        sub.va = r->va + k * LPAGE_SIZE;
        sub.pa = r->descending ? r->pa - k * LPAGE_SIZE : r->pa + k * LPAGE_SIZE;
        sub.pages = e - k;
        sub.descending = r->descending && sub.pages > 1;
        if (sub.pages != r->pages) {
            sub.tlb = mapiter_run_tlb(G->m, &sub);
            sub.stale = pd != TAB_NONE ? mapiter_run_stale(G->m, pd, &sub) : 0;
        }
        emit_large(G, dn, &sub, note, counted, st);
    }
}

static void
shared_edge_style(struct graph *G, Agedge_t *e, unsigned tn)
{
    if (e != NULL && G->nodes[tn].sharers > 1) {
        set_attr(e, "color", COLOR_SHARED_EDGE);
        set_attr(e, "fontcolor", COLOR_SHARED_EDGE);
    }
}

/* ", A differs between spaces" if an entry of [i, end] of the kernel half
 * has A set in some directories and clear in others, else "". */
static void
kernel_note(const struct graph *G, unsigned i, unsigned end, char *buf, size_t len)
{
    bool differs = false;
    for (unsigned k = i; k <= end; k++)
        differs = differs || (G->kaccessed[k] > 0 && G->kaccessed[k] < G->kspaces);
    snprintf(buf, len, "%s", differs ? ", A differs between spaces" : "");
}

/* How PDE i of d, which names a table, compares with the snapshot: added
 * if not present then, changed if it named a 4 MiB page or another table. */
static enum gdiff
pde_diff(const struct graph *G, const struct gdir *d, unsigned i)
{
    const struct snap_space *o = snap_of(G, d, i);
    pde_t was = o != NULL ? o->pde[i] : 0;
    return !(was & PTE_P)                                    ? GD_ADDED
           : o->pte[i] == NULL || PTE_ADDR(was) != d->tab[i] ? GD_CHANGED
                                                             : GD_SAME;
}

/*
 * Draws the table that entry i of d names, and the edge to it labelled
 * with its flags: from d's node, or (kernel) from the kernel half node with
 * the flags every space has.
 */
static void
draw_table(struct graph *G, struct gdir *d, unsigned i, bool kernel)
{
    char key[48], label[96], fl[DUMP_FLAGS_MAX], note[64] = "";
    const pde_t *pde = kernel ? G->kcommon : d->pde;
    bool created;
    snprintf(key, sizeof(key), "pt_%08x", d->tab[i]);
    int tn = node_get(G, key, GN_TABLE, &created);
    if (tn < 0)
        return;
    if (created) {
        snprintf(G->nodes[tn].text, sizeof(G->nodes[tn].text), "page table 0x%08x", d->tab[i]);
        G->nodes[tn].sharers = sharers(G, d, i);
    }
    if (!G->nodes[tn].expanded) {
        expand_tables(G, (unsigned)tn, d, i, i, false);
        if (G->since != NULL)
            removed_pages(G, d, i, tn, false);
    }
    flags_str(pde[i], false, fl, sizeof(fl));
    if (kernel)
        kernel_note(G, i, i, note, sizeof(note));
    snprintf(label, sizeof(label), "PDE %u\n%s%s", i, fl, note);
    Agedge_t *e = edge(G, kernel ? G->knode : d->node, tn, label);
    shared_edge_style(G, e, (unsigned)tn);
    if (G->since != NULL) {
        enum gdiff st = pde_diff(G, d, i);
        diff_edge(e, st);
        G->ndiff[st]++;
    }
}

/* Draws kernel tables [i, end] of d, all shared by the same spaces, as one
 * node, with an edge as draw_table's; from d's node, its label counts the
 * entries that have A set when some do not. */
static void
draw_group(struct graph *G, struct gdir *d, unsigned i, unsigned end, bool kernel)
{
    char key[48], label[128], fl[DUMP_FLAGS_MAX], note[64] = "";
    const pde_t *pde = kernel ? G->kcommon : d->pde;
    bool created;
    unsigned n = end - i + 1;
    snprintf(key, sizeof(key), "kt_%u_%u_%08x", i, n, d->tab[i]);
    int tn = node_get(G, key, GN_GROUP, &created);
    if (tn < 0)
        return;
    if (created) {
        bool contiguous = true;
        for (unsigned k = i; k <= end; k++)
            contiguous = contiguous && d->tab[k] == d->tab[i] + (k - i) * PAGE_SIZE;
        struct gnode *gn = &G->nodes[tn];
        gn->sharers = sharers(G, d, i);
        if (contiguous)
            snprintf(gn->text, sizeof(gn->text), "kernel tables (%u)\n0x%08x-0x%08x", n, d->tab[i],
                     d->tab[end] + PAGE_SIZE - 1);
        else
            snprintf(gn->text, sizeof(gn->text), "kernel tables (%u)\nfirst 0x%08x", n, d->tab[i]);
    }
    if (!G->nodes[tn].expanded) {
        expand_tables(G, (unsigned)tn, d, i, end, true);
        for (unsigned k = i; G->since != NULL && k <= end; k++)
            removed_pages(G, d, k, tn, true);
    }
    uint32_t common = PTE_FLAGS_MASK;
    unsigned accessed = 0;
    for (unsigned k = i; k <= end; k++) {
        common &= pde[k];
        accessed += (pde[k] & PTE_A) != 0;
    }
    flags_str(common, false, fl, sizeof(fl));
    if (kernel)
        kernel_note(G, i, end, note, sizeof(note));
    if (note[0] == '\0' && accessed > 0 && accessed < n)
        snprintf(note, sizeof(note), ", A in %u", accessed);
    snprintf(label, sizeof(label), "PDE %u-%u\n%s%s", i, end, fl, note);
    Agedge_t *e = edge(G, kernel ? G->knode : d->node, tn, label);
    shared_edge_style(G, e, (unsigned)tn);
    if (G->since != NULL) {
        /* Added if every PDE is, else changed if any is. */
        unsigned added = 0, changed = 0;
        for (unsigned k = i; k <= end; k++) {
            enum gdiff st = pde_diff(G, d, k);
            added += st == GD_ADDED;
            changed += st != GD_SAME;
        }
        enum gdiff st = added == n ? GD_ADDED : changed > 0 ? GD_CHANGED : GD_SAME;
        diff_edge(e, st);
        G->ndiff[st]++;
    }
}

/* Last index of the run of kernel tables from i that can be drawn as one
 * group: tables with equal flags (but for A/D), shared by the same spaces,
 * and all in the kernel half node or all not. */
static unsigned
group_end(const struct graph *G, const struct gdir *d, unsigned i)
{
    const uint32_t mask = PTE_FLAGS_MASK & ~(PTE_A | PTE_D);
    unsigned end = i;
    while (end + 1 < NPDENTRIES && d->kind[end + 1] == DUMP_PDE_TABLE &&
           (d->pde[end + 1] & mask) == (d->pde[i] & mask) && same_sharers(G, d, i, end + 1) &&
           G->kshared[end + 1] == G->kshared[i])
        end++;
    return end;
}

/* Draws the kernel tables of d from i on, as a group or one by one, from
 * d's node or (kernel) the kernel half node; the index after them. */
static unsigned
draw_kernel_tables(struct graph *G, struct gdir *d, unsigned i, bool kernel)
{
    unsigned end = group_end(G, d, i);
    if (end - i + 1 > GRAPH_GROUP_MIN) {
        draw_group(G, d, i, end, kernel);
    } else {
        for (unsigned k = i; k <= end; k++)
            draw_table(G, d, k, kernel);
    }
    return end + 1;
}

/*
 * Finds the kernel-half entries that every distinct directory has alike
 * (the same table or 4 MiB page and flags, A and D aside), unless
 * GRAPH_KERNEL_DETAIL or fewer than two spaces.
 */
static void
find_kernel_shared(struct graph *G)
{
    const struct gdir *first = NULL;
    G->knode = -1;
    G->kspaces = 0;
    for (unsigned k = 0; k < G->ndirs; k++) {
        if (!G->dirs[k].dup) {
            G->kspaces++;
            if (first == NULL)
                first = &G->dirs[k];
        }
    }
    if (G->kspaces < 2 || (G->flags & GRAPH_KERNEL_DETAIL))
        return;
    for (unsigned i = KERNEL_PDX; i < NPDENTRIES; i++) {
        uint8_t kind = first->kind[i];
        bool same = kind == DUMP_PDE_TABLE || kind == DUMP_PDE_LARGE;
        G->kcommon[i] = same ? first->pde[i] : 0;
        G->kaccessed[i] = 0;
        for (unsigned k = 0; k < G->ndirs && same; k++) {
            const struct gdir *d = &G->dirs[k];
            if (d->dup)
                continue;
            same = d->kind[i] == kind && ((d->pde[i] ^ first->pde[i]) & ~(PTE_A | PTE_D)) == 0;
            G->kcommon[i] &= d->pde[i];
            G->kaccessed[i] += (d->pde[i] & PTE_A) != 0;
        }
        G->kshared[i] = same;
    }
}

/* Draws run r of the kernel half's shared 4 MiB pages, those of d. */
static void
kernel_large(struct graph *G, const struct gdir *d, struct mapiter_run *r)
{
    char note[64];
    unsigned pos = PDX(r->va);
    paddr_t pd = G->tlbdir >= 0 ? G->dirs[G->tlbdir].pd : TAB_NONE;
    r->tlb = mapiter_run_tlb(G->m, r);
    r->stale = pd != TAB_NONE ? mapiter_run_stale(G->m, pd, r) : 0;
    kernel_note(G, pos, pos + r->pages - 1, note, sizeof(note));
    emit_large_diff(G, G->knode, d, pd, r, note, G->tlbdir >= 0);
}

/* Draws the kernel half node and what its shared entries map, once, from
 * the first distinct directory d. */
static void
draw_kernel_half(struct graph *G, struct gdir *d)
{
    unsigned first = NPDENTRIES, last = 0, ntables = 0, nlarge = 0;
    for (unsigned i = KERNEL_PDX; i < NPDENTRIES; i++) {
        if (!G->kshared[i])
            continue;
        first = i < first ? i : first;
        last = i;
        ntables += d->kind[i] == DUMP_PDE_TABLE;
        nlarge += d->kind[i] == DUMP_PDE_LARGE;
    }
    if (first == NPDENTRIES)
        return;
    G->knode = node_get(G, "kernel_half", GN_KERNEL, NULL);
    if (G->knode < 0)
        return;
    struct gnode *kn = &G->nodes[G->knode];
    int n = snprintf(kn->text, sizeof(kn->text), "kernel half (shared)\nPDE %u-%u:", first, last);
    if (ntables > 0)
        n += snprintf(kn->text + n, sizeof(kn->text) - (size_t)n, " %u page table%s", ntables,
                      ntables == 1 ? "" : "s");
    if (nlarge > 0)
        n += snprintf(kn->text + n, sizeof(kn->text) - (size_t)n, "%s %u x 4 MiB",
                      ntables > 0 ? "," : "", nlarge);
    snprintf(kn->text + n, sizeof(kn->text) - (size_t)n, "\nthe same in all %u spaces", G->kspaces);
    kn->sharers = G->kspaces;

    /* Its 4 MiB pages, merged as the iterator merges, with the flags every space has. */
    struct mapiter_run big;
    bool open = false;
    for (unsigned i = KERNEL_PDX; i < NPDENTRIES;) {
        bool large = G->kshared[i] && d->kind[i] == DUMP_PDE_LARGE;
        vaddr_t va = PGADDR(i, 0, 0);
        paddr_t pa = PDE_LADDR(G->kcommon[i]);
        uint32_t flags = G->kcommon[i] & PDE_LFLAGS_MASK;
        if (large && open && mapiter_run_extend(&big, va, pa, true, flags)) {
            i++;
            continue;
        }
        if (open)
            kernel_large(G, d, &big);
        open = false;
        if (!G->kshared[i]) {
            i++;
        } else if (large) {
            mapiter_run_start(&big, va, pa, true, flags);
            open = true;
            i++;
        } else {
            i = draw_kernel_tables(G, d, i, true);
        }
    }
    if (open)
        kernel_large(G, d, &big);
}

/* Whether d is the directory whose TLB counts are shown. */
static bool
is_tlbdir(const struct graph *G, const struct gdir *d)
{
    return G->tlbdir >= 0 && d == &G->dirs[G->tlbdir];
}

/* Draws the 4 MiB pages of d from PDE i on, up to the next entry of
 * another kind or of the kernel half node; the index after them. */
static unsigned
draw_large(struct graph *G, struct gdir *d, unsigned i)
{
    unsigned end = i + 1;
    while (end < NPDENTRIES && d->kind[end] == DUMP_PDE_LARGE &&
           !(G->knode >= 0 && G->kshared[end]))
        end++;
    struct mapiter it;
    struct mapiter_run r;
    mapiter_init(&it, G->m, d->pd, i, end, MAPITER_ENTRY);
    while (mapiter_next(&it, &r))
        emit_large_diff(G, d->node, d, d->pd, &r, "", is_tlbdir(G, d));
    return end;
}

/* Counts on directory node dn the cached translations through slot PDE i
 * of d (a self-map or foreign slot), and the stale ones, if d's counts are
 * shown. */
static void
slot_tlb(struct graph *G, const struct gdir *d, unsigned i, int dn)
{
    struct mapiter it;
    struct mapiter_run r;
    if (dn < 0 || !is_tlbdir(G, d))
        return;
    mapiter_init(&it, G->m, d->pd, i, i + 1, MAPITER_ENTRY);
    while (mapiter_next(&it, &r))
        G->nodes[dn].tlb_slot += r.tlb;
    G->nodes[dn].stale_slot += mapiter_slot_stale(G->m, d->pd, i);
}

static void
draw_dir(struct graph *G, struct gdir *d)
{
    char label[64];
    bool kernel_edge = false;
    for (unsigned i = 0; i < NPDENTRIES;) {
        pde_t pde = d->pde[i];
        if (G->knode >= 0 && G->kshared[i]) {
            if (!kernel_edge)
                shared_edge_style(G, edge(G, d->node, G->knode, NULL), (unsigned)G->knode);
            kernel_edge = true;
            i++;
            continue;
        }
        switch (d->kind[i]) {
        case DUMP_PDE_SELF: {
            snprintf(label, sizeof(label), "self-map %u", i);
            Agedge_t *e = edge(G, d->node, d->node, label);
            if (e != NULL) {
                set_attr(e, "style", "bold");
                set_attr(e, "color", COLOR_SELF);
                set_attr(e, "fontcolor", COLOR_SELF);
            }
            slot_tlb(G, d, i, d->node);
            break;
        }
        case DUMP_PDE_FOREIGN: {
            unsigned other = 0;
            dump_pde_kind(G->m, d->pd, pde, G->spaces, G->nspaces, &other);
            int target = dir_node(G, PTE_ADDR(pde));
            if (target < 0)
                target = stub_node(G, other);
            snprintf(label, sizeof(label), "foreign %u", i);
            Agedge_t *e = edge(G, d->node, target, label);
            if (e != NULL) {
                set_attr(e, "style", "dashed");
                set_attr(e, "color", COLOR_FOREIGN);
                set_attr(e, "fontcolor", COLOR_FOREIGN);
            }
            slot_tlb(G, d, i, target);
            break;
        }
        case DUMP_PDE_LARGE:
            i = draw_large(G, d, i);
            continue;
        case DUMP_PDE_BAD: {
            char key[48];
            bool created;
            snprintf(key, sizeof(key), "bad_%08x", PTE_ADDR(pde));
            int bn = node_get(G, key, GN_BAD, &created);
            if (bn >= 0 && created)
                snprintf(G->nodes[bn].text, sizeof(G->nodes[bn].text), "table 0x%08x\noutside RAM",
                         PTE_ADDR(pde));
            snprintf(label, sizeof(label), "PDE %u", i);
            edge(G, d->node, bn, label);
            break;
        }
        case DUMP_PDE_TABLE:
            if (i >= KERNEL_PDX) {
                i = draw_kernel_tables(G, d, i, false);
                continue;
            }
            draw_table(G, d, i, false);
            break;
        default:
            if (G->since != NULL)
                removed_pde(G, d, i);
            break;
        }
        i++;
    }
}

struct stale_scan {
    const struct mmu *m;
    bool large;
    unsigned n, detector;
};

static void
stale_entry(const struct tlb_entry *e, void *arg)
{
    struct stale_scan *sc = arg;
    sc->n += mapiter_tlb_state(sc->m, e, sc->large, NULL) != MAPITER_TLB_LIVE;
    sc->detector += mapiter_tlb_stale(sc->m, e, sc->large);
}

/* TLB entries the current tables no longer give; *detector gets those
 * stale as the detector sees them (mapiter_tlb_stale). */
static unsigned
count_stale(const struct mmu *m, unsigned *detector)
{
    struct stale_scan sc = {.m = m, .large = false};
    tlb_foreach(&m->tlb4k, stale_entry, &sc);
    sc.large = true;
    tlb_foreach(&m->tlb4m, stale_entry, &sc);
    *detector = sc.detector;
    return sc.n;
}

static int
cmp_dir(const void *a, const void *b)
{
    const struct gdir *x = a, *y = b;
    if (x->pd != y->pd)
        return x->pd < y->pd ? -1 : 1;
    return x->space < y->space ? -1 : x->space > y->space;
}

static bool
load_dirs(struct graph *G, const char *only, char *err, size_t errlen)
{
    G->dirs = calloc(G->nspaces ? G->nspaces : 1, sizeof(*G->dirs));
    if (G->dirs == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    unsigned drawn = 0;
    for (unsigned k = 0; k < G->nspaces; k++) {
        struct gdir *d = &G->dirs[G->ndirs++];
        d->space = k;
        d->pd = PTE_ADDR(G->spaces[k].pd);
        d->inram = mapiter_read_pde(G->m, d->pd, 0, &d->pde[0]);
        d->drawn = only == NULL || strcmp(only, G->spaces[k].name) == 0;
        d->node = -1;
        drawn += d->drawn;
        for (unsigned i = 0; i < NPDENTRIES; i++) {
            if (!d->inram || !mapiter_read_pde(G->m, d->pd, i, &d->pde[i]))
                d->pde[i] = 0;
            d->kind[i] =
                (uint8_t)dump_pde_kind(G->m, d->pd, d->pde[i], G->spaces, G->nspaces, NULL);
            d->tab[i] = d->kind[i] == DUMP_PDE_TABLE ? PTE_ADDR(d->pde[i]) : TAB_NONE;
        }
    }
    if (only != NULL && drawn == 0) {
        snprintf(err, errlen, "no address space named \"%s\"", only);
        return false;
    }
    qsort(G->dirs, G->ndirs, sizeof(*G->dirs), cmp_dir);
    /* A directory listed twice is drawn and counted once, under its first name. */
    for (unsigned k = 1; k < G->ndirs; k++) {
        struct gdir *d = &G->dirs[k];
        if (d->pd != G->dirs[k - 1].pd)
            continue;
        G->dirs[k - 1].drawn = G->dirs[k - 1].drawn || d->drawn;
        d->drawn = false;
        d->dup = true;
        for (unsigned i = 0; i < NPDENTRIES; i++)
            d->tab[i] = TAB_NONE;
    }
    return true;
}

static void
build(struct graph *G)
{
    char key[48];
    bool created;
    const struct mmu *m = G->m;

    int cr3 = node_get(G, "cr3", GN_CR3, NULL);
    if (cr3 >= 0)
        snprintf(G->nodes[cr3].text, sizeof(G->nodes[cr3].text), "CR3 0x%08x%s", m->cr3,
                 mmu_paging(m) ? "" : "\n(paging off)");

    for (unsigned k = 0; k < G->ndirs; k++) {
        struct gdir *d = &G->dirs[k];
        if (!d->drawn)
            continue;
        snprintf(key, sizeof(key), "pd_%08x", d->pd);
        d->node = node_get(G, key, d->inram ? GN_DIR : GN_BAD, &created);
        if (d->node >= 0 && created)
            snprintf(G->nodes[d->node].text, sizeof(G->nodes[d->node].text),
                     "\"%s\"\npage directory 0x%08x%s", G->spaces[d->space].name, d->pd,
                     d->inram ? "" : "\noutside RAM");
    }
    int target = dir_node(G, PTE_ADDR(m->cr3));
    for (unsigned k = 0; k < G->ndirs && target < 0; k++)
        if (G->dirs[k].pd == PTE_ADDR(m->cr3))
            target = stub_node(G, G->dirs[k].space);
    Agedge_t *e = edge(G, cr3, target, NULL);
    if (e != NULL)
        set_attr(e, "penwidth", "2");

    /* TLB counts follow the directory in CR3, or the first drawn one. */
    G->tlbdir = -1;
    for (unsigned k = 0; k < G->ndirs; k++)
        if (G->dirs[k].drawn && (G->tlbdir < 0 || G->dirs[k].pd == PTE_ADDR(m->cr3)))
            G->tlbdir = (int)k;
    G->stale = count_stale(m, &G->nstale);

    find_kernel_shared(G);
    for (unsigned k = 0; k < G->ndirs && G->kspaces >= 2; k++) {
        if (!G->dirs[k].dup) {
            draw_kernel_half(G, &G->dirs[k]);
            break;
        }
    }
    for (unsigned k = 0; k < G->ndirs; k++) {
        if (G->dirs[k].drawn && G->dirs[k].inram && G->dirs[k].node >= 0)
            draw_dir(G, &G->dirs[k]);
    }
}

static void
finish_node(struct graph *G, struct gnode *gn)
{
    char text[512], label[1024];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", gn->text);
    const char *fill = COLOR_FRAMES, *shape = "box", *style = "filled";
    switch (gn->kind) {
    case GN_CR3:
        fill = COLOR_CR3;
        style = "filled,bold";
        if (G->stale > 0)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "\nTLB: %u stale entr%s", G->stale,
                                  G->stale == 1 ? "y" : "ies");
        break;
    case GN_DIR:
        fill = COLOR_DIR;
        shape = "folder";
        break;
    case GN_STUB:
        fill = COLOR_DIR;
        shape = "folder";
        style = "filled,dashed";
        break;
    case GN_TABLE:
    case GN_GROUP:
        fill = gn->sharers > 1 ? COLOR_SHARED : COLOR_TABLE;
        shape = gn->kind == GN_GROUP ? "box3d" : "box";
        if (gn->sharers > 1)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "\nshared by %u spaces", gn->sharers);
        break;
    case GN_FRAMES:
    case GN_LARGE:
        style = "filled,rounded";
        if (gn->kind == GN_LARGE)
            style = "filled,rounded,bold";
        break;
    case GN_MORE:
        style = "filled,rounded,dashed";
        n += (size_t)snprintf(text + n, sizeof(text) - n, "+%u more runs\n%llu frames\n",
                              gn->more_runs, (unsigned long long)gn->more_frames);
        if (gn->more_group)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "in VA 0x%08llx-0x%08llx",
                                  (unsigned long long)gn->more_va0 +
                                      (uint64_t)gn->more_first * PAGE_SIZE,
                                  (unsigned long long)gn->more_va0 +
                                      (uint64_t)gn->more_last * PAGE_SIZE + PAGE_SIZE - 1);
        else
            n += (size_t)snprintf(text + n, sizeof(text) - n, "in PTE %u-%u", gn->more_first,
                                  gn->more_last);
        break;
    case GN_BAD:
        fill = COLOR_BAD;
        break;
    case GN_KERNEL:
        fill = COLOR_SHARED;
        shape = "component";
        style = "filled,bold";
        break;
    case GN_GONE:
        style = "rounded,dashed";
        break;
    }
    if (gn->diff != GD_SAME && G->since != NULL && n < sizeof(text)) {
        static const char *const what[] = {"", "added", "changed", "removed"};
        static const char *const color[] = {NULL, COLOR_ADDED, COLOR_CHANGED, COLOR_REMOVED};
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\n%s since '%s'", what[gn->diff],
                              G->since->label);
        set_attr(gn->n, "color", color[gn->diff]);
        set_attr(gn->n, "penwidth", "3");
        if (gn->diff == GD_REMOVED)
            set_attr(gn->n, "fontcolor", COLOR_REMOVED);
        G->ndiff[gn->diff]++;
    }
    if (gn->stale > 0 && n < sizeof(text)) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\nTLB: %u cached, %u STALE", gn->tlb,
                              gn->stale);
        /* A --diff border keeps its colour; the fill says stale either way. */
        if (gn->diff == GD_SAME || G->since == NULL) {
            set_attr(gn->n, "color", COLOR_STALE);
            set_attr(gn->n, "penwidth", "3");
        }
        set_attr(gn->n, "fontcolor", COLOR_STALE);
    } else if (gn->tlb > 0 && n < sizeof(text)) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\nTLB: %u cached", gn->tlb);
    }
    if (gn->tlb_slot > 0 && n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\nTLB: %u via slot", gn->tlb_slot);
    if (gn->stale_slot > 0 && n < sizeof(text)) {
        snprintf(text + n, sizeof(text) - n, "\nTLB: %u STALE via slot", gn->stale_slot);
        set_attr(gn->n, "color", COLOR_STALE);
        set_attr(gn->n, "penwidth", "3");
        set_attr(gn->n, "fontcolor", COLOR_STALE);
    }
    if (gn->tlb > 0 || gn->tlb_slot > 0)
        fill = COLOR_TLB;
    if (gn->stale > 0 || gn->stale_slot > 0)
        fill = COLOR_STALE_FILL;
    escape_label(text, label, sizeof(label));
    set_attr(gn->n, "label", label);
    set_attr(gn->n, "shape", shape);
    set_attr(gn->n, "style", style);
    set_attr(gn->n, "fillcolor", fill);
}

static void
finish(struct graph *G)
{
    char legend[768], name[] = "directories";
    Agraph_t *dirs = agsubg(G->g, name, 1);
    if (dirs != NULL)
        set_attr(dirs, "rank", "same");
    for (unsigned k = 0; k < G->nnodes; k++) {
        struct gnode *gn = &G->nodes[k];
        finish_node(G, gn);
        if (dirs != NULL && (gn->kind == GN_DIR || gn->kind == GN_STUB))
            agsubnode(dirs, gn->n, 1);
    }
    snprintf(legend, sizeof(legend),
             "pagesim: CR3 0x%08x, paging %s, CR4.PSE=%u, CR4.PGE=%u.  Orange: in the TLB.  "
             "Green: shared (%s).  Blue loop: self-map.  Red dashed: foreign slot.",
             G->m->cr3, mmu_paging(G->m) ? "on" : "off", (G->m->cr4 & CR4_PSE) != 0,
             (G->m->cr4 & CR4_PGE) != 0,
             (G->flags & GRAPH_KERNEL_DETAIL)
                 ? "the kernel tables every space shares, drawn once, an edge from each space"
                 : "the kernel half every space has alike is drawn once");
    if (G->since != NULL) {
        size_t n = strlen(legend);
        snprintf(legend + n, sizeof(legend) - n,
                 "  Since '%s' (A and D aside): %u added (teal), %u changed (purple), %u "
                 "removed (grey dashed).",
                 G->since->label, G->ndiff[GD_ADDED], G->ndiff[GD_CHANGED], G->ndiff[GD_REMOVED]);
    }
    if (G->nstale > 0) {
        size_t n = strlen(legend);
        snprintf(legend + n, sizeof(legend) - n,
                 "  Red: %u stale TLB entr%s (an entry it was filled from changed, not "
                 "invalidated since).",
                 G->nstale, G->nstale == 1 ? "y" : "ies");
    }
    set_attr(G->g, "label", legend);
}

static char gv_errors[512];

static int
gv_capture(char *msg)
{
    size_t n = strlen(gv_errors);
    if (n + 1 < sizeof(gv_errors))
        snprintf(gv_errors + n, sizeof(gv_errors) - n, "%s", msg);
    return 0;
}

/* The last line of what Graphviz reported, or a fallback. */
static const char *
gv_message(const char *fallback)
{
    size_t n = strlen(gv_errors);
    while (n > 0 && (gv_errors[n - 1] == '\n' || gv_errors[n - 1] == ' '))
        gv_errors[--n] = '\0';
    return n > 0 ? gv_errors : fallback;
}

/*
 * One Graphviz context for the process, never freed: the pango text-layout
 * plugin of Graphviz 2.x keeps a pointer to the last font name, which lives
 * in the context, so freeing a context and rendering with the next one reads
 * freed memory.
 */
static GVC_t *
gv_context(void)
{
    static GVC_t *gvc;
    if (gvc == NULL)
        gvc = gvContext();
    return gvc;
}

static bool
ext_is(const char *ext, const char *want)
{
    for (; *ext != '\0' && *want != '\0'; ext++, want++)
        if (tolower((unsigned char)*ext) != *want)
            return false;
    return *ext == '\0' && *want == '\0';
}

static void
declare_defaults(Agraph_t *g)
{
    declare(g, AGRAPH, "rankdir", "LR");
    declare(g, AGRAPH, "ordering", "out");
    declare(g, AGRAPH, "fontname", "Helvetica");
    declare(g, AGRAPH, "fontsize", "11");
    declare(g, AGRAPH, "labelloc", "b");
    declare(g, AGRAPH, "nodesep", "0.2");
    declare(g, AGRAPH, "ranksep", "0.5");
    declare(g, AGRAPH, "label", "");
    declare(g, AGNODE, "fontname", "Helvetica");
    declare(g, AGNODE, "fontsize", "10");
    declare(g, AGNODE, "shape", "box");
    declare(g, AGNODE, "style", "filled");
    declare(g, AGNODE, "fillcolor", COLOR_FRAMES);
    declare(g, AGNODE, "label", "\\N");
    declare(g, AGEDGE, "fontname", "Helvetica");
    declare(g, AGEDGE, "fontsize", "9");
    declare(g, AGEDGE, "label", "");
    declare(g, AGEDGE, "style", "solid");
    declare(g, AGEDGE, "color", "black");
    declare(g, AGEDGE, "fontcolor", "black");
    declare(g, AGEDGE, "penwidth", "1");
}

static bool
write_output(GVC_t *gvc, Agraph_t *g, const char *fmt, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    if (fmt == NULL) {
        int rc = agwrite(g, f);
        int werr = ferror(f);
        if (fclose(f) != 0 || rc == EOF || werr) {
            snprintf(err, errlen, "writing %s failed", path);
            return false;
        }
        return true;
    }
    fclose(f);
    /* A bitmap holds at most 32767 pixels a side: a larger drawing is
     * scaled to fit (340 in at 96 dpi) rather than left to the renderer. */
    if (strcmp(fmt, "png") == 0)
        agsafeset(g, "size", "340,340", "");
    if (gvLayout(gvc, g, "dot") != 0) {
        snprintf(err, errlen, "Graphviz layout failed: %s", gv_message("no detail"));
        return false;
    }
    int rc = gvRenderFilename(gvc, g, fmt, path);
    gvFreeLayout(gvc, g);
    if (rc != 0) {
        snprintf(err, errlen, "Graphviz could not render %s as %s: %s", path, fmt,
                 gv_message("no detail"));
        return false;
    }
    return true;
}

const char *
graph_format(const char *path)
{
    static const char *const formats[][2] = {
        {".svg", "svg"}, {".png", "png"}, {".dot", "dot"}, {".gv", "dot"}};
    const char *dot = strrchr(path, '.');
    for (size_t k = 0; dot != NULL && k < sizeof(formats) / sizeof(formats[0]); k++)
        if (ext_is(dot, formats[k][0]))
            return formats[k][1];
    return NULL;
}

struct graph_snap *
graph_snap_take(struct sim *s, const struct run_space *spaces, unsigned nspaces, const char *label)
{
    const struct mmu *m = sim_mmu(s);
    struct graph_snap *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->sp = calloc(nspaces ? nspaces : 1, sizeof(*a->sp))) == NULL) {
        free(a);
        return NULL;
    }
    snprintf(a->label, sizeof(a->label), "%s", label);
    for (unsigned k = 0; k < nspaces; k++) {
        struct snap_space *o = &a->sp[a->n++];
        paddr_t pd = PTE_ADDR(spaces[k].pd);
        size_t len = strlen(spaces[k].name) + 1;
        if ((o->name = malloc(len)) == NULL) {
            graph_snap_free(a);
            return NULL;
        }
        memcpy(o->name, spaces[k].name, len);
        for (unsigned i = 0; i < NPDENTRIES; i++) {
            if (!mapiter_read_pde(m, pd, i, &o->pde[i]))
                o->pde[i] = 0;
            if (!(o->pde[i] & PTE_P) || mmu_pde_large(m, o->pde[i]))
                continue;
            if ((o->pte[i] = calloc(NPTENTRIES, sizeof(uint32_t))) == NULL) {
                graph_snap_free(a);
                return NULL;
            }
            for (unsigned j = 0; j < NPTENTRIES; j++)
                if (!mmu_read_entry(m, PTE_ADDR(o->pde[i]) + j * (paddr_t)sizeof(uint32_t),
                                    &o->pte[i][j]))
                    o->pte[i][j] = 0;
        }
    }
    return a;
}

void
graph_snap_free(struct graph_snap *a)
{
    if (a == NULL)
        return;
    for (unsigned k = 0; k < a->n; k++) {
        free(a->sp[k].name);
        for (unsigned i = 0; i < NPDENTRIES; i++)
            free(a->sp[k].pte[i]);
    }
    free(a->sp);
    free(a);
}

bool
graph_render(struct sim *s, const struct run_space *spaces, unsigned nspaces,
             const char *only_space, unsigned flags, const char *path, char *err, size_t errlen)
{
    return graph_render_diff(s, spaces, nspaces, only_space, flags, NULL, path, err, errlen);
}

bool
graph_render_diff(struct sim *s, const struct run_space *spaces, unsigned nspaces,
                  const char *only_space, unsigned flags, const struct graph_snap *since,
                  const char *path, char *err, size_t errlen)
{
    const char *fmt = graph_format(path);
    if (fmt == NULL) {
        snprintf(err, errlen, "%s: unknown extension (use %s)", path, GRAPH_EXTS);
        return false;
    }
    if (strcmp(fmt, "dot") == 0)
        fmt = NULL;

    struct graph G = {
        .m = sim_mmu(s), .spaces = spaces, .nspaces = nspaces, .flags = flags, .since = since};
    bool ok = false;
    gv_errors[0] = '\0';
    agusererrf old = agseterrf(gv_capture);
    GVC_t *gvc = gv_context();
    if (gvc == NULL) {
        snprintf(err, errlen, "cannot create a Graphviz context: %s", gv_message("no detail"));
        goto out;
    }
    if (!load_dirs(&G, only_space, err, errlen))
        goto out;
    char name[] = "pagesim";
    G.g = agopen(name, Agdirected, NULL);
    if (G.g == NULL) {
        snprintf(err, errlen, "cannot create a Graphviz graph: %s", gv_message("no detail"));
        goto out;
    }
    declare_defaults(G.g);
    build(&G);
    if (G.oom) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    finish(&G);
    ok = write_output(gvc, G.g, fmt, path, err, errlen);
out:
    if (G.g != NULL)
        agclose(G.g);
    agseterrf(old);
    free(G.nodes);
    free(G.dirs);
    return ok;
}
