/*
 * entry.S - the Multiboot header and the 32-bit entry of the bare-metal
 * kernel.  The loader jumps to _start (physical) with paging off; the
 * entry builds the boot page directory and tables at their fixed places
 * (kernel/bootlayout.h: physical 0..16 MiB mapped at 0 and at KERNEL_BASE,
 * the same tables the simulator's loader writes), turns paging on, moves to
 * the higher half and calls metal_main(magic, mbi) on the kernel stack.
 */
#include "kernel/bootlayout.h"
#include "kernel/metal/multiboot.h"

#define PTE_PW 3 /* present, writable */

    .section .multiboot, "a"
    .balign 4
    .long MB_HEADER_MAGIC
    .long MB_HEADER_FLAGS
    .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %esi /* Multiboot magic */
    mov %ebx, %edi /* Multiboot information, physical */

    /* Boot page tables: frame i at entry i, present and writable. */
    mov $BOOT_PT_PA, %edx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    or $PTE_PW, %eax
    mov %eax, (%edx, %ecx, 4)
    inc %ecx
    cmp $(EARLY_MAP_SIZE >> 12), %ecx
    jb 1b

    /* Boot directory: empty but for the early mapping, at 0 and KERNEL_BASE. */
    mov $BOOT_PD_PA, %edx
    xor %ecx, %ecx
2:  movl $0, (%edx, %ecx, 4)
    inc %ecx
    cmp $1024, %ecx
    jb 2b
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $12, %eax
    add $(BOOT_PT_PA + PTE_PW), %eax
    mov %eax, (%edx, %ecx, 4)
    mov %eax, ((KERNEL_BASE >> 22) * 4)(%edx, %ecx, 4)
    inc %ecx
    cmp $(EARLY_MAP_SIZE >> 22), %ecx
    jb 3b

    /* Paging on (PG, WP, PE), then on to the higher half. */
    mov %edx, %cr3
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0
    lea 4f, %eax
    jmp *%eax
4:  mov $metal_stack_top, %esp
    xor %ebp, %ebp
    push %edi
    push %esi
    call metal_main
5:  cli
    hlt
    jmp 5b

    .section .bootarea, "aw", @nobits
    .skip BOOT_IMAGE_END - BOOT_INFO_PA

    .section .bss
    .balign 16
    .globl metal_stack_bottom, metal_stack_top
metal_stack_bottom:
    .skip 65536
metal_stack_top:

    .section .note.GNU-stack, "", @progbits
