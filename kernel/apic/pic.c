/* 8259A initialization words (Intel 8259A data sheet): ICW1 0x11 (edge,
 * cascade, ICW4 needed), ICW2 vector base, ICW3 cascade wiring, ICW4 8086. */
#include "apic/pic.h"
#include "cpu.h"
#include "traps.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_ICW1  0x11
#define PIC_ICW4  0x01
#define PIC1_BASE 0x20 /* vectors 0x20-0x27 */
#define PIC2_BASE 0x28 /* vectors 0x28-0x2f */

/* A masked 8259 can still raise a spurious IRQ 7 or 15; ignore those. */
static void pic_spurious(struct trap_frame *f)
{
    (void)f;
}

void pic_disable(void)
{
    outb(PIC1_CMD, PIC_ICW1);
    outb(PIC2_CMD, PIC_ICW1);
    outb(PIC1_DATA, PIC1_BASE);
    outb(PIC2_DATA, PIC2_BASE);
    outb(PIC1_DATA, 4); /* slave on IRQ 2 */
    outb(PIC2_DATA, 2); /* slave identity */
    outb(PIC1_DATA, PIC_ICW4);
    outb(PIC2_DATA, PIC_ICW4);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    interrupt_register(PIC1_BASE + 7, pic_spurious);
    interrupt_register(PIC2_BASE + 7, pic_spurious);
}
