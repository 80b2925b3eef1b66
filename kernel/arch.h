/*
 * arch.h - everything kernel code may ask of the machine: control
 * registers, TLB maintenance, the page-fault hook, user-mode accesses,
 * panic and log.  sim/ implements it on the MMU model; the bare-metal
 * build implements it with the real instructions.
 */
#ifndef PAGESIM_ARCH_H
#define PAGESIM_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/x86.h"

uint32_t arch_read_cr0(void);
void arch_write_cr0(uint32_t val);
uint32_t arch_read_cr2(void);
uint32_t arch_read_cr3(void);
void arch_write_cr3(uint32_t val); /* flushes non-global TLB entries */
uint32_t arch_read_cr4(void);
void arch_write_cr4(uint32_t val);
void arch_invlpg(vaddr_t va);

/*
 * The page-fault handler gets CR2 and the error code.  It returns true if it
 * removed the cause (the access is then retried) and false if not (the run
 * stops with a fault report).  A fault inside the handler stops the run.
 */
typedef bool (*arch_pf_handler_t)(vaddr_t cr2, uint32_t error_code);
void arch_set_pf_handler(arch_pf_handler_t handler);

/*
 * One access of `size` bytes (1, 2 or 4) at va made in user mode (CPL 3),
 * as a user program would make it; writes store `val`.  Returns the value
 * read (or written).  Faults go to the page-fault handler as any access.
 */
uint32_t arch_user_read(vaddr_t va, unsigned size);
void arch_user_write(vaddr_t va, unsigned size, uint32_t val);

/* Stops the kernel with a message; never returns. */
_Noreturn void arch_panic(const char *msg);

/* One line of kernel log (no newline needed). */
void arch_log(const char *msg);

/*
 * Names a window of the kernel's virtual layout, [first, last] (a self-map,
 * a temporary-mapping window, a direct map): the machine counts the
 * kernel's accesses to it under that name.  Called at boot; where windows
 * overlap, the one registered first takes an access.
 */
void arch_region(const char *name, vaddr_t first, vaddr_t last);

/*
 * The kernel's own figures and live spaces, published before each mark
 * and when a run ends (kernel/figures.h names the figures): the machine
 * keeps the latest value of each figure, and the spaces listed since the
 * last mark, for its reports and views.  On metal, lines on COM1.
 */
void arch_figure(const char *name, uint32_t value);
void arch_space(uint32_t id, paddr_t pd, bool current);

/*
 * Where the kernel is in its work: the workload executor says which op it
 * is running (its index + 1; 0 before the first), so that a trace line or
 * a stop report names the scenario line.  Cheap: called for every op.
 */
void arch_at(uint32_t where);

/* A point of the workload the host may observe (snapshots, expectations):
 * the simulator records counters there; on metal it is a line on COM1. */
void arch_mark(uint32_t id);

/* Convenience on top of the register accessors. */
static inline void
arch_flush_tlb(void)
{
    arch_write_cr3(arch_read_cr3());
}

static inline void
arch_cr4_set(uint32_t bits)
{
    arch_write_cr4(arch_read_cr4() | bits);
}

static inline void
arch_cr4_clear(uint32_t bits)
{
    arch_write_cr4(arch_read_cr4() & ~bits);
}

/* Loads CR3 with the directory at pd_pa and sets CR0.PG (and WP). */
static inline void
arch_enable_paging(paddr_t pd_pa)
{
    arch_write_cr3(pd_pa);
    arch_write_cr0(arch_read_cr0() | CR0_PG | CR0_WP | CR0_PE);
}

#endif
