/*
 * check_graph.c - page-table graphs and text dumps (tools/graph.h, tools/dump.h)
 * over tables written by hand in simulated RAM; graphs are read back with cgraph.
 */
#define _GNU_SOURCE
#include <cgraph.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"
#include "tests/suites.h"
#include "tools/dump.h"
#include "tools/graph.h"

/*
 * Physical layout of every test (16 MiB of RAM).  Three spaces:
 *   A: PD 0x10000.  PDE 1 -> user table 0x30000 (P W U):
 *        PTE 0-11  -> 0x400000.. (P W U)      one run of 12 frames
 *        PTE 12-15 -> 0x500000.. (P U)        4 frames, read-only
 *        PTE 16-17 -> 0x40c000.. (P W U)      2 frames (a new run: the VA run broke)
 *        PTE 20    -> 0x600000   (P W U A D)  1 frame
 *        PTE 24-27 -> 0xa03000, 0xa02000, 0xa01000, 0xa00000 (P W U): frames
 *                     handed out top down, as a LIFO allocator does: one run
 *      PDE 4-5 -> 4 MiB pages 0x800000, 0xc00000 (P W U PS)
 *      PDE 768-777 -> the shared kernel tables, PDE 800 -> its own kernel table
 *      PDE 1022 -> B's directory (foreign slot), PDE 1023 -> itself (self-map)
 *   B: PD 0x11000.  PDE 768-777 shared, PDE 1023 -> itself.  PDE 2 -> user
 *      table 0x34000: PTE j < 20 -> 0x900000 + j * 8 KiB (P W U): 20 runs of
 *      one frame, more than a table node shows (GRAPH_RUNS_MAX).
 *   C: PD 0x12000.  PDE 768-777 shared, no self-map.
 * Shared kernel tables 0x20000 + k * 4 KiB (k < 10) map VA 0xc0000000 + k * 4 MiB
 * onward to PA k * 4 MiB onward, P W G: one run of 10240 frames.
 */
#define PD_A 0x00010000u
#define PD_B 0x00011000u
#define PD_C 0x00012000u
#define KPT_BASE 0x00020000u
#define KPT_N 10u
#define KPT_A 0x0002c000u
#define UPT_A 0x00030000u
#define UPT_B 0x00034000u

static const struct run_space spaces[] = {
    {.name = "A", .pd = PD_A, .current = true},
    {.name = "B", .pd = PD_B, .current = false},
    {.name = "C", .pd = PD_C, .current = false},
};
#define NSPACES 3u

static char tmpdir[64];

static void
put32(struct sim *s, paddr_t pa, uint32_t v)
{
    memcpy(sim_phys(s, pa, 4), &v, 4);
}

static struct sim *
build_machine(void)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = 16u << 20;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);

    for (uint32_t j = 0; j < 12; j++)
        put32(s, UPT_A + j * 4, (0x00400000u + j * PAGE_SIZE) | PTE_P | PTE_W | PTE_U);
    for (uint32_t j = 12; j < 16; j++)
        put32(s, UPT_A + j * 4, (0x00500000u + (j - 12) * PAGE_SIZE) | PTE_P | PTE_U);
    for (uint32_t j = 16; j < 18; j++)
        put32(s, UPT_A + j * 4, (0x0040c000u + (j - 16) * PAGE_SIZE) | PTE_P | PTE_W | PTE_U);
    put32(s, UPT_A + 20 * 4, 0x00600000u | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
    for (uint32_t j = 24; j < 28; j++)
        put32(s, UPT_A + j * 4, (0x00a03000u - (j - 24) * PAGE_SIZE) | PTE_P | PTE_W | PTE_U);
    put32(s, PD_A + 1 * 4, UPT_A | PTE_P | PTE_W | PTE_U);
    put32(s, PD_A + 4 * 4, 0x00800000u | PTE_P | PTE_W | PTE_U | PTE_PS);
    put32(s, PD_A + 5 * 4, 0x00c00000u | PTE_P | PTE_W | PTE_U | PTE_PS);

    for (uint32_t k = 0; k < KPT_N; k++) {
        for (uint32_t j = 0; j < NPTENTRIES; j++)
            put32(s, KPT_BASE + k * PAGE_SIZE + j * 4,
                  ((k * NPTENTRIES + j) * PAGE_SIZE) | PTE_P | PTE_W | PTE_G);
        put32(s, PD_A + (768 + k) * 4, (KPT_BASE + k * PAGE_SIZE) | PTE_P | PTE_W);
        put32(s, PD_B + (768 + k) * 4, (KPT_BASE + k * PAGE_SIZE) | PTE_P | PTE_W);
        put32(s, PD_C + (768 + k) * 4, (KPT_BASE + k * PAGE_SIZE) | PTE_P | PTE_W);
    }
    put32(s, KPT_A, 0x00700000u | PTE_P | PTE_W);
    put32(s, PD_A + 800 * 4, KPT_A | PTE_P | PTE_W);

    put32(s, PD_A + 1022 * 4, PD_B | PTE_P | PTE_W);
    put32(s, PD_A + 1023 * 4, PD_A | PTE_P | PTE_W);
    put32(s, PD_B + 1023 * 4, PD_B | PTE_P | PTE_W);
    for (uint32_t j = 0; j < 20; j++)
        put32(s, UPT_B + j * 4, (0x00900000u + j * 2 * PAGE_SIZE) | PTE_P | PTE_W | PTE_U);
    put32(s, PD_B + 2 * 4, UPT_B | PTE_P | PTE_W | PTE_U);

    struct mmu *m = sim_mmu(s);
    mmu_write_cr4(m, m->cr4 | CR4_PSE | CR4_PGE);
    mmu_write_cr3(m, PD_A);
    return s;
}

