/*
 * portio.h - x86 port I/O for the bare-metal kernels: kernel/metal/ (by
 * way of metal.h) and the QEMU reference kernel bench/qref/.
 */
#ifndef PAGESIM_METAL_PORTIO_H
#define PAGESIM_METAL_PORTIO_H

#include <stdint.h>

static inline void
metal_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
metal_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
