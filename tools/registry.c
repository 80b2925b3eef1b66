/*
 * registry.c - reads the kernel's strategy and frame allocator registries
 * (allocators/vmm_registry.c, allocators/pmm.c) for the command line.
 *
 * The only file of tools/ that reads them, and the only one that needs
 * allocators/vmm.h for it: the registries are constant data, read here
 * directly, so no kernel code runs outside a machine.
 */
#include "tools/registry.h"

#include <string.h>

#include "allocators/pmm.h"
#include "allocators/vmm.h"

static void
reg_fill(const struct vmm_ops *ops, struct reg_strategy *s)
{
    if (s == NULL)
        return;
    s->name = ops->name;
    s->pmm = ops->pmm->name;
    s->summary = ops->summary;
    s->reach_bytes = (uint64_t)ops->reach_frames << PAGE_SHIFT;
}

bool
reg_strategy_at(unsigned i, struct reg_strategy *s)
{
    for (unsigned k = 0; vmm_registry[k] != NULL; k++) {
        if (k == i) {
            reg_fill(vmm_registry[k], s);
            return true;
        }
    }
    return false;
}

bool
reg_strategy_find(const char *name, struct reg_strategy *s)
{
    for (unsigned k = 0; vmm_registry[k] != NULL; k++) {
        if (strcmp(vmm_registry[k]->name, name) == 0) {
            reg_fill(vmm_registry[k], s);
            return true;
        }
    }
    return false;
}

const char *
reg_default_strategy(void)
{
    return vmm_registry_default->name;
}

const char *
reg_pmm_at(unsigned i)
{
    for (unsigned k = 0; pmm_registry[k] != NULL; k++)
        if (k == i)
            return pmm_registry[k]->name;
    return NULL;
}

bool
reg_pmm_exists(const char *name)
{
    for (unsigned k = 0; reg_pmm_at(k) != NULL; k++)
        if (strcmp(reg_pmm_at(k), name) == 0)
            return true;
    return false;
}

void
reg_names(bool pmm, const char *sep, char *buf, size_t len)
{
    size_t n = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    struct reg_strategy s;
    for (unsigned i = 0; n < len; i++) {
        const char *name = pmm ? reg_pmm_at(i) : reg_strategy_at(i, &s) ? s.name : NULL;
        if (name == NULL)
            break;
        int w = snprintf(buf + n, len - n, "%s%s", i > 0 ? sep : "", name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

const char *
reg_ops_strategy_name(const struct vmm_ops *ops)
{
    return ops != NULL && ops->name != NULL && ops->name[0] != '\0' ? ops->name : "(no name)";
}

const char *
reg_ops_pmm_name(const struct pmm_ops *ops)
{
    return ops != NULL && ops->name != NULL && ops->name[0] != '\0' ? ops->name : "(no name)";
}

const char *
reg_ops_strategy_missing(const struct vmm_ops *ops)
{
    return ops != NULL ? vmm_ops_missing(ops) : NULL;
}

const char *
reg_ops_pmm_missing(const struct pmm_ops *ops)
{
    return ops != NULL ? pmm_ops_missing(ops) : NULL;
}

void
reg_list_strategies(FILE *out)
{
    struct reg_strategy s;
    int wname = 0, wpmm = 0;
    for (unsigned i = 0; reg_strategy_at(i, &s); i++) {
        if ((int)strlen(s.name) > wname)
            wname = (int)strlen(s.name);
        if ((int)strlen(s.pmm) > wpmm)
            wpmm = (int)strlen(s.pmm);
    }
    for (unsigned i = 0; reg_strategy_at(i, &s); i++)
        fprintf(out, "%-*s  %-*s  %s\n", wname, s.name, wpmm, s.pmm, s.summary);
}