static void
paging_on(struct sim *s)
{
    struct mmu *m = sim_mmu(s);
    mmu_write_cr0(m, m->cr0 | CR0_PG);
}

static void
read_va(struct sim *s, vaddr_t va)
{
    struct mmu_result res;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(sim_mmu(s), va, MMU_SUP_READ, &res, &f), MMU_OK);
}

static void
setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pagesim-graph-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Renders to tmpdir/name with flags (GRAPH_*) and reads the DOT back. */
static Agraph_t *
render_dot_flags(struct sim *s, const struct run_space *sp, unsigned n, const char *only,
                 unsigned flags, const char *name)
{
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    ck_assert_msg(graph_render(s, sp, n, only, flags, path, err, sizeof(err)), "%s", err);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    Agraph_t *g = agread(f, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(g);
    return g;
}

static Agraph_t *
render_dot(struct sim *s, const struct run_space *sp, unsigned n, const char *only,
           const char *name)
{
    return render_dot_flags(s, sp, n, only, 0, name);
}

static const char *
attr(void *obj, const char *name)
{
    char n[32];
    snprintf(n, sizeof(n), "%s", name);
    const char *v = agget(obj, n);
    return v == NULL ? "" : v;
}

/* Edges tail -> head whose label contains label (NULL: any) and whose attribute a is v. */
static unsigned
count_edges(Agraph_t *g, const char *tail, const char *head, const char *label, const char *a,
            const char *v)
{
    char t[48];
    snprintf(t, sizeof(t), "%s", tail);
    Agnode_t *n = agnode(g, t, 0);
    unsigned count = 0;
    if (n == NULL)
        return 0;
    for (Agedge_t *e = agfstout(g, n); e != NULL; e = agnxtout(g, e)) {
        if (strcmp(agnameof(aghead(e)), head) != 0)
            continue;
        if (label != NULL && strstr(attr(e, "label"), label) == NULL)
            continue;
        if (a != NULL && strcmp(attr(e, a), v) != 0)
            continue;
        count++;
    }
    return count;
}

/* Label of node name; fails the test if there is no such node. */
static const char *
node_label(Agraph_t *g, const char *name)
{
    char n[48];
    snprintf(n, sizeof(n), "%s", name);
    Agnode_t *node = agnode(g, n, 0);
    ck_assert_msg(node != NULL, "no node %s", name);
    return attr(node, "label");
}

static bool
has_node(Agraph_t *g, const char *name)
{
    char n[48];
    snprintf(n, sizeof(n), "%s", name);
    return agnode(g, n, 0) != NULL;
}

START_TEST(test_graph_self_map_iff_present)
{
    struct sim *s = build_machine();
    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "all.dot");
    ck_assert_uint_eq(
        count_edges(g, "pd_00010000", "pd_00010000", "self-map 1023", "style", "bold"), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pd_00010000", NULL, "color", "blue"), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00011000", "pd_00011000", "self-map 1023", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00012000", "pd_00012000", NULL, NULL, NULL), 0);
    /* The self-map is not mistaken for a page table. */
    ck_assert(!has_node(g, "pt_00010000"));
    agclose(g);
    sim_destroy(s);
}
END_TEST

START_TEST(test_graph_foreign_slot)
{
    struct sim *s = build_machine();
    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "all.dot");
    ck_assert_uint_eq(
        count_edges(g, "pd_00010000", "pd_00011000", "foreign 1022", "style", "dashed"), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pd_00011000", NULL, "color", "red"), 1);
    ck_assert(!has_node(g, "pt_00011000"));
    ck_assert_uint_eq(count_edges(g, "cr3", "pd_00010000", NULL, NULL, NULL), 1);
    agclose(g);

    /* Only A: B appears as an undrawn directory at the end of the foreign edge. */
    g = render_dot(s, spaces, NSPACES, "A", "a.dot");
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pd_00011000", "foreign 1022", NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(node_label(g, "pd_00011000"), "not drawn"));
    ck_assert(!has_node(g, "pd_00012000"));
    agclose(g);
    sim_destroy(s);
}
END_TEST

START_TEST(test_graph_frame_runs_merged)
{
    struct sim *s = build_machine();
    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "all.dot");
    /* Node keys: fr_<first PA>_<count>_<PTE flags>. */
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "fr_00400000_12_007"), "12 frames 0x00400000-0x0040bfff"));
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "fr_00500000_4_005"), "4 frames 0x00500000-0x00503fff"));
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "fr_0040c000_2_007"), "2 frames 0x0040c000-0x0040dfff"));
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "fr_00600000_1_067"), "1 frame 0x00600000-0x00600fff"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00600000_1_067"), "P W U A D"));
    ck_assert_uint_eq(count_edges(g, "pt_00030000", "fr_00400000_12_007", "PTE 0-11", NULL, NULL),
                      1);
    ck_assert_uint_eq(count_edges(g, "pt_00030000", "fr_00500000_4_005", "PTE 12-15", NULL, NULL),
                      1);
    ck_assert_uint_eq(count_edges(g, "pt_00030000", "fr_0040c000_2_007", "PTE 16-17", NULL, NULL),
                      1);
    ck_assert_uint_eq(count_edges(g, "pt_00030000", "fr_00600000_1_067", "PTE 20", NULL, NULL), 1);
    /* Descending frames merge too; the key and label name the lowest frame. */
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00a00000_4_007_d"),
                                 "4 frames 0x00a00000-0x00a03fff (descending)"));
    ck_assert_uint_eq(count_edges(g, "pt_00030000", "fr_00a00000_4_007_d", "PTE 24-27", NULL, NULL),
                      1);
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pt_00030000", "PDE 1", NULL, NULL), 1);

    /* Two 4 MiB pages, contiguous, equal flags (P W U PS = 0x87): one node from the PD. */
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "lp_00800000_2_0087"), "2 x 4 MiB pages 0x00800000-0x00ffffff"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "lp_00800000_2_0087", "PDE 4-5", NULL, NULL),
                      1);
    agclose(g);
    sim_destroy(s);
}
END_TEST

