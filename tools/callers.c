/*
 * callers.c - the flush/switch wrappers of the kernel, and call chains cut
 * after them (callers.h).
 */
#include "tools/callers.h"

#include <stdio.h>
#include <string.h>

/*
 * The wrappers: kernel functions that exist to carry out a TLB flush, an
 * INVLPG or a CR3 load for their caller, so that the caller, not they,
 * decided it.  A function that decides on a flush itself (a paging
 * strategy's map, unmap or slot code) is not one.  Functions the compiler
 * inlines into their callers never appear in a chain.
 */
static const char *const callers_wrappers[] = {
    "vmm_invlpg",            /* INVLPG, counted in the kernel's own figures */
    "vmm_load_cr3",          /* CR3 load, and the strategy told of the flush */
    "vmm_flush_tlb",         /* CR3 reloaded with itself */
    "vmm_space_switch",      /* the space switch: a CR3 load */
    "rc_invalidate_foreign", /* recursive: the flushes that repoint the foreign slot */
};

bool
callers_is_wrapper(const char *fn)
{
    for (size_t i = 0; i < sizeof(callers_wrappers) / sizeof(callers_wrappers[0]); i++)
        if (strcmp(fn, callers_wrappers[i]) == 0)
            return true;
    return false;
}

unsigned
callers_site(const char *const *chain, unsigned n)
{
    unsigned i = 0;
    while (i + 1 < n && callers_is_wrapper(chain[i]))
        i++;
    return i;
}

void
callers_format(const char *const *chain, unsigned n, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    unsigned last = n != 0 ? callers_site(chain, n) : 0;
    for (unsigned i = 0; i < n && i <= last && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i > 0 ? " < " : "", chain[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
