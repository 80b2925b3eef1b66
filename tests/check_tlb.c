/*
 * check_tlb.c - unit tests of the set-associative LRU TLB (mmu/tlb.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "mmu/tlb.h"

static struct tlb_entry
mk(uint32_t vpn, uint32_t pfn)
{
    struct tlb_entry e = {
        .vpn = vpn,
        .pfn = pfn,
        .allow = 0x5A,
        .dirty = false,
        .global = false,
        .flags = 0x25,
    };
    return e;
}

static void
init_geo(struct tlb *t, uint32_t entries, uint32_t ways)
{
    struct tlb_geometry g = {.entries = entries, .ways = ways};
    ck_assert(tlb_init(t, &g));
}

static bool
geo_ok(uint32_t entries, uint32_t ways)
{
    struct tlb t;
    struct tlb_geometry g = {.entries = entries, .ways = ways};
    if (!tlb_init(&t, &g))
        return false;
    ck_assert_uint_eq(t.sets, entries / ways);
    ck_assert_uint_eq(t.geo.entries, entries);
    ck_assert_uint_eq(t.geo.ways, ways);
    for (uint32_t i = 0; i < entries; i++)
        ck_assert_uint_eq(t.e[i].vpn, TLB_VPN_NONE);
    tlb_fini(&t);
    return true;
}

/* Index of e inside the array, to tell which set and way it occupies. */
static uint32_t
slot_of(const struct tlb *t, const struct tlb_entry *e)
{
    ck_assert_ptr_nonnull(e);
    ck_assert(e >= t->e && e < t->e + t->geo.entries);
    return (uint32_t)(e - t->e);
}

START_TEST(test_tlb_geometry_validation)
{
    /* Valid: powers of two, ways dividing entries, at most TLB_MAX_ENTRIES. */
    ck_assert(geo_ok(1, 1));
    ck_assert(geo_ok(64, 4));
    ck_assert(geo_ok(32, 32));
    ck_assert(geo_ok(16, 1));
    ck_assert(geo_ok(TLB_MAX_ENTRIES, 4));

    /* Non power of two entries or ways. */
    ck_assert(!geo_ok(0, 1));
    ck_assert(!geo_ok(3, 1));
    ck_assert(!geo_ok(48, 4));
    ck_assert(!geo_ok(64, 0));
    ck_assert(!geo_ok(64, 3));
    ck_assert(!geo_ok(64, 6));
    /* Ways not dividing entries. */
    ck_assert(!geo_ok(4, 8));
    /* Too large. */
    ck_assert(!geo_ok(TLB_MAX_ENTRIES * 2, 4));
}
END_TEST