START_TEST(test_graph_runs_beyond_limit_summed)
{
    ck_assert_uint_eq(GRAPH_RUNS_MAX, 12);
    struct sim *s = build_machine();
    Agraph_t *g = render_dot(s, spaces, NSPACES, "B", "b.dot");
    for (uint32_t j = 0; j < 20; j++) {
        char key[32];
        snprintf(key, sizeof(key), "fr_%08x_1_007", 0x00900000u + j * 2 * PAGE_SIZE);
        ck_assert_msg(has_node(g, key) == (j < 12), "%s", key);
    }
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "more_pt_00034000"), "+8 more runs\\n8 frames\\nin PTE 12-19"));
    ck_assert_uint_eq(count_edges(g, "pt_00034000", "more_pt_00034000", NULL, NULL, NULL), 1);
    agclose(g);
    sim_destroy(s);
}
END_TEST

/* With GRAPH_KERNEL_DETAIL, every directory has its own edges to the shared tables. */
START_TEST(test_graph_kernel_tables_shared_once)
{
    struct sim *s = build_machine();
    Agraph_t *g = render_dot_flags(s, spaces, NSPACES, NULL, GRAPH_KERNEL_DETAIL, "all.dot");
    ck_assert(!has_node(g, "kernel_half"));
    /* Ten tables shared by all three spaces: one group node, an edge from each PD. */
    const char *grp = "kt_768_10_00020000";
    ck_assert_ptr_nonnull(strstr(node_label(g, grp), "kernel tables (10)"));
    ck_assert_ptr_nonnull(strstr(node_label(g, grp), "shared by 3 spaces"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", grp, "PDE 768-777", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00011000", grp, "PDE 768-777", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00012000", grp, "PDE 768-777", NULL, NULL), 1);
    for (uint32_t k = 0; k < KPT_N; k++) {
        char key[32];
        snprintf(key, sizeof(key), "pt_%08x", KPT_BASE + k * PAGE_SIZE);
        ck_assert(!has_node(g, key));
    }
    /* 10 x 1024 PTEs, PA and VA contiguous, P W G (0x103): one run. */
    ck_assert_ptr_nonnull(
        strstr(node_label(g, "fr_00000000_10240_103"), "10240 frames 0x00000000-0x027fffff"));
    ck_assert_uint_eq(
        count_edges(g, grp, "fr_00000000_10240_103", "VA 0xc0000000-0xc27fffff", NULL, NULL), 1);
    /* A's own kernel table is drawn alone and not marked shared. */
    ck_assert_ptr_null(strstr(node_label(g, "pt_0002c000"), "shared"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pt_0002c000", "PDE 800", NULL, NULL), 1);
    agclose(g);
    sim_destroy(s);
}
END_TEST

/* Edges into node head, from any node. */
static unsigned
count_in(Agraph_t *g, const char *head)
{
    char h[48];
    snprintf(h, sizeof(h), "%s", head);
    Agnode_t *n = agnode(g, h, 0);
    unsigned count = 0;
    for (Agedge_t *e = n == NULL ? NULL : agfstin(g, n); e != NULL; e = agnxtin(g, e))
        count++;
    return count;
}

/*
 * By default PDEs 768-777, the same (P W, table 0x20000 + k * 4 KiB) in A, B
 * and C, hang from one kernel-half node: one edge from each directory to it,
 * one from it to the group, none from a directory to the group.  A's PDE
 * 800 and its slots 1022/1023 differ between spaces and stay on A.
 */
START_TEST(test_graph_kernel_half_one_node)
{
    struct sim *s = build_machine();
    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "all.dot");
    const char *grp = "kt_768_10_00020000";
    ck_assert_ptr_nonnull(strstr(node_label(g, "kernel_half"), "kernel half (shared)"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "kernel_half"), "PDE 768-777: 10 page tables"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "kernel_half"), "the same in all 3 spaces"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "kernel_half", NULL, NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00011000", "kernel_half", NULL, NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00012000", "kernel_half", NULL, NULL, NULL), 1);
    ck_assert_uint_eq(count_in(g, "kernel_half"), 3);
    ck_assert_uint_eq(count_in(g, grp), 1);
    ck_assert_uint_eq(count_edges(g, "kernel_half", grp, "PDE 768-777\\nP W", NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(node_label(g, grp), "shared by 3 spaces"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pt_0002c000", "PDE 800", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pd_00011000", "foreign 1022", NULL, NULL), 1);
    agclose(g);

    /* Only B drawn: its one edge to the node, which still speaks for all three. */
    g = render_dot(s, spaces, NSPACES, "B", "b.dot");
    ck_assert_uint_eq(count_in(g, "kernel_half"), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00011000", "kernel_half", NULL, NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(node_label(g, "kernel_half"), "the same in all 3 spaces"));
    agclose(g);

    /* One space alone shares nothing: its kernel tables hang from it. */
    g = render_dot(s, spaces, 1, NULL, "a.dot");
    ck_assert(!has_node(g, "kernel_half"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "kt_768_10_00020000", NULL, NULL, NULL), 1);
    agclose(g);
    sim_destroy(s);
}
END_TEST

/* A kernel PDE that one space has with other flags is not part of the
 * kernel half: C's PDE 777 read-only splits 768-776 (nine, a group) from
 * 777, which each directory names itself. */
START_TEST(test_graph_kernel_half_only_alike)
{
    struct sim *s = build_machine();
    put32(s, PD_C + 777 * 4, (KPT_BASE + 9 * PAGE_SIZE) | PTE_P);
    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "all.dot");
    ck_assert_ptr_nonnull(strstr(node_label(g, "kernel_half"), "PDE 768-776: 9 page tables"));
    ck_assert_uint_eq(count_edges(g, "kernel_half", "kt_768_9_00020000", NULL, NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "pt_00029000", "PDE 777", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00011000", "pt_00029000", "PDE 777", NULL, NULL), 1);
    ck_assert_uint_eq(count_edges(g, "pd_00012000", "pt_00029000", "PDE 777", NULL, NULL), 1);
    agclose(g);
    sim_destroy(s);
}
END_TEST

/*
 * With paging on in A: reads of 0x400000 and 0x401000 (PTE 0, 1), 0xc0000000
 * (kernel group), 0x1000000 (4 MiB page PDE 4), 0xfffff000 (A's directory
 * through the self-map) and 0x410000 (PTE 16) fill 5 4 KiB entries and one
 * 4 MiB entry, setting A in each entry used.  Then PTE 16 is repointed
 * without invlpg: its entry is stale.
 * So PTE 0-1 (P W U A = 0x27) split from PTE 2-11 (0x07), the first kernel
 * PTE (0x123) from the other 10239 (0x103), PDE 4 (0xa7) from PDE 5 (0x87).
 */
START_TEST(test_graph_tlb_overlay)
{
    struct sim *s = build_machine();
    paging_on(s);
    read_va(s, 0x00400000u);
    read_va(s, 0x00401000u);
    read_va(s, 0xc0000000u);
    read_va(s, 0x01000000u);
    read_va(s, 0xfffff000u);
    read_va(s, 0x00410000u);
    put32(s, UPT_A + 16 * 4, 0x00700000u | PTE_P | PTE_W | PTE_U | PTE_A);

    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "tlb.dot");
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00400000_2_027"), "TLB: 2 cached"));
    ck_assert_str_eq(attr(agnode(g, "fr_00400000_2_027", 0), "fillcolor"), "#ffb84d");
    ck_assert_ptr_null(strstr(node_label(g, "fr_00402000_10_007"), "TLB"));
    ck_assert_str_ne(attr(agnode(g, "fr_00402000_10_007", 0), "fillcolor"), "#ffb84d");
    ck_assert_ptr_nonnull(strstr(node_label(g, "pt_00030000"), "TLB: 2 cached"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "kt_768_10_00020000"), "TLB: 1 cached"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00000000_1_123"), "TLB: 1 cached"));
    ck_assert_ptr_null(strstr(node_label(g, "fr_00001000_10239_103"), "TLB"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "lp_00800000_1_00a7"), "TLB: 1 cached"));
    ck_assert_ptr_null(strstr(node_label(g, "lp_00c00000_1_0087"), "TLB"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "pd_00010000"), "TLB: 1 via slot"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "cr3"), "TLB: 1 stale entry"));
    /* The walk set A on A's PDE 768 only, so B's and C's copies lack it: the
     * kernel half's edge says so.  With the detail, A's own edge counts it. */
    ck_assert_uint_eq(count_edges(g, "kernel_half", "kt_768_10_00020000",
                                  "P W, A differs between spaces", NULL, NULL),
                      1);
    agclose(g);
    g = render_dot_flags(s, spaces, NSPACES, NULL, GRAPH_KERNEL_DETAIL, "tlbd.dot");
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "kt_768_10_00020000", "A in 1", NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(node_label(g, "kt_768_10_00020000"), "TLB: 1 cached"));
    agclose(g);
    sim_destroy(s);
}
END_TEST

