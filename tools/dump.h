/*
 * dump.h - text dumps of live address spaces and the TLBs, in the spirit of
 * QEMU's `info mem` / `info tlb` and Linux's kernel_page_tables.
 */
#ifndef PAGESIM_DUMP_H
#define PAGESIM_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "sim/sim.h"
#include "tools/runner.h"

/* What a page-directory entry names, as the views draw it. */
enum dump_pde_kind {
    DUMP_PDE_NONE,    /* not present */
    DUMP_PDE_TABLE,   /* a page table */
    DUMP_PDE_LARGE,   /* a 4 MiB page (PS=1 while CR4.PSE=1) */
    DUMP_PDE_SELF,    /* its own directory: the recursive self-map */
    DUMP_PDE_FOREIGN, /* the directory of another space in the list */
    DUMP_PDE_BAD,     /* a page table outside RAM */
};

/*
 * Classifies entry pde of the directory at pd.  For DUMP_PDE_FOREIGN,
 * *other (if not NULL) gets the index in spaces of the space it names.
 */
enum dump_pde_kind dump_pde_kind(const struct mmu *m, paddr_t pd, pde_t pde,
                                 const struct run_space *spaces, unsigned nspaces, unsigned *other);

/*
 * Writes the flags of a paging entry as letters, "P W U A D G", then the
 * rarer ones as words (PWT PCD PAT AVL=n).  With pad, absent letters are
 * shown as '-' so that columns line up.  large: the entry maps a 4 MiB page
 * (bit 7 is PS, PAT is bit 12).  Always terminates buf.
 */
#define DUMP_FLAGS_MAX 48
void dump_flags(uint32_t entry, bool large, bool pad, char *buf, size_t len);

/*
 * Writes each space of the list (or only the one named only_space; NULL:
 * all): its mappings as "VA-range size PA-range pages flags" lines,
 * virtually and physically contiguous runs with equal effective flags
 * merged, user and kernel halves under their own headers, the recursive and
 * foreign slots labelled; then the contents of both TLBs, each entry marked
 * if the current tables no longer agree with it.  A space only_space
 * names that is not in the list is not written (the caller checks).
 */
void dump_spaces(FILE *out, struct sim *s, const struct run_space *spaces, unsigned nspaces,
                 const char *only_space);

#endif
