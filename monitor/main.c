// SPDX-License-Identifier: MIT
/* bt386: run a 32-bit x86 guest by dynamic binary translation. */
#include "monitor/board.h"
#include "monitor/monitor.h"
#include "monitor/options.h"

#include "dbt/trace.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    struct bt_options o;
    char err[512];

    switch (options_parse(argc, argv, &o, err, sizeof(err))) {
    case OPT_EXIT_OK:
        return 0;
    case OPT_ERROR:
        fprintf(stderr, "bt386: %s\n", err);
        return 1;
    case OPT_RUN:
        break;
    }
    if (getenv("BT386_TRACE"))
        dbt_trace_mask = (unsigned)strtoul(getenv("BT386_TRACE"), NULL, 0);
    struct machine *m = machine_create(&o, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "bt386: %s\n", err);
        return 1;
    }
    int status = machine_run(m);
    struct vcpu *v = machine_vcpu(m);
    if (v->shutdown_why[0])
        fprintf(stderr, "bt386: %s\n", v->shutdown_why);
    if (o.stats)
        stats_print(v, stderr);
    machine_destroy(m);
    return status;
}