static bool
file_has(const char *path, const char *needle, size_t nlen)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    for (size_t i = 0; i + nlen <= n; i++)
        if (memcmp(buf + i, needle, nlen) == 0)
            return true;
    return false;
}

START_TEST(test_graph_svg_and_png)
{
    struct sim *s = build_machine();
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/g.svg", tmpdir);
    ck_assert_msg(graph_render(s, spaces, NSPACES, NULL, 0, path, err, sizeof(err)), "%s", err);
    ck_assert(file_has(path, "<?xml", 5) || file_has(path, "<svg", 4));
    ck_assert(file_has(path, "12 frames 0x00400000", 20));
    snprintf(path, sizeof(path), "%s/g.png", tmpdir);
    ck_assert_msg(graph_render(s, spaces, NSPACES, NULL, 0, path, err, sizeof(err)), "%s", err);
    ck_assert(file_has(path, "\x89PNG", 4));
    sim_destroy(s);
}
END_TEST

START_TEST(test_graph_errors)
{
    struct sim *s = build_machine();
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/g.txt", tmpdir);
    ck_assert(!graph_render(s, spaces, NSPACES, NULL, 0, path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "unknown extension"));
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/g.dot", tmpdir);
    ck_assert(!graph_render(s, spaces, NSPACES, "nosuch", 0, path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "no address space named \"nosuch\""));
    snprintf(path, sizeof(path), "%s/missing/g.svg", tmpdir);
    ck_assert(!graph_render(s, spaces, NSPACES, NULL, 0, path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot write"));
    sim_destroy(s);
}
END_TEST

START_TEST(test_graph_deterministic)
{
    struct sim *s = build_machine();
    paging_on(s);
    read_va(s, 0x00400000u);
    char p1[128], p2[128], err[256];
    snprintf(p1, sizeof(p1), "%s/1.dot", tmpdir);
    snprintf(p2, sizeof(p2), "%s/2.dot", tmpdir);
    ck_assert_msg(graph_render(s, spaces, NSPACES, NULL, 0, p1, err, sizeof(err)), "%s", err);
    ck_assert_msg(graph_render(s, spaces, NSPACES, NULL, 0, p2, err, sizeof(err)), "%s", err);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", p1, p2);
    ck_assert_int_eq(system(cmd), 0);
    sim_destroy(s);
}
END_TEST

/* dump_spaces output with runs of blanks squeezed to one. */
static char *
dump_text(struct sim *s, const char *only)
{
    char *raw = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&raw, &len);
    ck_assert_ptr_nonnull(f);
    dump_spaces(f, s, spaces, NSPACES, only);
    fclose(f);
    char *out = malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!(raw[i] == ' ' && n > 0 && out[n - 1] == ' '))
            out[n++] = raw[i];
    out[n] = '\0';
    free(raw);
    return out;
}

