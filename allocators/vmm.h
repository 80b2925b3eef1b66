/*
 * vmm.h - paging-structure strategies behind one interface (struct vmm_ops),
 * the address-space handles, and the generic range layer over them.
 *
 * The strategies are those of the registry (vmm_registry.c, vmm_registry
 * below); each names and describes itself in its struct vmm_ops.  What a
 * strategy must do is written in vmm_strategy.h.
 *
 * The kernel half is the same in every space: the kernel page tables for
 * [KERNEL_BASE, KERNEL_TABLES_END) are made at boot and never change, and
 * each new directory copies those PDEs.  PDEs 1022 and 1023 belong to each
 * space (the recursive strategy's foreign and self slots; 0 otherwise).
 */
#ifndef PAGESIM_VMM_H
#define PAGESIM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/plugin.h"
#include "mmu/x86.h"

enum vmm_status {
    VMM_OK = 0,
    VMM_NO_MEMORY,      /* no frame, heap memory, or free window slot */
    VMM_BAD_SPACE,      /* handle out of range or not in use */
    VMM_TOO_MANY,       /* every address-space handle is in use */
    VMM_BAD_RANGE,      /* empty, not page-aligned, wraps, or not all user (or kernel heap) */
    VMM_ALREADY_MAPPED, /* a page of the range is mapped already */
    VMM_NOT_MAPPED,     /* no present mapping there */
    VMM_BUSY,           /* the space is current, or is the kernel's own */
    VMM_UNREACHABLE,    /* a frame beyond the strategy's reach (physmap) */
    VMM_NOT_READY,      /* vmm_boot has not run */
};

/* Returns a short constant description of st. */
const char *vmm_strerror(enum vmm_status st);

/* Address-space handles: 0 is the kernel's own space (the boot directory). */
#define VMM_KERNEL_SPACE 0u
#define VMM_MAX_SPACES 1025u /* the kernel's + one per workload slot */

/* Mapping flags: PTE bits (P is implied). */
#define VMM_MAP_WRITE PTE_W
#define VMM_MAP_USER PTE_U
#define VMM_MAP_GLOBAL PTE_G
#define VMM_MAP_FLAGS (PTE_W | PTE_U | PTE_G)

/* Frames a strategy can reach when it has no limit (all of 32-bit physical memory). */
#define VMM_REACH_ALL (1u << (32 - PAGE_SHIFT))

/* One address space.  Fields are the kernel's bookkeeping (kernel data). */
struct vmm_space {
    bool vs_used;
    paddr_t vs_pd_pa;     /* the page directory (what CR3 holds) */
    vaddr_t vs_pd_va;     /* heap, pageheap: where the kernel reaches the directory */
    vaddr_t vs_shadow_va; /* heap, pageheap: kernel addresses of its user tables,
                             one uint32_t per user PDE (valid where the PDE is present) */
    uint32_t vs_foreign;  /* recursive: the space its PDE 1022 points to (VMM_MAX_SPACES: none) */
    uint32_t vs_aimers;   /* recursive: the first space whose vs_foreign is this one */
    uint32_t vs_aim_next; /* recursive: the next space with the same vs_foreign */
    uint32_t vs_aim_prev; /* recursive: the one before (all three: VMM_MAX_SPACES: none) */
    uint32_t vs_tables;   /* user page tables it owns */
    uint32_t vs_pages;    /* user pages mapped */
};

/*
 * What a strategy cost.  Counts of events are totals since vmm_boot; the
 * others are current values.  Accesses through the recursive and foreign
 * windows are counted by the simulator (sim_stats()->region_accesses).
 */
struct vmm_stats {
    uint32_t spaces;             /* address spaces in use, the kernel's included */
    uint32_t pd_frames;          /* page directories held, the kernel's included */
    uint32_t pt_frames;          /* page tables held, the kernel's included */
    uint32_t kernel_pt_frames;   /* of which kernel tables made at boot */
    uint32_t early_pt_frames;    /* of those, the boot directory's (in the kernel image) */
    uint32_t boot_bytes;         /* placement memory taken at boot: directory and tables */
    uint32_t heap_paging_frames; /* of pd_frames and pt_frames, those that are heap pages */
    uint32_t kernel_pages;       /* kernel-half pages mapped (the heaps' growth) */
    uint32_t heap_bytes;         /* heap memory held for paging structures */
    uint32_t heap_wasted;        /* alignment holes in the heap it uses (all of that heap's) */
    uint32_t kva_bytes;          /* kernel address space of its windows and direct map */
    uint32_t invlpg;             /* INVLPG issued */
    uint32_t cr3_writes;         /* CR3 loads: switches, boot, flushes */
    uint32_t foreign_switches;   /* PDE 1022 repointed (recursive) */
    uint32_t tmp_maps;           /* frames mapped into a temporary slot */
    uint32_t tmp_reuses;         /* of which into a slot used before */
    uint32_t tmp_wraps;          /* lazy window wrapped (flushes when slots were cleared) */
    uint32_t user_pages;         /* user pages mapped, all spaces */
    uint32_t reach_frames;       /* frames the strategy can reach */
    uint32_t unreachable_frames; /* usable RAM frames beyond the reach, left unused */
};

/* Supplies the frame for the page at va (the range layer: a fresh PMM frame). */
typedef enum vmm_status (*vmm_frame_fn)(void *ctx, vaddr_t va, paddr_t *pa);
/* Takes back the frame unmapped from va (the range layer: frees it). */
typedef void (*vmm_release_fn)(void *ctx, vaddr_t va, paddr_t pa);

/*
 * One strategy (its duties: vmm_strategy.h).  The generic layer edits its
 * paging structures with one walker over its reach: ranges are checked
 * there, and kernel-half edits go to the shared kernel tables whatever the
 * space.
 */
