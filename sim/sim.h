/*
 * sim.h - the host machine that runs kernel C code on the MMU model:
 * simulated physical RAM, the CPUs' MMUs, the access runtime kernel loads
 * and stores are rewritten into (sim/access.h) and the host side of
 * kernel/arch.h.
 *
 * One machine exists at a time in a process (kernel code keeps its state
 * in statics, as a kernel does).  Kernel code runs only inside sim_run(); a
 * kernel bug stops the run with a report and sim_run() returns, leaving the
 * host process healthy for the next machine.
 */
#ifndef PAGESIM_SIM_H
#define PAGESIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/mmu.h"

/* RAM of a machine: at most what a 32-bit physical address reaches, and
 * the size a machine has when nobody chooses one.  The scenario parser asks
 * these too. */
#define SIM_RAM_MAX (4ull << 30)
#define SIM_RAM_DEFAULT (64ull << 20)
#define SIM_MAX_CPUS 8

struct sim_config {
    uint64_t ram_size; /* bytes, a multiple of 4 KiB, at most SIM_RAM_MAX */
    struct mmu_config mmu;
};

enum sim_stop_kind {
    SIM_STOP_NONE = 0,
    SIM_STOP_PAGE_FAULT,   /* #PF with no handler, or the handler gave up */
    SIM_STOP_DOUBLE_FAULT, /* #PF while the page-fault handler ran */
    SIM_STOP_WILD,         /* host address that is not the kernel's own */
    SIM_STOP_BUS_ERROR,    /* physical address outside RAM */
    SIM_STOP_PANIC,        /* arch_panic() */
    SIM_STOP_HOST_SIGNAL,  /* an access the runtime did not see (SIGSEGV/SIGBUS) */
    SIM_STOP_UNSUPPORTED,  /* what the model does not do (CR4.PAE, a huge access) */
    SIM_STOP_STALE_TLB,    /* a stale TLB use of a bug class under sim_set_strict_tlb */
};

/* Why and where a run stopped.  All fields are deterministic. */
struct sim_stop {
    enum sim_stop_kind kind;
    vaddr_t cr2;         /* faulting linear address (page faults) */
    uint32_t error_code; /* #PF error code */
    enum mmu_access access;
    unsigned size; /* bytes of the access */
    paddr_t pa;    /* physical address (bus errors) */
    bool host_addr_valid;
    struct mmu_walk walk; /* the paging entries the walk read */
    uint32_t cr0, cr3, cr4;
    char where[64]; /* kernel function that made the access, or "?" */
    char msg[160];  /* panic message or detail */
};

/* Kernel functions an event's call chain names at most, and the room for
 * one name. */
#define SIM_CHAIN_MAX 8
#define SIM_NAME_MAX 64

/*
 * A named window of the kernel's virtual layout, as the kernel registered
 * it with arch_region(): kernel accesses to [first, last] are counted under
 * its name.  Regions are matched in the order they were registered, the
 * first that holds the address taking the access, so a page carved out of
 * a larger window is registered before it.
 */
#define SIM_MAX_REGIONS 16
#define SIM_REGION_NAME_MAX 24
struct sim_region {
    char name[SIM_REGION_NAME_MAX];
    vaddr_t first, last;
    uint64_t accesses;
    bool window; /* in the self-map or foreign window: from FOREIGN_PT_BASE up (x86.h) */
};

/*
 * An access that reached a large page's data through the self-map or the
 * foreign window.  Page i of such a window is translated by PDE i of the
 * directory the window shows, read as a PTE; when that PDE maps a 4 MiB page
 * (PS=1, bit 7) the access lands in the first 4 KiB of the large page's
 * data, not in a page table.  Counted per access (TLB hits included) from
 * the entry the tables hold at that access.
 */
struct sim_large_hit {
    vaddr_t va;
    pde_t pde;   /* the PDE with PS=1 that the window read as a PTE */
    uint32_t at; /* scenario line (arch_at) at the access; 0 during boot */
    char chain[SIM_CHAIN_MAX][SIM_NAME_MAX];
    unsigned nchain;
};