#define ck_assert_has(text, needle)                                                                \
    ck_assert_msg(strstr((text), (needle)) != NULL, "missing \"%s\" in:\n%s", (needle), (text))

START_TEST(test_dump_merged_ranges)
{
    struct sim *s = build_machine();
    char *t = dump_text(s, "A");
    ck_assert_has(t, "space \"A\" directory 0x00010000 (in CR3)\n");
    ck_assert_has(t, " user half 0x00000000-0xbfffffff\n");
    ck_assert_has(t, " 0x00400000-0x0040bfff 48K 0x00400000-0x0040bfff 12 x 4K P W U - - -\n");
    ck_assert_has(t, " 0x0040c000-0x0040ffff 16K 0x00500000-0x00503fff 4 x 4K P - U - - -\n");
    ck_assert_has(t, " 0x00410000-0x00411fff 8K 0x0040c000-0x0040dfff 2 x 4K P W U - - -\n");
    ck_assert_has(t, " 0x00414000-0x00414fff 4K 0x00600000-0x00600fff 1 x 4K P W U A D -\n");
    ck_assert_has(t, " 0x00418000-0x0041bfff 16K 0x00a00000-0x00a03fff 4 x 4K P W U - - - "
                     "descending\n");
    ck_assert_has(t, " 0x01000000-0x017fffff 8M 0x00800000-0x00ffffff 2 x 4M P W U - - -\n");
    ck_assert_has(t, " kernel half 0xc0000000-0xffffffff: 11 page tables, 10 shared with other "
                     "spaces\n");
    ck_assert_has(t, " 0xc0000000-0xc27fffff 40M 0x00000000-0x027fffff 10240 x 4K P W - - - G\n");
    ck_assert_has(t, " 0xc8000000-0xc8000fff 4K 0x00700000-0x00700fff 1 x 4K P W - - - -\n");
    ck_assert_has(t, " 0xff800000-0xffbfffff 4M foreign slot (PDE 1022): directory of \"B\" "
                     "0x00011000\n");
    ck_assert_has(t, " 0xffc00000-0xffffffff 4M recursive self-map (PDE 1023): own directory "
                     "0x00010000\n");
    ck_assert_ptr_null(strstr(t, "space \"B\""));
    free(t);

    /* C has nothing in its user half and no slots. */
    t = dump_text(s, "C");
    ck_assert_has(t, " user half 0x00000000-0xbfffffff\n (nothing mapped)\n kernel half");
    ck_assert_ptr_null(strstr(t, "self-map"));
    free(t);
    sim_destroy(s);
}
END_TEST

