/*
 * klib.c - memory and string routines and a small formatter for kernel
 * code (klib.h).  Word-sized where alignment allows: on the simulator each
 * word is one checked access instead of four.
 */
#include "kernel/klib.h"
#include "kernel/arch.h"

void *
memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint32_t w = (uint8_t)c * 0x01010101u;
    while (n > 0 && ((uintptr_t)d & 3)) {
        *d++ = (uint8_t)c;
        n--;
    }
    for (; n >= 4; n -= 4, d += 4)
        *(uint32_t *)d = w;
    while (n-- > 0)
        *d++ = (uint8_t)c;
    return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n-- > 0)
        d[n] = s[n];
    return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t
kstrlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int
kstrcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

struct out {
    char *buf;
    size_t len, n;
};

static void
put(struct out *o, char c)
{
    if (o->n + 1 < o->len)
        o->buf[o->n] = c;
    o->n++;
}

static void
put_num(struct out *o, uint32_t v, unsigned base, bool neg, unsigned width, char pad)
{
    char tmp[12];
    unsigned k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (neg)
        tmp[k++] = '-';
    while (width > k) {
        put(o, pad);
        width--;
    }
    while (k > 0)
        put(o, tmp[--k]);
}

int
kvsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
    struct out o = {buf, len, 0};
    for (; *fmt != '\0'; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        if (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            put_num(&o, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            put_num(&o, va_arg(ap, unsigned), 10, false, width, pad);
            break;
        case 'x':
            put_num(&o, va_arg(ap, unsigned), 16, false, width, pad);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t l = kstrlen(s);
            for (; width > l; width--)
                put(&o, ' ');
            while (*s != '\0')
                put(&o, *s++);
            break;
        }
        case '\0':
            fmt--;
            break;
        default:
            put(&o, *fmt);
            break;
        }
    }
    if (len > 0)
        buf[o.n < len ? o.n : len - 1] = '\0';
    return (int)o.n;
}

void
kprintf(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    arch_log(line);
}
