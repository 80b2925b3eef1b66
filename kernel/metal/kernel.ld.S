/*
 * kernel.ld.S - linker script of kernel.elf (run through the C
 * preprocessor for the layout of kernel/bootlayout.h).  Linked at
 * KERNEL_BASE + KERNEL_LOAD_PA, loaded at KERNEL_LOAD_PA: segments carry
 * both addresses, and QEMU and GRUB both turn the (virtual) entry point
 * into a physical one through its segment.  The last segment reaches
 * BOOT_IMAGE_END, so no loader puts a module or its information where the
 * entry builds the boot tables.
 */
#include "kernel/bootlayout.h"

OUTPUT_FORMAT("elf32-i386")
OUTPUT_ARCH(i386)
ENTRY(_start)

PHDRS
{
    text PT_LOAD FLAGS(5); /* read, execute */
    data PT_LOAD FLAGS(6); /* read, write */
    boot PT_LOAD FLAGS(6);
}

SECTIONS
{
    . = KERNEL_BASE + KERNEL_LOAD_PA;
    metal_image_start = .;

    .text : AT(ADDR(.text) - KERNEL_BASE) {
        KEEP(*(.multiboot))
        *(.text.entry)
        *(.text .text.*)
    } :text
    .rodata : AT(ADDR(.rodata) - KERNEL_BASE) {
        *(.rodata .rodata.*)
    } :text
    .data ALIGN(4096) : AT(ADDR(.data) - KERNEL_BASE) {
        *(.data .data.*)
    } :data
    .bss : AT(ADDR(.bss) - KERNEL_BASE) {
        *(.bss .bss.* COMMON)
    } :data
    metal_image_end = .;
    ASSERT(metal_image_end <= KERNEL_BASE + BOOT_INFO_PA,
           "kernel.elf: the image runs into the boot structures (kernel/bootlayout.h)")

    /* boot_info, the boot directory and tables (entry.S): not loaded, but
     * occupied, so that the loader puts nothing there. */
    .boot KERNEL_BASE + BOOT_INFO_PA (NOLOAD) : AT(BOOT_INFO_PA) {
        *(.bootarea)
    } :boot

    /DISCARD/ : {
        *(.comment) *(.note*) *(.eh_frame*)
    }
}