/* The TLB as test_graph_tlb_overlay leaves it, in "info tlb" form. */
START_TEST(test_dump_tlb)
{
    struct sim *s = build_machine();
    paging_on(s);
    read_va(s, 0x00400000u);
    read_va(s, 0xc0000000u);
    read_va(s, 0x01000000u);
    read_va(s, 0x00410000u);
    put32(s, UPT_A + 16 * 4, 0x00700000u | PTE_P | PTE_W | PTE_U | PTE_A);
    char *t = dump_text(s, NULL);
    ck_assert_has(t, " 4 KiB TLB: 64 entries, 4-way, 3 valid\n");
    ck_assert_has(t, " 0x00400000 -> 0x00400000 4K P W U A - -\n");
    ck_assert_has(t, " 0x00410000 -> 0x0040c000 4K P W U A - - stale: now -> 0x00700000\n");
    ck_assert_has(t, " 0xc0000000 -> 0x00000000 4K P W - A - G global\n");
    ck_assert_has(t, " 4 MiB TLB: 32 entries, 4-way, 1 valid\n");
    ck_assert_has(t, " 0x01000000 -> 0x00800000 4M P W U A - -\n");
    /* The dump merges by flags: the walk's A bits split the 12-frame run. */
    ck_assert_has(t, " 0x00400000-0x00400fff 4K 0x00400000-0x00400fff 1 x 4K P W U A - -\n");
    ck_assert_has(t, " 0x00401000-0x0040bfff 44K 0x00401000-0x0040bfff 11 x 4K P W U - - -\n");
    free(t);
    sim_destroy(s);
}
END_TEST

/* Nodes of g whose label contains needle. */
static unsigned
count_labelled(Agraph_t *g, const char *needle)
{
    unsigned n = 0;
    for (Agnode_t *v = agfstnode(g); v != NULL; v = agnxtnode(g, v))
        n += strstr(attr(v, "label"), needle) != NULL;
    return n;
}

/* Lines of text that contain needle. */
static unsigned
count_lines(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *l = text; *l != '\0';) {
        const char *end = strchr(l, '\n');
        size_t len = end != NULL ? (size_t)(end - l) : strlen(l);
        for (size_t i = 0; i + strlen(needle) <= len; i++)
            if (memcmp(l + i, needle, strlen(needle)) == 0) {
                n++;
                break;
            }
        l += len + (end != NULL);
    }
    return n;
}

/*
 * The stale overlay.  Reads of 0x00400000 and 0x00401000 fill two 4 KiB
 * entries from UPT_A's PTE 0 and 1 (the walks set A: flags P W U A =
 * 0x027).  A kernel store (told to the detector by mmu_store) repoints PTE
 * 1 at 0x00700000 with no INVLPG: the entry for 0x00401000 still holds
 * frame 0x00401000, a stale entry (SDM 4.10.4.1: only an invalidation
 * removes it).  Page 1 now maps 0x00700000, its own run, which no live
 * entry holds (TLB 0) and one stale entry does: in the graph exactly one
 * node, fr_00700000_1_027, is marked (red border, red fill, "1 STALE"),
 * the legend counts 1 stale entry; page 0's node stays orange with
 * "TLB: 1 cached".  The dump marks that mapping line, the 4 KiB TLB header
 * (2 valid, 1 STALE) and the entry: 3 lines.  After INVLPG 0x00401000 the
 * entry is gone: nothing is marked anywhere.
 */
START_TEST(test_stale_overlay)
{
    struct sim *s = build_machine();
    struct mmu *m = sim_mmu(s);
    paging_on(s);
    read_va(s, 0x00400000u);
    read_va(s, 0x00401000u);
    uint32_t v = 0x00700000u | PTE_P | PTE_W | PTE_U | PTE_A;
    ck_assert_uint_eq(mmu_store(m, UPT_A + 1 * 4, 4, &v, 1), 1);
    put32(s, UPT_A + 1 * 4, v);

    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "stale.dot");
    ck_assert_uint_eq(count_labelled(g, "STALE"), 1);
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00700000_1_027"), "TLB: 0 cached, 1 STALE"));
    ck_assert_str_eq(attr(agnode(g, "fr_00700000_1_027", 0), "color"), "red");
    ck_assert_str_eq(attr(agnode(g, "fr_00700000_1_027", 0), "fillcolor"), "#ff9999");
    ck_assert_ptr_nonnull(strstr(node_label(g, "fr_00400000_1_027"), "TLB: 1 cached"));
    ck_assert_str_eq(attr(agnode(g, "fr_00400000_1_027", 0), "fillcolor"), "#ffb84d");
    ck_assert_ptr_nonnull(strstr(attr(g, "label"), "Red: 1 stale TLB entry "));
    agclose(g);
    char *t = dump_text(s, NULL);
    ck_assert_uint_eq(count_lines(t, "STALE"), 3);
    ck_assert_has(t, " 0x00401000-0x00401fff 4K 0x00700000-0x00700fff 1 x 4K P W U A - - TLB: 0 "
                     "cached, 1 STALE\n");
    ck_assert_has(t, " 4 KiB TLB: 64 entries, 4-way, 2 valid, 1 STALE\n");
    ck_assert_has(t, " 0x00401000 -> 0x00401000 4K P W U A - - STALE: now -> 0x00700000\n");
    free(t);

    mmu_invlpg(m, 0x00401000u);
    g = render_dot(s, spaces, NSPACES, NULL, "fresh.dot");
    ck_assert_uint_eq(count_labelled(g, "STALE"), 0);
    ck_assert_str_ne(attr(agnode(g, "fr_00700000_1_027", 0), "fillcolor"), "#ff9999");
    ck_assert_ptr_null(strstr(attr(g, "label"), "Red:"));
    agclose(g);
    t = dump_text(s, NULL);
    ck_assert_uint_eq(count_lines(t, "STALE"), 0);
    ck_assert_has(t, " 4 KiB TLB: 64 entries, 4-way, 1 valid\n");
    free(t);
    sim_destroy(s);
}
END_TEST

