/* SPDX-License-Identifier: MIT */
/* Segment and gate descriptor fields (SDM Vol. 3, 3.4.5 and 6.11). */
#ifndef BT386_MONITOR_DESC_H
#define BT386_MONITOR_DESC_H

#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) ((unsigned)((d) >> 44) & 1)
#define DESC_DPL(d) ((int)((d) >> 45) & 3)
#define DESC_P(d) ((unsigned)((d) >> 47) & 1)

/* Code and data segment types (S = 1). */
#define TYPE_CODE 0x8 /* code (vs data) segment */
#define TYPE_CONFORMING 0x4
#define TYPE_READABLE 0x2 /* code: readable; data: writable */

/* System descriptor types (S = 0). */
#define SYS_TSS16 0x1
#define SYS_LDT 0x2
#define SYS_TSS16_BUSY 0x3
#define SYS_TSS32 0x9
#define SYS_TSS32_BUSY 0xb
#define TSS_BUSY 0x2 /* the busy bit of a TSS type */
#define GATE_TASK 0x5
#define GATE_INT16 0x6
#define GATE_TRAP16 0x7
#define GATE_INT32 0xe
#define GATE_TRAP32 0xf

#endif
