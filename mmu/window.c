// SPDX-License-Identifier: MIT
/* The physical window: guest physical address space as one host range. */
#include "mmu/window.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GIB4 (1ull << 32)

/* Reserve the window with its guards, plus 4 GiB of slack to align the
 * window itself to 4 GiB. */
static uint8_t *reserve_aligned(struct window *w)
{
    size_t len = 2 * GIB4 + 2 * WINDOW_GUARD;
    uint8_t *p = mmap(NULL, len, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    w->reserve = p;
    w->reserve_len = len;
    uintptr_t a = ((uintptr_t)p + WINDOW_GUARD + GIB4 - 1) &
                  ~(uintptr_t)(GIB4 - 1);
    return (uint8_t *)a;
}

int window_create(struct window *w, uint32_t ram_size, char *err,
                  size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->ram_fd = -1;
    w->base = reserve_aligned(w);
    if (!w->base) {
        snprintf(err, errlen, "cannot reserve the guest physical window: %s",
                 strerror(errno));
        return -1;
    }
    w->ram_fd = memfd_create("bt386-ram", MFD_CLOEXEC);
    if (w->ram_fd < 0 || ftruncate(w->ram_fd, ram_size) != 0) {
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM: %s",
                 ram_size >> 20, strerror(errno));
        window_destroy(w);
        return -1;
    }
    void *win = mmap(w->base, ram_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, w->ram_fd, 0);
    void *alias = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                       w->ram_fd, 0);
    if (win == MAP_FAILED || alias == MAP_FAILED) {
        snprintf(err, errlen, "cannot map guest RAM: %s", strerror(errno));
        if (alias != MAP_FAILED)
            munmap(alias, ram_size);
        window_destroy(w);
        return -1;
    }
    w->ram = alias;
    w->ram_size = ram_size;
    return 0;
}

void window_destroy(struct window *w)
{
    if (w->ram)
        munmap(w->ram, w->ram_size);
    if (w->reserve)
        munmap(w->reserve, w->reserve_len);
    if (w->ram_fd >= 0)
        close(w->ram_fd);
    memset(w, 0, sizeof(*w));
    w->ram_fd = -1;
}
