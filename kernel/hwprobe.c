/*
 * hwprobe.c - the randomized paging differential (hwprobe.h): page tables
 * from a seed, probes of every access kind under both CR0.WP values, one
 * log line per probe.
 */
#include "kernel/hwprobe.h"

#include <stddef.h>

#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"

/* Bit 21 of a 4 MiB PDE: reserved whatever MAXPHYADDR is (SDM table 4-4). */
#define HP_PDE_RSVD21 (1u << 21)
/* The bits a random present entry may have besides P and its frame. */
#define HP_FLAGS_PTE (PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_PAT | PTE_G | PTE_AVL)
#define HP_FLAGS_PDE_TABLE                                                                         \
    (PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | PTE_AVL) /* D, G ignored */
#define HP_FLAGS_PDE_4M                                                                            \
    (PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | PTE_AVL | PDE_LPAT)
/* The escape page's PDE besides its frame: every access allowed, nothing
 * left for the access to set. */
#define HP_ESCAPE_FLAGS (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | PTE_PS)
/* The pool's 4 MiB pages in the kernel half. */
#define HP_DIRECT_FLAGS (PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS)

/* One random PDE of the user half. */
struct hp_slot {
    uint32_t pdx;
    pde_t pde;     /* as generated */
    bool large;    /* a slot of 4 MiB pages (it has no table) */
    paddr_t table; /* its page table, if not large */
};

static struct hp_slot hp_slots[HWPROBE_SLOTS];
static uint32_t hp_rng;      /* xorshift32 state */
static uint32_t hp_frames;   /* 4 KiB frames in the pool */
static uint32_t hp_regions;  /* 4 MiB regions in the pool */
static paddr_t hp_escape_pa; /* the escape page: the pool's last 4 MiB */

/* The probe under way, and what its page fault left. */
static struct {
    bool active, faulted;
    vaddr_t va;
    const struct hp_slot *slot;
    uint32_t cr2, err;
    pde_t pde;
    pte_t pte;
} hp_cur;

const char *
hwprobe_strerror(enum hwprobe_status st)
{
    switch (st) {
    case HWPROBE_OK:
        return "ok";
    case HWPROBE_BAD_VERSION:
        return "probe request format version not supported";
    case HWPROBE_BAD_LENGTH:
        return "probe request length field or size is not the format's";
    case HWPROBE_BAD_FIELD:
        return "probe request seeds, probes or records out of range";
    }
    return "unknown probe status";
}

bool
hwprobe_is_request(vaddr_t va, uint32_t len)
{
    return len >= sizeof(uint32_t) && *(const uint32_t *)(uintptr_t)va == HWPROBE_MAGIC;
}

/* The finalizer of MurmurHash3: every input bit moves every output bit. */
static uint32_t
hp_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

static uint32_t
hp_next(void)
{
    uint32_t x = hp_rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return hp_rng = x;
}

/* A random number below n (n > 0). */
static uint32_t
hp_below(uint32_t n)
{
    return hp_next() % n;
}

/* A word that names probe i of seed and its use k: what a marker holds. */
static uint32_t
hp_word_for(uint32_t seed, uint32_t i, uint32_t k)
{
    return hp_mix(hp_mix(seed) ^ (i << 2 | k));
}

static volatile uint32_t *
hp_phys(paddr_t pa)
{
    return (volatile uint32_t *)(uintptr_t)P2V(pa);
}

/* A non-present entry: random bits, P clear. */
static uint32_t
hp_absent(void)
{
    return hp_next() & ~PTE_P;
}

/* The user half of the directory and the slots' tables for one seed. */
static void
hp_build(void)
{
    volatile pde_t *pd = hp_phys(HWPROBE_TABLES_PA);
    for (uint32_t i = 0; i < KERNEL_PDX; i++)
        pd[i] = 0;
    for (uint32_t k = 0; k < HWPROBE_SLOTS; k++) {
        struct hp_slot *sl = &hp_slots[k];
        bool used;
        do {
            sl->pdx = 1 + hp_below(HWPROBE_LAST_PDX);
            used = false;
            for (uint32_t j = 0; j < k; j++)
                used = used || hp_slots[j].pdx == sl->pdx;
        } while (used);
        sl->large = hp_below(8) < 3;
        sl->table = HWPROBE_TABLES_PA + (1 + k) * PAGE_SIZE;
        if (hp_below(8) == 0) {
            sl->pde = hp_absent();
        } else if (sl->large) {
            paddr_t region = HWPROBE_POOL_PA + hp_below(hp_regions) * LPAGE_SIZE;
            sl->pde = region | PTE_P | PTE_PS | (hp_next() & HP_FLAGS_PDE_4M) |
                      (hp_below(8) == 0 ? HP_PDE_RSVD21 : 0);
        } else {
            sl->pde = sl->table | PTE_P | (hp_next() & HP_FLAGS_PDE_TABLE);
        }
        pd[sl->pdx] = sl->pde;
        if (sl->large)
            continue;
        volatile pte_t *pt = hp_phys(sl->table);
        for (uint32_t i = 0; i < NPTENTRIES; i++) {
            if (hp_below(4) == 0)
                pt[i] = hp_absent();
            else
                pt[i] = (HWPROBE_POOL_PA + hp_below(hp_frames) * PAGE_SIZE) | PTE_P |
                        (hp_next() & HP_FLAGS_PTE);
        }
    }
}

