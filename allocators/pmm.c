/*
 * pmm.c - the front of the physical memory manager (pmm.h): picks the
 * allocator by name, routes calls to it, and owns the frame-zeroing hook.
 */
#include "allocators/pmm.h"

#include <stddef.h>

#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* Plug-ins (kernel/plugin.h) append to it before any machine exists, so it
 * lives in a section of its own that is not restored per machine. */
const struct pmm_ops *pmm_registry[PMM_REGISTRY_MAX + 1]
    __attribute__((section(".data.pagesim_registry"))) = {&pmm_bitmap_ops, &pmm_stack_ops, NULL};
static const struct pmm_ops *pmm_cur;

/* The boot-time way to reach a frame: its alias in the early mapping. */
static void
pmm_zero_early(paddr_t pa)
{
    if (pa >= EARLY_MAP_SIZE || PGOFF(pa) != 0)
        arch_panic("pmm: cannot zero a frame outside the early mapping (no zero fn set)");
    memset((void *)(uintptr_t)P2V(pa), 0, PAGE_SIZE);
}

static pmm_zero_fn pmm_zero = pmm_zero_early;

const char *
pmm_strerror(enum pmm_status st)
{
    switch (st) {
    case PMM_OK:
        return "ok";
    case PMM_NO_MEMORY:
        return "out of physical frames";
    case PMM_OUT_OF_RANGE:
        return "address beyond the frames managed";
    case PMM_UNALIGNED:
        return "not a frame address";
    case PMM_DOUBLE_FREE:
        return "frame already free";
    case PMM_NOT_READY:
        return "physical memory manager not initialised";
    }
    return "unknown pmm status";
}

const struct pmm_ops *
pmm_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; pmm_registry[i] != NULL; i++)
        if (kstrcmp(pmm_registry[i]->name, name) == 0)
            return pmm_registry[i];
    return NULL;
}

const char *
pmm_ops_missing(const struct pmm_ops *ops)
{
    return ops->init == NULL      ? "init"
           : ops->release == NULL ? "release"
           : ops->reserve == NULL ? "reserve"
           : ops->alloc == NULL   ? "alloc"
           : ops->free == NULL    ? "free"
           : ops->stats == NULL   ? "stats"
                                  : NULL;
}

enum kreg_status
pmm_register(const struct pmm_ops *ops)
{
    if (ops == NULL)
        return KREG_INCOMPLETE;
    if (!kreg_name_ok(ops->name))
        return KREG_BAD_NAME;
    if (pmm_ops_missing(ops) != NULL)
        return KREG_INCOMPLETE;
    if (pmm_find(ops->name) != NULL)
        return KREG_NAME_TAKEN;
    size_t n = 0;
    while (pmm_registry[n] != NULL)
        n++;
    if (n >= PMM_REGISTRY_MAX)
        return KREG_FULL;
    pmm_registry[n] = ops;
    pmm_registry[n + 1] = NULL;
    return KREG_OK;
}

void
pmm_use(const struct pmm_ops *ops)
{
    pmm_cur = ops;
}

enum pmm_status
pmm_alloc(paddr_t *pa)
{
    if (pmm_cur == NULL)
        return PMM_NOT_READY;
    return pmm_cur->alloc(pa, false);
}

enum pmm_status
pmm_alloc_zeroed(paddr_t *pa)
{
    if (pmm_cur == NULL)
        return PMM_NOT_READY;
    return pmm_cur->alloc(pa, true);
}

enum pmm_status
pmm_free(paddr_t pa)
{
    if (pmm_cur == NULL)
        return PMM_NOT_READY;
    return pmm_cur->free(pa);
}

void
pmm_stats(struct pmm_stats *st)
{
    if (pmm_cur == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    pmm_cur->stats(st);
}

uint32_t
pmm_prezero(uint32_t n)
{
    if (pmm_cur == NULL || pmm_cur->prezero == NULL)
        return 0;
    return pmm_cur->prezero(n);
}

void
pmm_set_zero_fn(pmm_zero_fn fn)
{
    pmm_zero = fn != NULL ? fn : pmm_zero_early;
}

void
pmm_zero_frame(paddr_t pa)
{
    pmm_zero(pa);
}