START_TEST(test_tlb_set_index_is_vpn_mod_sets)
{
    struct tlb t;
    init_geo(&t, 16, 2); /* 8 sets of 2 ways */
    ck_assert_uint_eq(t.sets, 8);
    const uint32_t vpns[] = {0, 1, 7, 8, 13, 0x12345, 0xFFFFE};
    for (size_t i = 0; i < sizeof(vpns) / sizeof(vpns[0]); i++) {
        struct tlb_entry e = mk(vpns[i], i);
        ck_assert(!tlb_insert(&t, &e));
        uint32_t slot = slot_of(&t, tlb_find(&t, vpns[i]));
        ck_assert_uint_eq(slot / t.geo.ways, vpns[i] % t.sets);
        ck_assert_uint_eq(tlb_find(&t, vpns[i])->pfn, i);
        /* Keep every set at most half full so nothing is evicted. */
        tlb_invalidate(&t, vpns[i]);
    }
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_insert_copies_fields)
{
    struct tlb t;
    init_geo(&t, 8, 2);
    struct tlb_entry e = {
        .vpn = 0x42, .pfn = 0x777, .allow = 0x33, .dirty = true, .global = true, .flags = 0x167};
    ck_assert(!tlb_insert(&t, &e));
    struct tlb_entry *f = tlb_find(&t, 0x42);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->pfn, 0x777);
    ck_assert_uint_eq(f->allow, 0x33);
    ck_assert(f->dirty);
    ck_assert(f->global);
    ck_assert_uint_eq(f->flags, 0x167);
    ck_assert_ptr_null(tlb_find(&t, 0x43));
    /* Same set as 0x42 (0x42 % 4 == 0x46 % 4) but another page. */
    ck_assert_ptr_null(tlb_find(&t, 0x46));
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_replace_same_vpn_no_duplicate)
{
    struct tlb t;
    init_geo(&t, 4, 2); /* 2 sets */
    struct tlb_entry a = mk(2, 10), b = mk(4, 11), a2 = mk(2, 20);
    ck_assert(!tlb_insert(&t, &a));
    ck_assert(!tlb_insert(&t, &b));
    /* Re-inserting vpn 2 replaces its own entry: no eviction, b stays. */
    ck_assert(!tlb_insert(&t, &a2));
    ck_assert_uint_eq(tlb_find(&t, 2)->pfn, 20);
    ck_assert_ptr_nonnull(tlb_find(&t, 4));
    unsigned n = tlb_flush(&t, false, NULL);
    ck_assert_uint_eq(n, 2);
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_lru_victim_untouched)
{
    struct tlb t;
    init_geo(&t, 4, 2); /* 2 sets; even vpns share set 0 */
    struct tlb_entry a = mk(0, 1), b = mk(2, 2), c = mk(4, 3), odd = mk(1, 9);
    ck_assert(!tlb_insert(&t, &a));
    ck_assert(!tlb_insert(&t, &b));
    ck_assert(!tlb_insert(&t, &odd));
    /* tlb_find does not count as a use: a stays least recently used. */
    ck_assert_ptr_nonnull(tlb_find(&t, 0));
    ck_assert(tlb_insert(&t, &c));
    ck_assert_ptr_null(tlb_find(&t, 0));
    ck_assert_ptr_nonnull(tlb_find(&t, 2));
    ck_assert_ptr_nonnull(tlb_find(&t, 4));
    ck_assert_ptr_nonnull(tlb_find(&t, 1)); /* other set untouched */
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_lru_victim_after_touch)
{
    struct tlb t;
    init_geo(&t, 4, 2);
    struct tlb_entry a = mk(0, 1), b = mk(2, 2), c = mk(4, 3), d = mk(6, 4);
    tlb_insert(&t, &a);
    tlb_insert(&t, &b);
    tlb_touch(&t, tlb_find(&t, 0)); /* a now more recent than b */
    ck_assert(tlb_insert(&t, &c));  /* evicts b */
    ck_assert_ptr_nonnull(tlb_find(&t, 0));
    ck_assert_ptr_null(tlb_find(&t, 2));
    ck_assert_ptr_nonnull(tlb_find(&t, 4));
    /* c was inserted last, so a is now the least recently used. */
    ck_assert(tlb_insert(&t, &d));
    ck_assert_ptr_null(tlb_find(&t, 0));
    ck_assert_ptr_nonnull(tlb_find(&t, 4));
    ck_assert_ptr_nonnull(tlb_find(&t, 6));
    tlb_fini(&t);
}
END_TEST

/* tlb_victim names the way tlb_insert then fills: 4 entries, 2 ways (2
 * sets).  Set 0 empty: its first way.  With a (vpn 0) and b (vpn 2) in it,
 * a touched after b: b, the least recently used.  For vpn 0 itself: a's
 * way, whatever the LRU order. */