struct sim_stats {
    struct sim_region regions[SIM_MAX_REGIONS];
    unsigned nregions;
    uint64_t large_page_hits;       /* accesses as struct sim_large_hit says */
    struct sim_large_hit large_hit; /* the first of them */
    uint64_t handler_calls;         /* #PF delivered to the kernel's handler */
};

struct sim;

void sim_config_default(struct sim_config *cfg);

/*
 * Creates the machine: RAM (anonymous memory, so host memory follows the
 * frames touched), one CPU whose MMU is in reset state, and a pristine
 * kernel: the kernel's static data restored as its image holds it and its
 * bss zeroed, whatever earlier machines' kernels left there.  Returns
 * NULL with a message in err if the config is invalid, another machine
 * exists, or the host put this program's memory below 4 GiB (where
 * simulated addresses lie; under valgrind: --aspace-minaddr=0x100000000).
 */
struct sim *sim_create(const struct sim_config *cfg, char *err, size_t errlen);
void sim_destroy(struct sim *s);

/* The current CPU's MMU. */
struct mmu *sim_mmu(struct sim *s);

/*
 * CPUs: each has its own MMU (control registers, TLBs, counters), all share
 * RAM; kernel accesses and arch_* calls go to the current one.  sim_cpu_add
 * adds a CPU in reset state and returns its number (the first CPU is 0), or
 * -1 if there are SIM_MAX_CPUS already.  sim_cpu_select makes cpu current
 * (returns false if there is no such CPU); callable inside and outside
 * sim_run.
 */
int sim_cpu_add(struct sim *s);
bool sim_cpu_select(struct sim *s, unsigned cpu);
unsigned sim_cpu_current(const struct sim *s);
const struct sim_stats *sim_stats(const struct sim *s);
uint64_t sim_ram_size(const struct sim *s);

/* Host pointer to physical byte pa, or NULL if pa + len exceeds RAM.  For
 * host-side setup and inspection; such accesses are not counted. */
void *sim_phys(struct sim *s, paddr_t pa, size_t len);

/*
 * Reads n bytes at virtual address va by walking the current tables with
 * no side effects (no TLB, A/D bits or counters).  Returns false if some
 * page is not mapped.
 */
bool sim_read_virt(struct sim *s, vaddr_t va, void *buf, size_t n);

/* Where the kernel last said it was (arch_at): the executor's op index + 1,
 * 0 before the first op. */
uint32_t sim_kernel_at(const struct sim *s);

/* Called at each arch_at(where) of the kernel, after sim_kernel_at has
 * become where (default: nothing). */
typedef void (*sim_at_fn)(void *ctx, struct sim *s, uint32_t where);
void sim_set_at(struct sim *s, sim_at_fn fn, void *ctx);

/* Kernel accesses counted in the regions named name so far (a name may be
 * registered for several windows); 0 if the kernel registered none. */
uint64_t sim_region_accesses(const struct sim *s, const char *name);

/*
 * What the kernel published about itself (kernel/arch.h arch_figure and
 * arch_space).  sim_figure gives the latest value of a figure, false if
 * the kernel never published it.  sim_spaces gives the live spaces the
 * kernel listed since the last mark (at a mark: those it listed for it;
 * after a run: those it listed at the end), *n of them.
 */
#define SIM_FIGURE_NAME_MAX 32
struct sim_space {
    uint32_t id;  /* the kernel's name for it (the workload's slot) */
    paddr_t pd;   /* its page directory */
    bool current; /* loaded in CR3 */
};
bool sim_figure(const struct sim *s, const char *name, uint32_t *value);
const struct sim_space *sim_spaces(const struct sim *s, unsigned *n);

/* Host memory outside the kernel's stack and static data that kernel code
 * may read and write directly (for example a buffer a test hands in). */
void sim_allow_host_range(struct sim *s, const void *p, size_t len);