/*
 * Stale translations reached through the slots.  With A in CR3, a read of
 * 0xffc01000 goes through A's self-map (PDE 1023 -> PD_A) and reads PDE 1
 * of A as its PTE: the entry caches UPT_A.  A read of 0xff802000 goes
 * through the foreign slot (PDE 1022 -> PD_B) and reads B's PDE 2: the
 * entry caches UPT_B.  Kernel stores (told to the detector) then clear A's
 * PDE 1 and B's PDE 2 with no INVLPG: both entries are stale, and neither
 * page is mapped any more, so no frame run holds them.  The graph marks
 * the node each slot leads to: A's directory (the self-map) and B's (the
 * foreign slot), each "TLB: 1 STALE via slot", red border and fill; the
 * legend counts 2 stale entries.  The dump says so on both slot lines of
 * A.  After INVLPG of both pages nothing is marked.
 */
START_TEST(test_stale_overlay_through_slots)
{
    struct sim *s = build_machine();
    struct mmu *m = sim_mmu(s);
    paging_on(s);
    read_va(s, 0xffc01000u);
    read_va(s, 0xff802000u);
    uint32_t zero = 0;
    ck_assert_uint_ge(mmu_store(m, PD_A + 1 * 4, 4, &zero, 1), 1);
    put32(s, PD_A + 1 * 4, 0);
    ck_assert_uint_ge(mmu_store(m, PD_B + 2 * 4, 4, &zero, 2), 1);
    put32(s, PD_B + 2 * 4, 0);

    Agraph_t *g = render_dot(s, spaces, NSPACES, NULL, "slots.dot");
    ck_assert_uint_eq(count_labelled(g, "STALE"), 2);
    ck_assert_ptr_nonnull(strstr(node_label(g, "pd_00010000"), "TLB: 1 STALE via slot"));
    ck_assert_ptr_nonnull(strstr(node_label(g, "pd_00011000"), "TLB: 1 STALE via slot"));
    ck_assert_str_eq(attr(agnode(g, "pd_00010000", 0), "color"), "red");
    ck_assert_str_eq(attr(agnode(g, "pd_00011000", 0), "fillcolor"), "#ff9999");
    ck_assert_ptr_nonnull(strstr(attr(g, "label"), "Red: 2 stale TLB entries "));
    agclose(g);
    char *t = dump_text(s, "A");
    ck_assert_has(t, " 0xff800000-0xffbfffff 4M foreign slot (PDE 1022): directory of \"B\" "
                     "0x00011000 TLB: 1 STALE through it\n");
    ck_assert_has(t, " 0xffc00000-0xffffffff 4M recursive self-map (PDE 1023): own directory "
                     "0x00010000 TLB: 1 STALE through it\n");
    free(t);

    mmu_invlpg(m, 0xffc01000u);
    mmu_invlpg(m, 0xff802000u);
    g = render_dot(s, spaces, NSPACES, NULL, "slots-fresh.dot");
    ck_assert_uint_eq(count_labelled(g, "STALE"), 0);
    agclose(g);
    t = dump_text(s, "A");
    ck_assert_uint_eq(count_lines(t, "STALE"), 0);
    free(t);
    sim_destroy(s);
}
END_TEST

/* Attribute a of node name; fails the test if there is no such node. */
static const char *
node_attr(Agraph_t *g, const char *name, const char *a)
{
    char n[48];
    snprintf(n, sizeof(n), "%s", name);
    Agnode_t *node = agnode(g, n, 0);
    ck_assert_msg(node != NULL, "no node %s", name);
    return attr(node, a);
}

