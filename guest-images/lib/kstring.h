/* SPDX-License-Identifier: MIT */
/* Guest side: the string and memory functions a freestanding kernel needs. */
#ifndef GUEST_KSTRING_H
#define GUEST_KSTRING_H

#include <stddef.h>

/* GCC may emit calls to these four even with -ffreestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
/* Return the first occurrence of needle in haystack, or NULL. */
const char *str_find(const char *haystack, const char *needle);

#endif