/*
 * Kernel code loaded into the program after it started (a plug-in,
 * kernel/plugin.h), beside the kernel linked into it.  Its loaded memory
 * [image_lo, image_hi) is the kernel's own static data, which kernel code
 * uses directly; return addresses in [text_lo, text_hi) are kernel code in
 * call chains; its writable data [data, data + data_len) is saved as it is
 * at this call and restored in every machine created later, and its bss
 * [bss, bss + bss_len) zeroed, as the linked kernel's are.  Call it before
 * the part's code first runs.  Returns false with a message in err if
 * SIM_MAX_KERNEL_PARTS were added already or the host is out of memory.
 */
#define SIM_MAX_KERNEL_PARTS 8
struct sim_kernel_part {
    uintptr_t image_lo, image_hi;
    uintptr_t text_lo, text_hi;
    void *data;
    size_t data_len;
    void *bss;
    size_t bss_len;
};
bool sim_kernel_part_add(const struct sim_kernel_part *p, char *err, size_t errlen);

/* Where kernel log lines go (default: dropped). */
typedef void (*sim_log_fn)(void *ctx, const char *line);
void sim_set_log(struct sim *s, sim_log_fn fn, void *ctx);

/* What kernel code did to the TLB, as the trace shows it. */
enum sim_event_kind {
    SIM_EV_INVLPG, /* value: the address */
    SIM_EV_CR0,    /* value: the new CR0 */
    SIM_EV_CR3,    /* value: the new CR3 */
    SIM_EV_CR4,    /* value: the new CR4 */
    SIM_EV_FAULT,  /* value: CR2; error: the error code (before the handler runs) */
};

struct sim_event {
    enum sim_event_kind kind;
    uint32_t value;
    uint32_t error;
    uint64_t dropped;  /* TLB entries it removed */
    uint64_t kept;     /* global entries a CR3 write kept */
    const char *where; /* the kernel function that did it: chain[0] */
    /*
     * The kernel functions on the call stack, innermost first: chain[0] made
     * the event, chain[1] called chain[0], and so on, up to SIM_CHAIN_MAX
     * names, ending at the first frame that is not kernel code (the host,
     * or the machine delivering a fault to the kernel's handler).  A
     * function the compiler inlined into its caller is named as the caller.
     * A write of sim_write_cr has one name, the one it was given.
     */
    const char *const *chain;
    unsigned nchain; /* at least 1 */
    /* INVLPG and CR3 events: the flush lint it earned (mmu.h; NONE if
     * none) and how many INVLPGs would have covered its changed entries. */
    enum mmu_lint lint;
    uint32_t lint_needed;
};

/* Called for each event above (default: nothing). */
typedef void (*sim_event_fn)(void *ctx, struct sim *s, const struct sim_event *ev);
void sim_set_event(struct sim *s, sim_event_fn fn, void *ctx);

/*
 * Writes control register CR0, CR3 or CR4 (kind SIM_EV_CR0, SIM_EV_CR3 or
 * SIM_EV_CR4; any other kind does nothing) on behalf of code that runs
 * before the kernel, such as the boot entry: the same effect, counters and
 * event as the kernel's arch_write_crN, with the event's chain the one name
 * who.  Callable outside sim_run.
 */
void sim_write_cr(struct sim *s, enum sim_event_kind kind, uint32_t val, const char *who);

/*
 * Stale TLB uses (the detector of mmu.h), each distinct case once: its
 * class, address, CR3, cached and current entry, with the kernel call chain
 * (innermost first, as in struct sim_event) and scenario position
 * (sim_kernel_at) of the store (or injected CR3 write) that first changed
 * the entry, of the latest store that changed it if another, and of the
 * first use; skipped names the chain of an injected
 * skipped INVLPG that covered the address, if any (nskipped 0 if none).
 */
