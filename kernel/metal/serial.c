/*
 * serial.c - COM1, the bare-metal kernel's only output: the report
 * (kernel/metal/report.h) and the kernel log.
 */
#include <stdarg.h>

#include "kernel/klib.h"
#include "kernel/metal/metal.h"

#define COM1 0x3F8
#define COM_DATA 0
#define COM_IER 1
#define COM_FCR 2
#define COM_LCR 3
#define COM_MCR 4
#define COM_LSR 5
#define COM_LSR_THRE 0x20 /* transmit holding register empty */

void
metal_serial_init(void)
{
    metal_outb(COM1 + COM_IER, 0x00);  /* no interrupts */
    metal_outb(COM1 + COM_LCR, 0x80);  /* divisor latch */
    metal_outb(COM1 + COM_DATA, 0x01); /* 115200 baud */
    metal_outb(COM1 + COM_IER, 0x00);
    metal_outb(COM1 + COM_LCR, 0x03); /* 8N1 */
    metal_outb(COM1 + COM_FCR, 0xC7); /* FIFO on, cleared */
    metal_outb(COM1 + COM_MCR, 0x03); /* DTR, RTS */
}

static void
metal_putc(char c)
{
    for (unsigned spin = 0; spin < 100000; spin++)
        if (metal_inb(COM1 + COM_LSR) & COM_LSR_THRE)
            break;
    metal_outb(COM1 + COM_DATA, (uint8_t)c);
}

void
metal_puts(const char *s)
{
    while (*s != '\0')
        metal_putc(*s++);
}

void
metal_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    metal_puts(buf);
}
