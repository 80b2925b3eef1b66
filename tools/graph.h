/*
 * graph.h - page-table graphs of live address spaces with Graphviz: CR3,
 * directories, tables, merged frame runs, slots, sharing and the TLB.
 */
#ifndef PAGESIM_GRAPH_H
#define PAGESIM_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/sim.h"
#include "tools/runner.h"

/*
 * Draws the spaces of the list (or only the one named only_space; NULL:
 * all) to path, in the format its extension names: ".svg", ".png", or
 * ".dot" / ".gv" (the graph itself, not laid out).
 *
 * The graph: a CR3 node pointing at the directory it holds; one node per
 * directory; page tables, with PD->PT edges labelled by PDE index and
 * flags; runs of frames that consecutive PTEs map contiguously with equal
 * flags merged into one node ("12 frames 0x00400000-0x0040bfff"); 4 MiB
 * pages as frame-run nodes straight from the directory.  A self-map is a
 * bold blue loop on its directory, a foreign slot a dashed red edge to the
 * other directory.
 *
 * Kernel-half entries that every space of the list has alike (the same
 * table or 4 MiB page and flags, A and D aside) hang, once, from one
 * "kernel half (shared)" node that has one edge from each directory drawn;
 * edge labels there show the flags set in every space, and say "A differs
 * between spaces" when walks set A in some copies of an entry only.  With
 * GRAPH_KERNEL_DETAIL, or with fewer than two spaces, each directory has
 * its own edges to those tables.
 * Kernel tables named by several directories are drawn once, green; a run
 * of more than GRAPH_GROUP_MIN kernel tables that the same spaces share is
 * one "kernel tables (N)" node.
 *
 * Nodes whose translations the TLB holds are filled orange and say how
 * many: the translations of the space in CR3 (of the first space drawn when
 * that one is not), each counted on the nodes its walk goes through.
 * Output depends only on the simulated machine.
 *
 * Returns false with a message in err on an unknown extension, an unknown
 * only_space or any Graphviz error.
 */
#define GRAPH_GROUP_MIN 8
#define GRAPH_RUNS_MAX 12        /* frame-run nodes per table; more are summed up */
#define GRAPH_KERNEL_DETAIL 0x1u /* flag: edges from every directory to shared kernel tables */
bool graph_render(struct sim *s, const struct run_space *spaces, unsigned nspaces,
                  const char *only_space, unsigned flags, const char *path, char *err,
                  size_t errlen);

/*
 * The page tables of every space of the list as they stand now (directories
 * and the entries of each table), in host memory, named label: snapshot A
 * of a --diff.  NULL if out of memory.  Free with graph_snap_free.
 */
struct graph_snap;
struct graph_snap *graph_snap_take(struct sim *s, const struct run_space *spaces, unsigned nspaces,
                                   const char *label);
void graph_snap_free(struct graph_snap *a);

/*
 * graph_render, with the changes since snapshot since (unless NULL) drawn:
 * per virtual page of each drawn space, compared with the same space at
 * the snapshot, A and D bits aside, an entry present now only is added
 * (teal border and edge), one present at both with another frame, size or
 * flags is changed (purple), and one present then only is removed (a
 * dashed grey node and edge under the table, or under the directory when
 * its PDE is gone).  A frame run splits where its pages compare
 * differently; a PDE edge is coloured added or changed (another table, or
 * a 4 MiB page then); 4 MiB pages are marked as 4 KiB ones are.  The
 * shared kernel half is marked the same way, compared with the first
 * space of the snapshot when the space drawing it is new since.  The
 * legend counts each kind.
 */
bool graph_render_diff(struct sim *s, const struct run_space *spaces, unsigned nspaces,
                       const char *only_space, unsigned flags, const struct graph_snap *since,
                       const char *path, char *err, size_t errlen);

/* The extensions graph_render takes, for messages. */
#define GRAPH_EXTS ".svg, .png, .dot or .gv"
/* The Graphviz format path's extension names ("svg", "png" or "dot"), or
 * NULL if graph_render does not take it. */
const char *graph_format(const char *path);

#endif
