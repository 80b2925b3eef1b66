/*
 * entry.S - Multiboot header and entry of the QEMU reference kernel
 * (bench/qref/): the loader jumps to _start with paging off; the entry
 * moves onto its own stack and calls qref_main, which never returns.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .code32
    .globl _start
_start:
    cli
    cld
    mov $qref_stack_top, %esp
    xor %ebp, %ebp
    call qref_main
1:  cli
    hlt
    jmp 1b

    .section .bss
    .balign 16
qref_stack:
    .skip 65536
qref_stack_top:

    .section .note.GNU-stack, "", @progbits
