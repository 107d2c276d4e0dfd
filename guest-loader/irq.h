/*
 * An interrupt line from a VMM device model to the board (the PIC and IOAPIC
 * inputs): the model calls it with its ISA IRQ number and the line's level.
 */
#ifndef KEEL_VMM_IRQ_H
#define KEEL_VMM_IRQ_H

#include <stdbool.h>

typedef void (*irq_line_fn)(void *ctx, unsigned irq, bool level);

#endif
