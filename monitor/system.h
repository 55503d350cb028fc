/* SPDX-License-Identifier: MIT */
/* System instructions: task and LDT registers, descriptor queries, MSRs,
 * SYSENTER/SYSEXIT. Each returns 0, or -1 after raising the fault. */
#ifndef BT386_MONITOR_SYSTEM_H
#define BT386_MONITOR_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

int sys_lldt(struct vcpu *v, uint16_t sel);
int sys_ltr(struct vcpu *v, uint16_t sel);
/* LAR/LSL and VERR/VERW: the answer for ZF (and *out for LAR/LSL). */
bool sys_lar_lsl(struct vcpu *v, uint16_t sel, bool lar, uint32_t *out);
bool sys_verify(struct vcpu *v, uint16_t sel, bool write);
/* RDMSR/WRMSR of an MSR the model has: 0; otherwise -1 (caller: #GP). */
int sys_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int sys_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
int sys_sysenter(struct vcpu *v);
int sys_sysexit(struct vcpu *v);

#endif
