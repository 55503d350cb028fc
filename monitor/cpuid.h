/* SPDX-License-Identifier: MIT */
/* The CPUID model: a P6-class processor advertising what bt386 implements. */
#ifndef BT386_MONITOR_CPUID_H
#define BT386_MONITOR_CPUID_H

#include <stdint.h>

/* Fill out[] = {EAX, EBX, ECX, EDX} for CPUID leaf (and subleaf). */
void cpuid_query(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
