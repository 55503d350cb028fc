/* SPDX-License-Identifier: MIT */
/* The board: a PC wired from the vCPU, memory and devices. */
#ifndef BT386_MONITOR_BOARD_H
#define BT386_MONITOR_BOARD_H

#include <stddef.h>

struct bt_options;
struct machine;
struct vcpu;

/* Build the machine and load the kernel. NULL with a one-line message in
 * err (no "bt386: " prefix) on bad input or a host failure. */
struct machine *machine_create(const struct bt_options *o, char *err,
                               size_t errlen);

/* Run until the guest stops the machine; returns the exit status. */
int machine_run(struct machine *m);

struct vcpu *machine_vcpu(struct machine *m);
void machine_destroy(struct machine *m);

#endif
