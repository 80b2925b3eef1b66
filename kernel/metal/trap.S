/*
 * trap.S - exception entry stubs, and the round trip to ring 3 that makes
 * arch_user_read/arch_user_write real user-mode accesses.
 */
#define KERNEL_DS 0x10
#define USER_CS 0x1B
#define USER_DS 0x23
#define TSS_ESP0 4

/* Exceptions: a uniform frame (struct metal_frame) for metal_trap(). */
.macro ISR_NOERR n
    .globl metal_isr\n
metal_isr\n:
    push $0
    push $\n
    jmp trap_common
.endm
.macro ISR_ERR n
    .globl metal_isr\n
metal_isr\n:
    push $\n
    jmp trap_common
.endm

    .text
    .code32
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_NOERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_NOERR 29
ISR_ERR 30
ISR_NOERR 31

trap_common:
    pushal
    push %ds
    push %es
    mov $KERNEL_DS, %eax
    mov %ax, %ds
    mov %ax, %es
    push %esp
    call metal_trap
    add $4, %esp
    pop %es
    pop %ds
    popal
    add $8, %esp
    iret

    .section .rodata
    .balign 4
    .globl metal_isr_table
metal_isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long metal_isr\n
    .endr

/*
 * uint32_t metal_user_call(uint32_t eip, uint32_t va, uint32_t val):
 * runs the ring-3 stub at eip with EBX = va and EAX = val, and returns the
 * EAX the stub hands back through int $0x81.  The kernel's callee-saved
 * registers and stack stay below TSS.esp0, where the return finds them.
 */
    .text
    .globl metal_user_call
metal_user_call:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, metal_user_ctx
    mov %esp, metal_tss + TSS_ESP0
    mov 20(%esp), %ecx
    mov 24(%esp), %ebx
    mov 28(%esp), %eax
    mov $USER_DS, %edx
    mov %dx, %ds
    mov %dx, %es
    push $USER_DS
    push $0 /* the stub uses no stack */
    push $0x2 /* EFLAGS: interrupts off */
    push $USER_CS
    push %ecx
    iret

    .globl metal_isr_user_return
metal_isr_user_return:
    mov $KERNEL_DS, %edx
    mov %dx, %ds
    mov %dx, %es
    mov metal_user_ctx, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .bss
    .balign 4
metal_user_ctx:
    .skip 4

/* The ring-3 stubs: one page, mapped user-accessible only while one runs. */
    .section .text.user, "ax"
    .balign 4096
    .globl metal_ustub_page
metal_ustub_page:
    .globl metal_ustub_read1, metal_ustub_read2, metal_ustub_read4
    .globl metal_ustub_write1, metal_ustub_write2, metal_ustub_write4
metal_ustub_read1:
    movzbl (%ebx), %eax
    int $0x81
metal_ustub_read2:
    movzwl (%ebx), %eax
    int $0x81
metal_ustub_read4:
    movl (%ebx), %eax
    int $0x81
metal_ustub_write1:
    movb %al, (%ebx)
    int $0x81
metal_ustub_write2:
    movw %ax, (%ebx)
    int $0x81
metal_ustub_write4:
    movl %eax, (%ebx)
    int $0x81
    .balign 4096

    .section .note.GNU-stack, "", @progbits