#define SIM_STALE_CASES_MAX 64
struct sim_stale_case {
    struct mmu_stale st;
    unsigned cpu;
    uint64_t uses; /* uses of this case */
    uint32_t write_at, last_at, use_at, skipped_at;
    char write_chain[SIM_CHAIN_MAX][SIM_NAME_MAX];
    char last_chain[SIM_CHAIN_MAX][SIM_NAME_MAX]; /* the latest change, if another store */
    char use_chain[SIM_CHAIN_MAX][SIM_NAME_MAX];
    char skipped_chain[SIM_CHAIN_MAX][SIM_NAME_MAX];
    unsigned nwrite, nlast, nuse, nskipped; /* names in each chain; 0: not known or none */
};
/* The cases so far, in the order they were first seen (at most
 * SIM_STALE_CASES_MAX; the counters count every use). */
const struct sim_stale_case *sim_stale_cases(const struct sim *s, unsigned *n);

/* Called at each stale use the detector counts (tlb.stale_uses or
 * tlb.stale_harmless), before a strict stop; c is its case, NULL once
 * SIM_STALE_CASES_MAX cases are kept (default: nothing). */
typedef void (*sim_stale_fn)(void *ctx, struct sim *s, const struct mmu_stale *st,
                             const struct sim_stale_case *c);
void sim_set_stale(struct sim *s, sim_stale_fn fn, void *ctx);

/* With on, the first stale use of a bug class stops the run (kind
 * SIM_STOP_STALE_TLB, its case recorded first). */
void sim_set_strict_tlb(struct sim *s, bool on);

/* Turns the stale-TLB detector off on every CPU, present and added later
 * (before the run): for measuring its cost only. */
void sim_stale_off(struct sim *s);

/*
 * Fault injection on the host side of kernel/arch.h (kernel code
 * unchanged): the skip_invlpg-th arch_invlpg (counted from 1 over the whole
 * run, boot included) is not executed; every arch_invlpg whose call chain
 * names skip_invlpg_fn is not executed; the skip_cr3_flush-th arch_write_cr3
 * changes CR3 without flushing the TLB.  0 or "" disables each.
 */
struct sim_inject {
    uint32_t skip_invlpg;
    char skip_invlpg_fn[SIM_NAME_MAX];
    uint32_t skip_cr3_flush;
};
void sim_set_inject(struct sim *s, const struct sim_inject *in);

/*
 * Profiling: with sim_profile_on (before the run), every kernel access,
 * INVLPG, control-register write and #PF is charged to its kernel call
 * stack: the return addresses innermost first, as in struct sim_event, a
 * stack being distinct by those addresses.  The fast entry and the soft TLB
 * are off (mmu_fast_off) so that each access reaches the miss path; the
 * counts are those of a run without profiling.  Returns false if out of
 * host memory.  sim_profile_reset forgets what was charged so far (the
 * stacks stay known); sim_profile_stacks gives every stack charged, in the
 * order first seen, *n of them: summed, their counters are the current
 * CPU's since the reset (the last reset, or machine reset), every CPU's
 * when several ran.  A write of sim_write_cr is charged to a stack of one
 * name, the one it was given; a change no kernel code made to "(machine)".
 */
struct sim_profile_stack {
    char chain[SIM_CHAIN_MAX][SIM_NAME_MAX]; /* innermost first */
    unsigned nchain;                         /* at least 1 */
    struct mmu_counters ctr;
};
bool sim_profile_on(struct sim *s);
void sim_profile_reset(struct sim *s);
const struct sim_profile_stack *sim_profile_stacks(struct sim *s, unsigned *n);

/* Called at each arch_mark(id) of the kernel (default: nothing). */
typedef void (*sim_mark_fn)(void *ctx, struct sim *s, uint32_t id);
void sim_set_mark(struct sim *s, sim_mark_fn fn, void *ctx);

/*
 * Runs kernel code: fn(arg) with the hooks active.  Returns true if fn
 * returned, false if the run stopped (sim_last_stop tells why).  Not
 * reentrant.
 */
bool sim_run(struct sim *s, void (*fn)(void *arg), void *arg);
const struct sim_stop *sim_last_stop(const struct sim *s);

const char *sim_stop_kind_name(enum sim_stop_kind kind);
/* Writes a multi-line report of the stop into buf (always terminated). */
void sim_format_stop(const struct sim_stop *st, char *buf, size_t len);

#endif