/* The PDE and PTE of the probe under way, as they are now. */
static void
hp_entries(pde_t *pde, pte_t *pte)
{
    const struct hp_slot *sl = hp_cur.slot;
    *pde = hp_phys(HWPROBE_TABLES_PA)[sl->pdx];
    *pte = sl->large ? 0 : hp_phys(sl->table)[PTX(hp_cur.va)];
}

/* The page-fault handler: records the fault, then sends the address to the
 * escape page so that the access completes. */
static bool
hp_fault(vaddr_t cr2, uint32_t err)
{
    if (!hp_cur.active || hp_cur.faulted)
        return false;
    hp_cur.faulted = true;
    hp_cur.cr2 = cr2;
    hp_cur.err = err;
    hp_entries(&hp_cur.pde, &hp_cur.pte);
    hp_phys(HWPROBE_TABLES_PA)[PDX(hp_cur.va)] = hp_escape_pa | HP_ESCAPE_FLAGS;
    arch_invlpg(hp_cur.va);
    return true;
}

/* Runs probe i of seed; its record in *rec. */
static void
hp_probe(uint32_t seed, uint32_t i, struct hwprobe_record *rec)
{
    const struct hp_slot *sl = &hp_slots[hp_below(HWPROBE_SLOTS)];
    uint32_t ptx = hp_below(NPTENTRIES);
    vaddr_t va = PGADDR(sl->pdx, ptx, hp_below(PAGE_SIZE / 4) * 4);
    uint32_t acc = hp_below(4), wp = hp_below(2);

    /* Where the generated entries send va, and the markers. */
    pte_t pte = sl->large ? 0 : hp_phys(sl->table)[ptx];
    paddr_t target = 0;
    if ((sl->pde & PTE_P) && sl->large)
        target = PDE_LADDR(sl->pde) | LPGOFF(va);
    else if ((sl->pde & PTE_P) && (pte & PTE_P))
        target = PTE_ADDR(pte) | PGOFF(va);
    paddr_t escape = hp_escape_pa | LPGOFF(va);
    if (target != 0)
        *hp_phys(target) = hp_word_for(seed, i, 1);
    *hp_phys(escape) = hp_word_for(seed, i, 2);

    uint32_t cr0 = arch_read_cr0();
    arch_write_cr0(wp ? cr0 | CR0_WP : cr0 & ~CR0_WP);
    arch_invlpg(va);
    hp_cur.active = true;
    hp_cur.faulted = false;
    hp_cur.va = va;
    hp_cur.slot = sl;
    hp_cur.cr2 = hp_cur.err = 0;
    uint32_t value = 0, wval = hp_word_for(seed, i, 3);
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)va;
    if (acc == HWPROBE_ACC_USER)
        value = arch_user_read(va, 4);
    else if (acc == (HWPROBE_ACC_USER | HWPROBE_ACC_WRITE))
        arch_user_write(va, 4, wval);
    else if (acc == HWPROBE_ACC_WRITE)
        *p = wval;
    else
        value = *p;
    hp_cur.active = false;
    if (!hp_cur.faulted)
        hp_entries(&hp_cur.pde, &hp_cur.pte);
    if (acc & HWPROBE_ACC_WRITE)
        value = *hp_phys(hp_cur.faulted ? escape : target);

    *rec = (struct hwprobe_record){
        .seed = seed,
        .index = i,
        .va = va,
        .acc = acc,
        .wp = wp,
        .fault = hp_cur.faulted,
        .err = hp_cur.err,
        .cr2 = hp_cur.cr2,
        .pde = hp_cur.pde,
        .pte = hp_cur.pte,
        .has_pte = !sl->large,
        .value = value,
    };

    hp_phys(HWPROBE_TABLES_PA)[sl->pdx] = sl->pde;
    if (!sl->large)
        hp_phys(sl->table)[ptx] = pte;
    arch_invlpg(va);
}