START_TEST(test_tlb_victim_is_what_insert_replaces)
{
    struct tlb t;
    init_geo(&t, 4, 2);
    struct tlb_entry a = mk(0, 1), b = mk(2, 2), c = mk(4, 3);
    ck_assert_ptr_eq(tlb_victim(&t, 0), &t.e[0]);
    tlb_insert(&t, &a);
    tlb_insert(&t, &b);
    tlb_touch(&t, tlb_find(&t, 0));
    struct tlb_entry *v = tlb_victim(&t, 4);
    ck_assert_uint_eq(v->vpn, 2);
    ck_assert_ptr_eq(tlb_victim(&t, 0), tlb_find(&t, 0));
    tlb_insert(&t, &c);
    ck_assert_uint_eq(v->vpn, 4);
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_empty_way_preferred_over_lru)
{
    struct tlb t;
    init_geo(&t, 4, 2);
    struct tlb_entry a = mk(0, 1), b = mk(2, 2), c = mk(4, 3);
    tlb_insert(&t, &a);
    tlb_insert(&t, &b);
    /* Free the most recent way; a (the LRU) must not be chosen over it. */
    ck_assert_uint_eq(tlb_invalidate(&t, 2), 1);
    ck_assert(!tlb_insert(&t, &c));
    ck_assert_ptr_nonnull(tlb_find(&t, 0));
    ck_assert_ptr_nonnull(tlb_find(&t, 4));
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_direct_mapped)
{
    struct tlb t;
    init_geo(&t, 4, 1); /* 4 sets of 1 */
    struct tlb_entry a = mk(1, 1), b = mk(5, 2), c = mk(2, 3);
    ck_assert(!tlb_insert(&t, &a));
    ck_assert(!tlb_insert(&t, &c));
    ck_assert(tlb_insert(&t, &b)); /* 5 % 4 == 1: replaces a */
    ck_assert_ptr_null(tlb_find(&t, 1));
    ck_assert_ptr_nonnull(tlb_find(&t, 5));
    ck_assert_ptr_nonnull(tlb_find(&t, 2));
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_fully_associative)
{
    struct tlb t;
    init_geo(&t, 4, 4); /* one set */
    for (uint32_t v = 0; v < 4; v++) {
        struct tlb_entry e = mk(v * 7, v);
        ck_assert(!tlb_insert(&t, &e));
    }
    tlb_touch(&t, tlb_find(&t, 0));
    struct tlb_entry e = mk(100, 100);
    ck_assert(tlb_insert(&t, &e)); /* LRU is now vpn 7 */
    ck_assert_ptr_null(tlb_find(&t, 7));
    ck_assert_ptr_nonnull(tlb_find(&t, 0));
    ck_assert_ptr_nonnull(tlb_find(&t, 14));
    ck_assert_ptr_nonnull(tlb_find(&t, 21));
    ck_assert_ptr_nonnull(tlb_find(&t, 100));
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_invalidate)
{
    struct tlb t;
    init_geo(&t, 8, 2);
    struct tlb_entry a = mk(3, 1), b = mk(7, 2);
    tlb_insert(&t, &a);
    tlb_insert(&t, &b);
    ck_assert_uint_eq(tlb_invalidate(&t, 3), 1);
    ck_assert_ptr_null(tlb_find(&t, 3));
    ck_assert_ptr_nonnull(tlb_find(&t, 7));
    ck_assert_uint_eq(tlb_invalidate(&t, 3), 0);
    ck_assert_uint_eq(tlb_invalidate(&t, 11), 0); /* same set, never cached */
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_flush_keeps_globals)
{
    struct tlb t;
    init_geo(&t, 8, 2);
    struct tlb_entry a = mk(0, 1), g = mk(1, 2), b = mk(2, 3), g2 = mk(9, 4);
    g.global = true;
    g2.global = true;
    tlb_insert(&t, &a);
    tlb_insert(&t, &g);
    tlb_insert(&t, &b);
    tlb_insert(&t, &g2);
    unsigned kept = 99;
    ck_assert_uint_eq(tlb_flush(&t, true, &kept), 2);
    ck_assert_uint_eq(kept, 2);
    ck_assert_ptr_null(tlb_find(&t, 0));
    ck_assert_ptr_null(tlb_find(&t, 2));
    ck_assert_ptr_nonnull(tlb_find(&t, 1));
    ck_assert_ptr_nonnull(tlb_find(&t, 9));

    /* Keeping again: nothing dropped, both still kept. */
    ck_assert_uint_eq(tlb_flush(&t, true, &kept), 0);
    ck_assert_uint_eq(kept, 2);

    /* A full flush removes globals too and keeps none. */
    kept = 99;
    ck_assert_uint_eq(tlb_flush(&t, false, &kept), 2);
    ck_assert_uint_eq(kept, 0);
    ck_assert_ptr_null(tlb_find(&t, 1));
    ck_assert_ptr_null(tlb_find(&t, 9));
    ck_assert_uint_eq(tlb_flush(&t, false, NULL), 0);
    tlb_fini(&t);
}
END_TEST

struct visit {
    unsigned n;
    uint32_t vpn_sum;
    const struct tlb_entry *last;
    bool ordered;
};

