/*
 * cpu.c - the bare-metal kernel's CPU tables: a flat GDT with ring-0 and
 * ring-3 segments and two TSSs (the kernel's, and a double-fault task with
 * its own stack and the boot directory), and an IDT whose exception
 * handlers report instead of letting the machine reset.
 */
#include <stddef.h>

#include "kernel/bootlayout.h"
#include "kernel/arch.h"
#include "kernel/metal/metal.h"

struct metal_tss metal_tss;
static struct metal_tss df_tss;
static uint8_t df_stack[8192] __attribute__((aligned(16)));

static uint64_t gdt[7];
static uint64_t idt[256];

extern const uint32_t metal_isr_table[32];
void metal_isr_user_return(void);
void metal_trap(struct metal_frame *f);
void metal_page_fault(struct metal_frame *f);

static uint64_t
seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
           ((uint64_t)(flags & 0xF) << 52) | ((uint64_t)(base >> 24) << 56);
}

/* type_attr: 0x8E ring-0 interrupt gate, 0xEE ring-3 interrupt gate, 0x85 task gate. */
static uint64_t
gate(uint32_t offset, uint16_t sel, uint8_t type_attr)
{
    return (uint64_t)(offset & 0xFFFF) | ((uint64_t)sel << 16) | ((uint64_t)type_attr << 40) |
           ((uint64_t)(offset >> 16) << 48);
}

static const char *const exc_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general-protection fault",
    "page fault",
    "reserved",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection exception",
};

/* The double-fault task: the faulting context is in metal_tss (saved by the
 * task switch); report it. */
static void __attribute__((noreturn)) df_task(void)
{
    metal_stop("double-fault", arch_read_cr2(), 0, metal_tss.eip,
               "double fault (an exception while delivering another)");
}

void
metal_trap(struct metal_frame *f)
{
    if (f->vector == 14) {
        metal_page_fault(f);
        return;
    }
    const char *name =
        f->vector < 32 && exc_names[f->vector] != NULL ? exc_names[f->vector] : "exception";
    const char *kind = f->vector == 13 ? "general-protection" : "exception";
    metal_stop(kind, arch_read_cr2(), f->error, f->eip, name);
}

void
metal_cpu_init(void)
{
    gdt[0] = 0;
    gdt[METAL_KERNEL_CS >> 3] = seg(0, 0xFFFFF, 0x9A, 0xC);
    gdt[METAL_KERNEL_DS >> 3] = seg(0, 0xFFFFF, 0x92, 0xC);
    gdt[METAL_USER_CS >> 3] = seg(0, 0xFFFFF, 0xFA, 0xC);
    gdt[METAL_USER_DS >> 3] = seg(0, 0xFFFFF, 0xF2, 0xC);
    gdt[METAL_TSS_SEL >> 3] = seg((uint32_t)&metal_tss, sizeof(metal_tss) - 1, 0x89, 0);
    gdt[METAL_DF_TSS_SEL >> 3] = seg((uint32_t)&df_tss, sizeof(df_tss) - 1, 0x89, 0);

    metal_tss.ss0 = METAL_KERNEL_DS;
    metal_tss.iomap = sizeof(metal_tss);
    df_tss.cr3 = BOOT_PD_PA;
    df_tss.eip = (uint32_t)df_task;
    df_tss.eflags = 0x2;
    df_tss.esp = (uint32_t)(df_stack + sizeof(df_stack) - 16);
    df_tss.cs = METAL_KERNEL_CS;
    df_tss.ss = df_tss.ds = df_tss.es = df_tss.fs = df_tss.gs = METAL_KERNEL_DS;
    df_tss.ss0 = METAL_KERNEL_DS;
    df_tss.esp0 = df_tss.esp;
    df_tss.iomap = sizeof(df_tss);

    for (uint32_t v = 0; v < 32; v++)
        idt[v] = gate(metal_isr_table[v], METAL_KERNEL_CS, 0x8E);
    idt[8] = gate(0, METAL_DF_TSS_SEL, 0x85);
    idt[METAL_USER_RETURN_VECTOR] = gate((uint32_t)metal_isr_user_return, METAL_KERNEL_CS, 0xEE);

    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } gdtr = {sizeof(gdt) - 1, (uint32_t)gdt}, idtr = {sizeof(idt) - 1, (uint32_t)idt};
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "mov %2, %%ds\n\t"
                     "mov %2, %%es\n\t"
                     "mov %2, %%ss\n\t"
                     "mov %2, %%fs\n\t"
                     "mov %2, %%gs\n\t"
                     "lidt %3\n\t"
                     "ltr %4"
                     :
                     : "m"(gdtr), "i"(METAL_KERNEL_CS), "r"((uint16_t)METAL_KERNEL_DS), "m"(idtr),
                       "r"((uint16_t)METAL_TSS_SEL)
                     : "memory");
}