/* Renders the tables with the changes since snapshot a marked, and reads the DOT back. */
static Agraph_t *
render_diff_dot(struct sim *s, const struct graph_snap *a, const char *name)
{
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    ck_assert_msg(graph_render_diff(s, spaces, NSPACES, NULL, 0, a, path, err, sizeof(err)), "%s",
                  err);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    Agraph_t *g = agread(f, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(g);
    return g;
}

/*
 * --diff marks 4 MiB pages and the shared kernel half.  Snapshot "before"
 * is the layout above.  Then, in A's user half: PDE 4 (4 MiB at 0x800000)
 * is cleared (removed: a grey node "4 MiB page 0x00800000"), PDE 5 maps
 * 0x400000 instead of 0xc00000 (changed: purple), PDE 6 maps 0xc00000
 * (added: teal); each is P W U PS, flags 0x087, and none continues another
 * (0x400000 then 0xc00000 are not consecutive).  In the kernel half, in all
 * three spaces: PDE 801 names a new table (0x2b000, PTE 0 -> 0xe00000,
 * P W G) and PDE 900 a 4 MiB page at 0 (P W PS G, 0x183), both the same
 * everywhere, so both hang from the kernel half node: the edge to the
 * table and its frame node are added, the 4 MiB page is added.  In the
 * shared kernel table 0 (a group of 10, drawn once from A, the first
 * directory), PTE 5 maps 0xf00000 (changed; P W G, 0x103) and PTE 7 is
 * cleared (removed, under the group, labelled by its VA 0xc0007000).
 * Count: added 4 (PDE 6, PDE 900, the new table's edge and its frame),
 * changed 2 (PDE 5, kernel PTE 5), removed 2 (PDE 4, kernel PTE 7).
 */
START_TEST(test_graph_diff_large_and_kernel_half)
{
    struct sim *s = build_machine();
    struct graph_snap *a = graph_snap_take(s, spaces, NSPACES, "before");
    ck_assert_ptr_nonnull(a);
    const uint32_t big = PTE_P | PTE_W | PTE_U | PTE_PS, kt = 0x0002b000u;
    put32(s, PD_A + 4 * 4, 0);
    put32(s, PD_A + 5 * 4, 0x00400000u | big);
    put32(s, PD_A + 6 * 4, 0x00c00000u | big);
    put32(s, kt, 0x00e00000u | PTE_P | PTE_W | PTE_G);
    for (paddr_t pd = PD_A; pd <= PD_C; pd += PAGE_SIZE) {
        put32(s, pd + 801 * 4, kt | PTE_P | PTE_W);
        put32(s, pd + 900 * 4, PTE_P | PTE_W | PTE_PS | PTE_G);
    }
    put32(s, KPT_BASE + 5 * 4, 0x00f00000u | PTE_P | PTE_W | PTE_G);
    put32(s, KPT_BASE + 7 * 4, 0);

    Agraph_t *g = render_diff_dot(s, a, "diff.dot");
    ck_assert_ptr_nonnull(strstr(node_label(g, "rmpde_00010000_4"), "4 MiB page 0x00800000"));
    ck_assert_uint_eq(count_edges(g, "pd_00010000", "rmpde_00010000_4", "PDE 4", "style", "dashed"),
                      1);
    ck_assert_str_eq(node_attr(g, "lp_00400000_1_0087_c", "color"), "#8e44ad");
    ck_assert_uint_eq(
        count_edges(g, "pd_00010000", "lp_00400000_1_0087_c", "PDE 5 (4M)", "color", "#8e44ad"), 1);
    ck_assert_str_eq(node_attr(g, "lp_00c00000_1_0087_a", "color"), "#00b3a4");
    ck_assert_uint_eq(count_edges(g, "kernel_half", "pt_0002b000", "PDE 801", "color", "#00b3a4"),
                      1);
    ck_assert_str_eq(node_attr(g, "fr_00e00000_1_103_a", "color"), "#00b3a4");
    ck_assert_uint_eq(
        count_edges(g, "kernel_half", "lp_00000000_1_0183_a", "PDE 900 (4M)", "color", "#00b3a4"),
        1);
    ck_assert_str_eq(node_attr(g, "fr_00f00000_1_103_c", "color"), "#8e44ad");
    ck_assert_ptr_nonnull(strstr(node_label(g, "rm_00010000_c0007000_1"), "removed since"));
    ck_assert_uint_eq(count_edges(g, "kt_768_10_00020000", "rm_00010000_c0007000_1",
                                  "VA 0xc0007000-0xc0007fff", NULL, NULL),
                      1);
    ck_assert_ptr_nonnull(strstr(attr(g, "label"),
                                 "Since 'before' (A and D aside): 4 added (teal), 2 changed "
                                 "(purple), 2 removed (grey dashed)."));
    agclose(g);
    graph_snap_free(a);
    sim_destroy(s);
}
END_TEST

Suite *
graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_graph_self_map_iff_present);
    tcase_add_test(tc, test_graph_foreign_slot);
    tcase_add_test(tc, test_graph_frame_runs_merged);
    tcase_add_test(tc, test_graph_runs_beyond_limit_summed);
    tcase_add_test(tc, test_graph_kernel_tables_shared_once);
    tcase_add_test(tc, test_graph_kernel_half_one_node);
    tcase_add_test(tc, test_graph_kernel_half_only_alike);
    tcase_add_test(tc, test_graph_tlb_overlay);
    tcase_add_test(tc, test_graph_svg_and_png);
    tcase_add_test(tc, test_graph_errors);
    tcase_add_test(tc, test_graph_deterministic);
    tcase_add_test(tc, test_dump_merged_ranges);
    tcase_add_test(tc, test_dump_tlb);
    tcase_add_test(tc, test_stale_overlay);
    tcase_add_test(tc, test_stale_overlay_through_slots);
    tcase_add_test(tc, test_graph_diff_large_and_kernel_half);
    suite_add_tcase(s, tc);
    return s;
}
