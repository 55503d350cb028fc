/* SPDX-License-Identifier: MIT */
/* Guest side: the string and memory functions a freestanding kernel needs. */
#include "kstring.h"

/*
 * At -O2 GCC recognises these loops as memset/memcpy and would compile them
 * into calls to themselves; this attribute keeps them as loops.
 */
#define NO_LIBCALLS                                                            \
    __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

NO_LIBCALLS void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}

NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--) /* overlapping with dst above src: copy backwards */
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

const char *str_find(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (; *haystack; haystack++)
        if (memcmp(haystack, needle, n) == 0)
            return haystack;
    return n == 0 ? haystack : NULL;
}