static void
visit_fn(const struct tlb_entry *e, void *arg)
{
    struct visit *v = arg;
    ck_assert_uint_ne(e->vpn, TLB_VPN_NONE);
    if (v->last != NULL && e <= v->last)
        v->ordered = false;
    v->last = e;
    v->n++;
    v->vpn_sum += e->vpn;
}

START_TEST(test_tlb_foreach)
{
    struct tlb t;
    init_geo(&t, 8, 2); /* 4 sets */
    struct visit v = {.ordered = true};
    tlb_foreach(&t, visit_fn, &v);
    ck_assert_uint_eq(v.n, 0);

    const uint32_t vpns[] = {6, 1, 5, 0, 10};
    for (size_t i = 0; i < 5; i++) {
        struct tlb_entry e = mk(vpns[i], 0);
        tlb_insert(&t, &e);
    }
    tlb_invalidate(&t, 5);
    v = (struct visit){.ordered = true};
    tlb_foreach(&t, visit_fn, &v);
    /* Valid entries only: 6, 1, 0, 10. */
    ck_assert_uint_eq(v.n, 4);
    ck_assert_uint_eq(v.vpn_sum, 6 + 1 + 0 + 10);
    /* Set by set, way by way: set s is e[s*ways ..), so addresses increase. */
    ck_assert(v.ordered);
    tlb_fini(&t);
}
END_TEST

/* Same five inserts as above in a 4-set, 2-way TLB: set 0 holds 0, set 1
 * holds 1 and 5, set 2 holds 6 and 10 (ways filled in insertion order).
 * After invalidating 5, the copy in set order is 0, 1, 6, 10. */
START_TEST(test_tlb_copy_valid)
{
    struct tlb t;
    struct tlb_entry out[8];
    init_geo(&t, 8, 2);
    ck_assert_uint_eq(tlb_copy_valid(&t, out), 0);
    const uint32_t vpns[] = {6, 1, 5, 0, 10};
    for (size_t i = 0; i < 5; i++) {
        struct tlb_entry e = mk(vpns[i], 0);
        tlb_insert(&t, &e);
    }
    tlb_invalidate(&t, 5);
    ck_assert_uint_eq(tlb_copy_valid(&t, out), 4);
    ck_assert_uint_eq(out[0].vpn, 0);
    ck_assert_uint_eq(out[1].vpn, 1);
    ck_assert_uint_eq(out[2].vpn, 6);
    ck_assert_uint_eq(out[3].vpn, 10);
    tlb_fini(&t);
}
END_TEST

START_TEST(test_tlb_lru_clock_increases)
{
    struct tlb t;
    init_geo(&t, 8, 2);
    struct tlb_entry a = mk(0, 1), b = mk(1, 2);
    tlb_insert(&t, &a);
    tlb_insert(&t, &b);
    struct tlb_entry *ea = tlb_find(&t, 0), *eb = tlb_find(&t, 1);
    ck_assert_uint_gt(eb->lru, ea->lru);
    tlb_touch(&t, ea);
    ck_assert_uint_gt(ea->lru, eb->lru);
    tlb_fini(&t);
}
END_TEST

Suite *
tlb_suite(void)
{
    Suite *s = suite_create("tlb");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tlb_geometry_validation);
    tcase_add_test(tc, test_tlb_copy_valid);
    tcase_add_test(tc, test_tlb_set_index_is_vpn_mod_sets);
    tcase_add_test(tc, test_tlb_insert_copies_fields);
    tcase_add_test(tc, test_tlb_replace_same_vpn_no_duplicate);
    tcase_add_test(tc, test_tlb_lru_victim_untouched);
    tcase_add_test(tc, test_tlb_lru_victim_after_touch);
    tcase_add_test(tc, test_tlb_victim_is_what_insert_replaces);
    tcase_add_test(tc, test_tlb_empty_way_preferred_over_lru);
    tcase_add_test(tc, test_tlb_direct_mapped);
    tcase_add_test(tc, test_tlb_fully_associative);
    tcase_add_test(tc, test_tlb_invalidate);
    tcase_add_test(tc, test_tlb_flush_keeps_globals);
    tcase_add_test(tc, test_tlb_foreach);
    tcase_add_test(tc, test_tlb_lru_clock_increases);
    suite_add_tcase(s, tc);
    return s;
}
