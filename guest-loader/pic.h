/*
 * The PC's pair of i8259A programmable interrupt controllers (Intel 8259A
 * data sheet), as a PIIX/ICH south bridge presents them: the master at
 * 0x20/0x21, the slave at 0xa0/0xa1 cascaded on the master's IR2, and the
 * edge/level control registers (ELCR) at 0x4d0/0x4d1, which decide each
 * input's trigger mode (ICW1's LTIM bit is ignored; IRQ 0, 1, 2, 8 and 13
 * are always edge-triggered).
 *
 * Supported: the ICW1-ICW4 sequence (single or cascade, ICW4 optional,
 * auto-EOI), OCW1 masks, OCW2 (non-specific, specific and rotating EOIs, set
 * priority, rotate in auto-EOI mode), OCW3 (IRR/ISR reads, the poll command,
 * special mask mode), edge detection and priority rotation. Not modelled:
 * the special fully nested mode, buffered mode and 8080/8085 vectors (the
 * vector is always formed as in 8086 mode: ICW2 bits 7:3 and the IR number).
 * ICW3 is stored but the wiring is fixed (slave on master IR2). ISA IRQ 2 is
 * the cascade and not an input: pic_set_irq() ignores it.
 *
 * Reset state (before any ICW1): every input masked (IMR 0xff), vector base 0,
 * all edge-triggered. ICW1 clears IMR, ISR and the latched requests, as the
 * data sheet's initialization sequence says. Pure: no hypercalls.
 */
#ifndef KEEL_VMM_PIC_H
#define KEEL_VMM_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_CMD  0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD   0xa0
#define PIC_SLAVE_DATA  0xa1
#define PIC_ELCR_MASTER 0x4d0 /* ELCR1: IRQ 0-7, a set bit = level-triggered */
#define PIC_ELCR_SLAVE  0x4d1 /* ELCR2: IRQ 8-15 */
#define PIC_CASCADE_IRQ 2     /* master input the slave's INT drives */
#define PIC_IRQS        16

/* One 8259A. */
struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;     /* input levels last seen (edge detection) */
    uint8_t elcr;      /* a set bit: that input is level-triggered */
    uint8_t elcr_mask; /* the ELCR bits that can be set */
    uint8_t base;      /* ICW2: vector of IR0 */
    uint8_t icw3;      /* as written, not used for routing */
    uint8_t lowest;    /* the IR with the lowest priority (rotation) */
    uint8_t init_step; /* 0: operational; 2, 3, 4: the ICW expected next */
    bool single, icw4_needed, auto_eoi, rotate_aeoi, special_mask;
    bool read_isr; /* OCW3: the command port reads ISR, else IRR */
    bool poll;     /* OCW3 poll: the next read is a poll */
};

struct pic_pair {
    struct pic_chip chip[2]; /* master, slave */
};

void pic_init(struct pic_pair *p);
/* An 8-bit access to port; false when port is not one of the PIC's (then
 * *value is untouched). */
bool pic_io(struct pic_pair *p, uint16_t port, bool in, uint8_t *value);
/* Sets ISA IRQ input irq (0-15; others and 2 ignored) to level. */
void pic_set_irq(struct pic_pair *p, unsigned irq, bool level);
/* The master's INT output: a request that outranks what is in service. */
bool pic_output(const struct pic_pair *p);
/* An INTA cycle: the vector of the highest-priority request (IRR->ISR unless
 * auto-EOI, through the slave for a cascaded request), or the spurious IR7
 * vector of the chip that had nothing (master IR7 or slave IR7 = IRQ 15). */
int pic_acknowledge(struct pic_pair *p);

#endif
