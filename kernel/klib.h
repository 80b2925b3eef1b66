/*
 * klib.h - the kernel's own string and memory routines.  Kernel code must
 * use these, never libc: on the simulator every byte they touch goes
 * through the access hooks like any other kernel access.
 */
#ifndef PAGESIM_KLIB_H
#define PAGESIM_KLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t kstrlen(const char *s);
int kstrcmp(const char *a, const char *b);

/*
 * A small snprintf: %d %u %x %s %c and %%, with an optional 0 flag, width
 * and an l length (ignored: long is 32 bits on the kernel's target).
 * Returns the length the full output would have had.
 */
int kvsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

/* Formats one log line and hands it to arch_log(). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