struct vmm_reach; /* how the strategy reaches paging structures (vmm_strategy.h) */
struct pmm_ops;   /* a frame allocator (pmm.h) */

struct vmm_ops {
    const char *name;              /* what scenarios and --strategy call it */
    const char *summary;           /* one line: where its structures live, how they are reached */
    const struct pmm_ops *pmm;     /* the frame allocator it prefers (the default for it) */
    uint32_t reach_frames;         /* physical frames it can reach (VMM_REACH_ALL: all) */
    const struct vmm_reach *reach; /* its directories and tables, for the walker */
    /* Completes the kernel space *ks: the generic layer has made its directory
     * (ks->vs_pd_pa) from placement memory, and loads CR3 with it after. */
    enum vmm_status (*boot)(struct vmm_space *ks, uint32_t ram_frames);
    /* Makes an empty directory holding the kernel half at sp->vs_pd_pa;
     * counts nothing (vmm_space_create counts the directory). */
    enum vmm_status (*create)(struct vmm_space *sp);
    /* Maps the frame at pa somewhere in the kernel half until kunmap. */
    enum vmm_status (*kmap)(paddr_t pa, vaddr_t *va);
    void (*kunmap)(vaddr_t va);
    /* The PMM's zero fn for this strategy. */
    void (*zero_frame)(paddr_t pa);
    /* Called after every CR3 write (non-global TLB entries are gone); may be NULL. */
    void (*flushed)(void);
    /* Adds the strategy's own figures (heap use, windows, foreign switches) to *st. */
    void (*stats)(struct vmm_stats *st);
};

/*
 * The registry (vmm_registry.c): every strategy, in the order listings and
 * comparisons show them (the built-in ones, then those plug-ins added),
 * then NULL; and the one a scenario gets when it names none.  It changes
 * only by vmm_register, before any machine exists: the host reads it
 * without running kernel code (tools/registry.c).
 */
#define VMM_REGISTRY_MAX 32u
extern const struct vmm_ops *vmm_registry[VMM_REGISTRY_MAX + 1];
extern const struct vmm_ops *const vmm_registry_default;

/* Appends ops to the registry (a plug-in's strategy, kernel/plugin.h): its
 * name must be valid (kreg_name_ok) and new, its preferred frame allocator
 * registered, and every operation the kernel calls set (flushed and
 * reach->close may be NULL). */
enum kreg_status vmm_register(const struct vmm_ops *ops);

/* The first member of ops the kernel calls that is NULL ("boot",
 * "reach->open_pd", ...), NULL if there is none. */
const char *vmm_ops_missing(const struct vmm_ops *ops);

/* Returns the strategy named name in the registry, NULL if there is none. */
const struct vmm_ops *vmm_find(const char *name);

/* Returns the strategy in use, NULL before vmm_boot. */
const struct vmm_ops *vmm_strategy(void);

/*
 * Builds the kernel directory with ops (space VMM_KERNEL_SPACE, loaded in
 * CR3) over placement memory; ram_frames is the top of usable RAM and
 * unreachable_frames the usable frames above the strategy's reach.
 */
enum vmm_status vmm_boot(const struct vmm_ops *ops, uint32_t ram_frames,
                         uint32_t unreachable_frames);

/*
 * With on (and CR4.PSE set at boot), the next vmm_boot maps the early
 * mapping of the kernel half (the kernel image and the first EARLY_MAP_SIZE
 * of the direct map) with 4 MiB pages instead of the boot page tables, as
 * many kernels do once they run.  Call before each vmm_boot.
 */
void vmm_set_kernel4m(bool on);

/* Creates an empty address space; its handle in *space. */
enum vmm_status vmm_space_create(uint32_t *space);

/* Frees a space that is not current and not the kernel's: every frame mapped
 * in its user half goes back to the PMM, then its tables and directory. */
enum vmm_status vmm_space_destroy(uint32_t space);

/* Makes space current (a CR3 load; none if it already is). */
enum vmm_status vmm_space_switch(uint32_t space);

/* Returns the handle of the current space. */
uint32_t vmm_current(void);

/* Creates a space holding a copy of every user page of src, in fresh frames
 * with the same flags; its handle in *dst. */
enum vmm_status vmm_space_fork(uint32_t src, uint32_t *dst);

/* Maps [va, va + bytes) in space to fresh PMM frames (contents undefined)
 * with flags (VMM_MAP_*); on failure nothing of it stays mapped. */
enum vmm_status vmm_map_range(uint32_t space, vaddr_t va, uint32_t bytes, uint32_t flags);

/* Maps the one page at va in space to the frame at pa (the caller's frame). */
enum vmm_status vmm_map_frame(uint32_t space, vaddr_t va, paddr_t pa, uint32_t flags);

/* Unmaps the present pages of [va, va + bytes) in space and frees their frames. */
enum vmm_status vmm_unmap_range(uint32_t space, vaddr_t va, uint32_t bytes);

/* The physical address va maps to in space, and the PTE flags (low 12 bits). */
enum vmm_status vmm_translate(uint32_t space, vaddr_t va, paddr_t *pa, uint32_t *flags);

/* Maps the frame at pa into the kernel half until vmm_kunmap(*va). */
enum vmm_status vmm_kmap(paddr_t pa, vaddr_t *va);

/* Ends a mapping made by vmm_kmap. */
void vmm_kunmap(vaddr_t va);

/* The heaps' grow fn: maps npages fresh frames at va (kernel heaps only). */
bool vmm_heap_grow(vaddr_t va, uint32_t npages);

/* Fills st (all zero before vmm_boot). */
void vmm_stats(struct vmm_stats *st);

/* The space record behind a handle (read-only view), NULL if not in use. */
const struct vmm_space *vmm_space_info(uint32_t space);

#endif
