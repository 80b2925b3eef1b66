/*
 * tlb.c - set-associative TLB arrays with LRU replacement (geometry and
 * index function documented in tlb.h).
 */
#include "mmu/tlb.h"

#include <stdlib.h>

static bool
is_pow2(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

bool
tlb_geometry_valid(const struct tlb_geometry *geo)
{
    return is_pow2(geo->entries) && is_pow2(geo->ways) && geo->ways <= geo->entries &&
           geo->entries <= TLB_MAX_ENTRIES;
}

bool
tlb_init(struct tlb *t, const struct tlb_geometry *geo)
{
    t->e = NULL;
    if (!tlb_geometry_valid(geo))
        return false;
    t->geo = *geo;
    t->sets = geo->entries / geo->ways;
    t->clock = 0;
    t->e = calloc(geo->entries, sizeof(*t->e));
    if (t->e == NULL)
        return false;
    for (uint32_t i = 0; i < geo->entries; i++)
        t->e[i].vpn = TLB_VPN_NONE;
    return true;
}

void
tlb_fini(struct tlb *t)
{
    free(t->e);
    t->e = NULL;
}

static struct tlb_entry *
set_of(struct tlb *t, uint32_t vpn)
{
    return &t->e[tlb_set_index(t, vpn) * t->geo.ways];
}

struct tlb_entry *
tlb_find(struct tlb *t, uint32_t vpn)
{
    struct tlb_entry *s = set_of(t, vpn);
    for (uint32_t w = 0; w < t->geo.ways; w++)
        if (s[w].vpn == vpn)
            return &s[w];
    return NULL;
}

struct tlb_entry *
tlb_victim(struct tlb *t, uint32_t vpn)
{
    struct tlb_entry *s = set_of(t, vpn);
    struct tlb_entry *victim = NULL;
    for (uint32_t w = 0; w < t->geo.ways; w++) {
        if (s[w].vpn == vpn)
            return &s[w];
        if (victim == NULL ||
            (victim->vpn != TLB_VPN_NONE && (s[w].vpn == TLB_VPN_NONE || s[w].lru < victim->lru)))
            victim = &s[w];
    }
    return victim;
}

bool
tlb_insert(struct tlb *t, const struct tlb_entry *ne)
{
    return tlb_insert_at(t, tlb_victim(t, ne->vpn), ne);
}

bool
tlb_insert_at(struct tlb *t, struct tlb_entry *victim, const struct tlb_entry *ne)
{
    bool evicted = victim->vpn != TLB_VPN_NONE && victim->vpn != ne->vpn;
    *victim = *ne;
    victim->lru = ++t->clock;
    return evicted;
}

unsigned
tlb_invalidate(struct tlb *t, uint32_t vpn)
{
    struct tlb_entry *e = tlb_find(t, vpn);
    if (e == NULL)
        return 0;
    e->vpn = TLB_VPN_NONE;
    return 1;
}

unsigned
tlb_flush(struct tlb *t, bool keep_global, unsigned *kept)
{
    unsigned dropped = 0, k = 0;
    for (uint32_t i = 0; i < t->geo.entries; i++) {
        struct tlb_entry *e = &t->e[i];
        if (e->vpn == TLB_VPN_NONE)
            continue;
        if (keep_global && e->global) {
            k++;
            continue;
        }
        e->vpn = TLB_VPN_NONE;
        dropped++;
    }
    if (kept != NULL)
        *kept = k;
    return dropped;
}

void
tlb_foreach(const struct tlb *t, void (*fn)(const struct tlb_entry *e, void *arg), void *arg)
{
    for (uint32_t i = 0; i < t->geo.entries; i++)
        if (t->e[i].vpn != TLB_VPN_NONE)
            fn(&t->e[i], arg);
}

unsigned
tlb_copy_valid(const struct tlb *t, struct tlb_entry *out)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < t->geo.entries; i++)
        if (t->e[i].vpn != TLB_VPN_NONE)
            out[n++] = t->e[i];
    return n;
}