/* The pool from 16 MiB to the end of its usable region (4 MiB-aligned); false if too small. */
static bool
hp_pool(const struct boot_info *bi)
{
    uint64_t top = 0;
    for (uint32_t i = 0; i < bi->mmap_count && i < BOOT_MMAP_MAX; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        uint64_t end = (uint64_t)e->base + e->length;
        if (e->type == BOOT_MMAP_USABLE && e->base <= HWPROBE_POOL_PA && end > HWPROBE_POOL_PA)
            top = end;
    }
    if (top > PHYSMAP_MAX)
        top = PHYSMAP_MAX;
    top &= LPAGE_MASK;
    if (top < HWPROBE_POOL_PA + 3 * LPAGE_SIZE)
        return false;
    hp_frames = (uint32_t)(top - HWPROBE_POOL_PA) / PAGE_SIZE;
    hp_regions = (uint32_t)(top - HWPROBE_POOL_PA) / LPAGE_SIZE;
    hp_escape_pa = (paddr_t)top - LPAGE_SIZE;
    return true;
}

enum hwprobe_status
hwprobe_main(const struct boot_info *bi, vaddr_t va, uint32_t len)
{
    const volatile uint32_t *w = (const volatile uint32_t *)(uintptr_t)va;
    if (len < 3 * sizeof(uint32_t))
        return HWPROBE_BAD_LENGTH;
    if (w[1] != HWPROBE_VERSION)
        return HWPROBE_BAD_VERSION;
    if (len != sizeof(struct hwprobe_module) || w[2] != len)
        return HWPROBE_BAD_LENGTH;
    const volatile struct hwprobe_module *m = (const volatile struct hwprobe_module *)w;
    uint32_t first = m->seed, seeds = m->seeds, probes = m->probes, records = m->records;
    if (seeds == 0 || seeds > HWPROBE_MAX_SEEDS || probes == 0 || probes > HWPROBE_MAX_PROBES ||
        records > 1 || first + (seeds - 1) < first)
        return HWPROBE_BAD_FIELD;
    if (!hp_pool(bi))
        arch_panic("hwprobe: the usable RAM from 16 MiB up holds fewer than three 4 MiB regions");

    /* The kernel half: the current directory's, and the pool at P2V. */
    arch_write_cr4(arch_read_cr4() | CR4_PSE | CR4_PGE);
    volatile pde_t *pd = hp_phys(HWPROBE_TABLES_PA);
    volatile pde_t *cur = hp_phys(arch_read_cr3() & CR3_ADDR_MASK);
    for (uint32_t i = KERNEL_PDX; i < NPDENTRIES; i++)
        pd[i] = cur[i];
    for (paddr_t pa = HWPROBE_POOL_PA; pa < hp_escape_pa + LPAGE_SIZE; pa += LPAGE_SIZE)
        pd[PDX(P2V(pa))] = pa | HP_DIRECT_FLAGS;
    arch_set_pf_handler(hp_fault);

    for (uint32_t seed = first; seed - first < seeds; seed++) {
        hp_rng = hp_mix(seed ^ 0x9E3779B9u);
        if (hp_rng == 0)
            hp_rng = 1;
        hp_build();
        arch_write_cr3(HWPROBE_TABLES_PA);
        uint32_t digest = HWPROBE_DIGEST_INIT;
        for (uint32_t i = 0; i < probes; i++) {
            struct hwprobe_record r;
            hp_probe(seed, i, &r);
            digest = hwprobe_digest(digest, &r);
            if (!records)
                continue;
            if (r.has_pte)
                kprintf("probe %u %u %08x %u %u %u %x %08x %08x %08x %08x", r.seed, r.index, r.va,
                        r.acc, r.wp, r.fault, r.err, r.cr2, r.pde, r.pte, r.value);
            else
                kprintf("probe %u %u %08x %u %u %u %x %08x %08x - %08x", r.seed, r.index, r.va,
                        r.acc, r.wp, r.fault, r.err, r.cr2, r.pde, r.value);
        }
        kprintf("probe-seed %u %u %08x", seed, probes, digest);
    }
    arch_write_cr0(arch_read_cr0() | CR0_WP);
    return HWPROBE_OK;
}
