/*
 * module.c - checks the boot module (module.h) and takes the kernel's
 * settings from it.
 */
#include "kernel/module.h"

#include <stdbool.h>
#include <stddef.h>

#include "kernel/klib.h"

const char *
kmod_strerror(enum kmod_status st)
{
    switch (st) {
    case KMOD_OK:
        return "ok";
    case KMOD_TOO_SHORT:
        return "module shorter than its header";
    case KMOD_BAD_MAGIC:
        return "not a pagesim module (bad magic number)";
    case KMOD_BAD_VERSION:
        return "module format version not supported";
    case KMOD_BAD_LENGTH:
        return "module length field does not match its size";
    case KMOD_BAD_FIELD:
        return "bad module field (CR4 bits, inject value or an unterminated name)";
    case KMOD_BAD_WORKLOAD:
        return "workload header or op count does not fill the module";
    }
    return "unknown module status";
}

/* Copies a NUL-terminated name of at most KMOD_NAME_MAX bytes; false if unterminated. */
static bool
kmod_name(const char *src, char *dst)
{
    for (uint32_t i = 0; i < KMOD_NAME_MAX; i++) {
        dst[i] = src[i];
        if (src[i] == '\0')
            return true;
    }
    return false;
}

enum kmod_status
kmod_open(vaddr_t va, uint32_t len, struct kmod_info *info)
{
    const struct kmod_header *h = (const struct kmod_header *)(uintptr_t)va;
    if (len < sizeof(*h))
        return KMOD_TOO_SHORT;
    if (h->magic != KMOD_MAGIC)
        return KMOD_BAD_MAGIC;
    if (h->version != KMOD_VERSION)
        return KMOD_BAD_VERSION;
    if (h->length != len)
        return KMOD_BAD_LENGTH;
    info->cr4 = h->cr4;
    info->inject = h->inject;
    info->flags = h->flags;
    if ((info->cr4 & ~KMOD_CR4_BITS) != 0 || info->inject >= KMOD_NINJECT ||
        (info->flags & ~KMOD_FLAGS) != 0 ||
        !kmod_name(h->strategy, info->strategy) || !kmod_name(h->pmm, info->pmm))
        return KMOD_BAD_FIELD;
    uint32_t rest = len - (uint32_t)sizeof(*h);
    const struct wl_header *wl = (const struct wl_header *)(h + 1);
    if (rest < sizeof(*wl) || wl->magic != WL_MAGIC)
        return KMOD_BAD_WORKLOAD;
    uint32_t nops = wl->nops;
    if ((rest - sizeof(*wl)) % sizeof(struct wl_op) != 0 ||
        (rest - sizeof(*wl)) / sizeof(struct wl_op) != nops)
        return KMOD_BAD_WORKLOAD;
    info->workload = wl;
    return KMOD_OK;
}
