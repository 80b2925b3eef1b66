/*
 * ptdump.c - the canonical page-table dump of ptdump.h.
 */
#include "kernel/ptdump.h"

#include <stddef.h>

#include "allocators/vmm.h"
#include "kernel/klib.h"

static uint32_t pd_words[NPDENTRIES];
static uint32_t pt_words[NPTENTRIES];

static void
ptdump_line(ptdump_emit_fn emit, void *ctx, const char *fmt, ...)
{
    char line[80];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    emit(ctx, line);
}

/* The non-zero entries of the table in pt_words, in runs of consecutive frames. */
static void
ptdump_table(ptdump_emit_fn emit, void *ctx)
{
    for (uint32_t i = 0; i < NPTENTRIES;) {
        uint32_t v = pt_words[i];
        if (v == 0) {
            i++;
            continue;
        }
        uint32_t last = i;
        while (last + 1 < NPTENTRIES && pt_words[last + 1] == v + (last + 1 - i) * PAGE_SIZE &&
               PTE_ADDR(v) + (last + 1 - i) * PAGE_SIZE > PTE_ADDR(v))
            last++;
        ptdump_line(emit, ctx, "pte %u %u 0x%08x", i, last, v);
        i = last + 1;
    }
}

void
ptdump_spaces(ptdump_read_fn read, ptdump_emit_fn emit, void *ctx)
{
    for (uint32_t h = 0; h < VMM_MAX_SPACES; h++) {
        const struct vmm_space *sp = vmm_space_info(h);
        if (sp == NULL)
            continue;
        ptdump_line(emit, ctx, "space %u pd 0x%08x", h, sp->vs_pd_pa);
        read(ctx, sp->vs_pd_pa, pd_words);
        for (uint32_t i = 0; i < NPDENTRIES; i++)
            if (pd_words[i] != 0)
                ptdump_line(emit, ctx, "pde %u 0x%08x", i, pd_words[i]);
        /* Tables: the user half of every space; the kernel half once (its
         * tables are shared); never PDEs 1022 and 1023, which point at
         * directories. */
        uint32_t end = h == VMM_KERNEL_SPACE ? FOREIGN_SLOT : KERNEL_PDX;
        for (uint32_t i = 0; i < end; i++) {
            uint32_t e = pd_words[i];
            if (!(e & PTE_P) || (e & PTE_PS))
                continue;
            ptdump_line(emit, ctx, "pt %u", i);
            read(ctx, PTE_ADDR(e), pt_words);
            ptdump_table(emit, ctx);
        }
    }
}
