/* SPDX-License-Identifier: MIT */
/* Interrupt lines: a device raises a wire, it never calls the PIC itself. */
#ifndef BT386_DEVICES_IRQ_H
#define BT386_DEVICES_IRQ_H

struct irq_line {
    void (*set_irq)(void *opaque, int irq, int level); /* level 0 or 1 */
    void *opaque;
    int irq;
};

static inline void irq_set(const struct irq_line *line, int level)
{
    if (line->set_irq)
        line->set_irq(line->opaque, line->irq, level);
}

#endif
