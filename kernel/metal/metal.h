/*
 * metal.h - what the bare-metal files (kernel/metal/) share among
 * themselves: the CPU tables, COM1, the physical-memory window and the
 * exit through isa-debug-exit.  Nothing outside kernel/metal/ includes it.
 */
#ifndef PAGESIM_METAL_H
#define PAGESIM_METAL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/metal/portio.h"
#include "mmu/x86.h"

/* Segment selectors (GDT order is fixed by trap.S). */
#define METAL_KERNEL_CS 0x08
#define METAL_KERNEL_DS 0x10
#define METAL_USER_CS 0x1B
#define METAL_USER_DS 0x23
#define METAL_TSS_SEL 0x28
#define METAL_DF_TSS_SEL 0x30
#define METAL_USER_RETURN_VECTOR 0x81 /* int from the ring-3 stub back to the kernel */

/* The hardware task state segment (SDM Vol. 3A, figure 8-2). */
struct metal_tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};
extern struct metal_tss metal_tss;

/* What trap.S pushes before calling metal_trap. */
struct metal_frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss; /* only when the trap came from ring 3 */
};

/* Loads the GDT (ring 0 and ring 3 segments, the TSS and the double-fault
 * task's TSS) and the IDT. */
void metal_cpu_init(void);

/* COM1 at 115200 8N1. */
void metal_serial_init(void);
void metal_puts(const char *s);
/* printf to COM1 (klib's format subset), no newline added. */
void metal_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Leaves QEMU through isa-debug-exit with status (enum kmod_exit); halts
 * if there is no such device. */
_Noreturn void metal_exit(uint32_t status);

/*
 * Physical memory without side effects on the tables being observed: the
 * frame is mapped at a fixed low address of the boot directory for the
 * duration of the call (the boot page table's entry is restored after).
 */
void metal_phys_read(paddr_t frame, uint32_t *words);
uint32_t metal_phys_read32(paddr_t pa);
void metal_phys_write32(paddr_t pa, uint32_t val);

/*
 * Prints the stop report (the "stop" line of kernel/metal/report.h) for a
 * fault at cr2 with error code err, with the walk's PDE and PTE as they
 * are now, and leaves with KMOD_EXIT_PANIC.
 */
_Noreturn void metal_stop(const char *kind, uint32_t cr2, uint32_t err, uint32_t eip,
                          const char *msg);

/* Prints a report line: tag, the id if with_id, then the kernel's figures
 * as the kernel last published them (arch_figure). */
void metal_figures(const char *tag, uint32_t id, bool with_id);

/* Privileged instructions. */
static inline uint32_t
metal_read_cr3(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void
metal_write_cr3(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

#endif
