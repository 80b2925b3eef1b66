/*
 * sim_internal.h - the machine's state, shared by the files of sim/ only.
 */
#ifndef PAGESIM_SIM_INTERNAL_H
#define PAGESIM_SIM_INTERNAL_H

#include <setjmp.h>

#include "kernel/arch.h"
#include "sim/sim.h"

/* Simulated addresses lie below it, host memory (the program is linked
 * above it, and its heap, stack and libraries follow) above it. */
#define SIM_HOST_FLOOR (1ull << 32)
#define SIM_NO_REGION (1ull << 32) /* region_floor with no region registered */
#define SIM_MAX_FIGURES 64         /* distinct figure names the kernel may publish */
#define SIM_MAX_HOST_RANGES 8
#define SIM_HOT_STRIPES 4
/* Pages one access may span (a 16 MiB memcpy). */
#define SIM_MAX_SPAN 4096u
#define SIM_WRITES_KEPT 1024u /* a power of two */
#define SIM_SKIPPED_KEPT 64u

/* The stale-TLB detector's handler of each CPU's MMU (hooks.c). */
void sim_on_stale(void *ctx, struct mmu *m, const struct mmu_stale *st);

struct host_range {
    uintptr_t lo, hi;
};

struct sim {
    /* The CPUs' MMUs (control registers, TLBs, counters) over one RAM; kernel
     * accesses go through the current one. */
    struct mmu cpus[SIM_MAX_CPUS];
    unsigned ncpus;
    struct mmu *cpu;
    struct mmu_config mmu_cfg; /* each CPU's TLB geometry */
    struct sim_stats stats;
    /* The lowest first address of a registered region (no region: above
     * every 32-bit address): the hit path counts regions only from here. */
    uint64_t region_floor;
    /*
     * Hits taken by the hooks' inline path, striped by word so that
     * back-to-back hits do not wait on one counter in memory; folded into
     * the current CPU's counters (accesses and tlb_hits) by sim_fold_hits
     * before anyone reads them or another CPU becomes current.
     */
    uint64_t hot_hits[MMU_NACCESS][SIM_HOT_STRIPES];
    struct sim_stop stop;

    uint8_t *ram; /* whole RAM: physical byte pa is ram[pa] */
    uint64_t ram_size;

    /* Host memory kernel code may use directly. */
    struct host_range stack, image;
    struct host_range extra[SIM_MAX_HOST_RANGES];
    unsigned nextra;

    arch_pf_handler_t pf_handler;
    bool in_handler;
    bool running;
    sigjmp_buf env;

    /* What the kernel published (arch_figure, arch_space). */
    struct {
        char name[SIM_FIGURE_NAME_MAX];
        uint32_t value;
    } figures[SIM_MAX_FIGURES];
    unsigned nfigures;
    struct sim_space *spaces;
    unsigned nspaces, spaces_cap;
    bool spaces_stale; /* a mark passed: the next arch_space starts a new list */
    uint32_t at;       /* arch_at */

    sim_log_fn log_fn;
    void *log_ctx;
    sim_mark_fn mark_fn;
    void *mark_ctx;
    sim_event_fn event_fn;
    void *event_ctx;
    sim_at_fn at_fn;
    void *at_ctx;
    sim_stale_fn stale_fn;
    void *stale_ctx;

    /* The stale-TLB detector: the stores that changed a watched entry, by
     * id (a ring: an id older than SIM_WRITES_KEPT is forgotten), the cases
     * found, and where the access being translated comes from. */
    uint32_t write_seq;
    struct sim_write {
        uint32_t id, at;
        uintptr_t chain[SIM_CHAIN_MAX];
        unsigned n;
    } writes[SIM_WRITES_KEPT];
    struct sim_stale_case stale[SIM_STALE_CASES_MAX];
    unsigned nstale;
    /* An atomic store to a watched frame, made by kernel code through the
     * host pointer __ps_ptr gave: its bytes before, and who made it; the
     * detector hears of it at the next hook (sim_atomic_settle). */
    struct sim_atomic {
        bool on;
        paddr_t pa;
        vaddr_t va;
        uint32_t pfn;
        unsigned size;
        uint8_t old[16];
        struct sim_write w; /* at and chain (id when told) */
    } atomic;
    bool strict_tlb;
    bool stale_off; /* sim_stale_off */
    const void *use_pc, *use_fp;
    /* Fault injection and the INVLPGs it skipped (the latest kept). */
    struct sim_inject inject;
    uint32_t invlpg_seen, cr3_seen;
    struct sim_skipped {
        vaddr_t va;
        uint32_t at;
        uintptr_t chain[SIM_CHAIN_MAX];
        unsigned n;
    } skipped[SIM_SKIPPED_KEPT];
    unsigned nskipped;
    struct sim_prof *prof; /* sim_profile_on, NULL if not profiling */
    /* With two CPUs or more: the frames the others watch (sim_cpu_select). */
    uint8_t *watch_others;
};

/* Tells the detector of an atomic store (sim.atomic) if its bytes
 * changed, as a store made now: sim_atomic_settle. */
void sim_atomic_tell(struct sim *s);

/* The machine whose kernel code is running (NULL outside sim_run).  Of
 * default visibility: a plug-in's kernel code (a shared object) reads it
 * too, from the program's dynamic symbols. */
extern struct sim *sim_current;

/* The kernel parts added by sim_kernel_part_add (machine.c), in order. */
extern struct sim_kernel_part sim_kparts[SIM_MAX_KERNEL_PARTS];
extern unsigned sim_nkparts;

/* Called at every hook before anything else: an atomic store made since
 * the last one is told to the detector (sim_atomic_tell). */
static inline void
sim_atomic_settle(struct sim *s)
{
    if (__builtin_expect(s->atomic.on, 0))
        sim_atomic_tell(s);
}

/* Stops the run: fills what the caller did not and jumps out of sim_run. */
_Noreturn void sim_stop_run(struct sim *s, enum sim_stop_kind kind, const void *pc);

/* Adds the inline path's hits to the current CPU's counters. */
void sim_fold_hits(struct sim *s);

/* Counts a kernel access at va in the region that holds it, if any. */
void sim_count_region(struct sim *s, vaddr_t va);

/* The kernel call chain of code at pc, fp the frame of the host function
 * it called: return addresses innermost first into out (SIM_CHAIN_MAX at
 * most), their number returned (at least 1). */
unsigned sim_kernel_chain(const struct sim *s, const void *pc, const void *fp, uintptr_t *out);

/*
 * Profiling charges (profile.c), only when s->prof is set: sim_prof_enter
 * charges the changes of the counters since the last charge to the current
 * owner, makes the stack of kernel code at pc (frame fp of the host
 * function it called; or, if who is not NULL, the stack of that one name)
 * the owner and returns the previous one; sim_prof_leave charges the owner
 * and restores prev.
 */
int sim_prof_enter(struct sim *s, const void *pc, const void *fp, const char *who);
void sim_prof_leave(struct sim *s, int prev);
void sim_prof_free(struct sim *s);

/* Name of the function containing pc, or "?"; the cached one remembers
 * recent answers (tracing asks for the same few functions again and again). */
void sim_symbolize(const void *pc, char *buf, size_t len);
void sim_symbolize_cached(const void *pc, char *buf, size_t len);

#endif
