/*
 * The i8259A pair (pic.h). Register and command layouts are the Intel 8259A
 * data sheet's ("Programming the 8259A": ICW1-ICW4, OCW1-OCW3); the ELCR is
 * the PIIX/ICH one (ELCR1/ELCR2 at 0x4d0/0x4d1).
 *
 * The slave's INT output drives the master's IR2 as a level: IRR2 follows it
 * and is never latched. (A latched edge, as on an ISA bus, would lose a
 * request when the slave keeps INT asserted across an acknowledge, e.g. in
 * auto-EOI mode with two requests pending.)
 */
#include "kstring.h"
#include "pic.h"

#define MASTER 0
#define SLAVE  1

/* Command port (A0 = 0) writes: bit 4 set is ICW1, else bit 3 set is OCW3,
 * else OCW2. */
#define CMD_ICW1 0x10
#define CMD_OCW3 0x08
/* ICW1 bits. */
#define ICW1_IC4  0x01 /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single 8259A, no ICW3 */
/* ICW2: vector bits T7-T3 (8086 mode). */
#define ICW2_BASE_MASK 0xf8
/* ICW4 bits (uPM, BUF, M/S and SFNM are accepted and ignored). */
#define ICW4_AEOI 0x02
/* OCW2: bits 7:5 are R, SL, EOI; bits 2:0 the level L. */
#define OCW2_SHIFT          5
#define OCW2_LEVEL          0x07
#define OCW2_CLEAR_ROT_AEOI 0 /* rotate in auto-EOI mode (clear) */
#define OCW2_NONSPEC_EOI    1
#define OCW2_NOP            2
#define OCW2_SPEC_EOI       3
#define OCW2_SET_ROT_AEOI   4 /* rotate in auto-EOI mode (set) */
#define OCW2_ROT_NONSPEC    5 /* rotate on non-specific EOI */
#define OCW2_SET_PRIORITY   6
#define OCW2_ROT_SPEC       7 /* rotate on specific EOI */
/* OCW3 bits. */
#define OCW3_RIS  0x01 /* with RR: read ISR (else IRR) */
#define OCW3_RR   0x02
#define OCW3_POLL 0x04
#define OCW3_SMM  0x20 /* with ESMM: set (else reset) special mask mode */
#define OCW3_ESMM 0x40
/* Poll word: I (an interrupt was pending) and W2-W0 its level. */
#define POLL_INT 0x80
#define SPURIOUS 7 /* IR7: the "default" vector of an INTA with no request */
#define IRQS_PER 8
/* PIIX ELCR: IRQ 0, 1, 2 (ELCR1 bits 0-2) and 8, 13 (ELCR2 bits 0, 5) are
 * reserved, always edge. */
#define ELCR1_MASK 0xf8
#define ELCR2_MASK 0xde

/* The highest-priority IR of bits: IR (lowest + 1) mod 8 ranks first. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
    for (unsigned i = 1; i <= IRQS_PER; i++) {
        unsigned irq = (c->lowest + i) % IRQS_PER;
        if (bits & (1u << irq))
            return (int)irq;
    }
    return -1;
}

static unsigned rank(const struct pic_chip *c, int irq)
{
    return ((unsigned)irq - c->lowest - 1) % IRQS_PER;
}

/* In special mask mode a masked level in service blocks nothing and a
 * non-specific EOI leaves it alone. */
static uint8_t in_service(const struct pic_chip *c)
{
    return c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
}

/* The IR the chip's INT output asks for, or -1 when INT is low. */
static int request(const struct pic_chip *c)
{
    int req = highest(c, c->irr & ~c->imr);
    if (req < 0)
        return -1;
    int cur = highest(c, in_service(c));
    if (cur >= 0 && rank(c, req) >= rank(c, cur))
        return -1;
    return req;
}

/* Edge: IRR latches on a rising edge; level: IRR follows the line. */
static void set_line(struct pic_chip *c, unsigned ir, bool level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (c->elcr & bit) {
        c->irr = level ? c->irr | bit : c->irr & ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit;
    }
    c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The slave's INT to the master's IR2 (a level: see the file comment). */
static void update(struct pic_pair *p)
{
    struct pic_chip *m = &p->chip[MASTER];
    uint8_t bit = 1u << PIC_CASCADE_IRQ;
    bool intr = request(&p->chip[SLAVE]) >= 0;
    m->irr = intr ? m->irr | bit : m->irr & ~bit;
    m->lines = intr ? m->lines | bit : m->lines & ~bit;
}

/* The INTA (or poll) of ir: IRR -> ISR. A level request stays in IRR while
 * its line is high; ISR then blocks it until the EOI. */
static void ack(struct pic_chip *c, int ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (!(c->elcr & bit))
        c->irr &= ~bit;
    if (!c->auto_eoi)
        c->isr |= bit;
    else if (c->rotate_aeoi)
        c->lowest = (uint8_t)ir;
}

static void chip_reset(struct pic_chip *c, uint8_t elcr_mask)
{
    memset(c, 0, sizeof(*c));
    c->imr = 0xff;
    c->lowest = IRQS_PER - 1;
    c->elcr_mask = elcr_mask;
}

void pic_init(struct pic_pair *p)
{
    chip_reset(&p->chip[MASTER], ELCR1_MASK);
    chip_reset(&p->chip[SLAVE], ELCR2_MASK);
}

/* ICW1: the data sheet's initialization steps a) to f). */
static void icw1(struct pic_chip *c, uint8_t v)
{
    c->single = v & ICW1_SNGL;
    c->icw4_needed = v & ICW1_IC4;
    c->init_step = 2;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->lines & c->elcr; /* edge sense reset: a new rising edge is needed */
    c->lowest = IRQS_PER - 1;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    if (!c->icw4_needed)
        c->auto_eoi = false;
}

static void ocw2(struct pic_chip *c, uint8_t v)
{
    uint8_t level = v & OCW2_LEVEL;
    int ir;
    switch (v >> OCW2_SHIFT) {
    case OCW2_CLEAR_ROT_AEOI:
        c->rotate_aeoi = false;
        break;
    case OCW2_SET_ROT_AEOI:
        c->rotate_aeoi = true;
        break;
    case OCW2_NONSPEC_EOI:
    case OCW2_ROT_NONSPEC:
        ir = highest(c, in_service(c));
        if (ir < 0)
            break;
        c->isr &= (uint8_t) ~(1u << ir);
        if (v >> OCW2_SHIFT == OCW2_ROT_NONSPEC)
            c->lowest = (uint8_t)ir;
        break;
    case OCW2_SPEC_EOI:
        c->isr &= (uint8_t) ~(1u << level);
        break;
    case OCW2_ROT_SPEC:
        c->isr &= (uint8_t) ~(1u << level);
        c->lowest = level;
        break;
    case OCW2_SET_PRIORITY:
        c->lowest = level;
        break;
    case OCW2_NOP:
    default:
        break;
    }
}

static void ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & OCW3_POLL)
        c->poll = true;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    if (v & OCW3_ESMM)
        c->special_mask = v & OCW3_SMM;
}

/* ICW2-ICW4 while initializing, else OCW1. */
static void write_data(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->base = v & ICW2_BASE_MASK;
        c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:
        c->auto_eoi = v & ICW4_AEOI;
        c->init_step = 0;
        break;
    default:
        c->imr = v;
        break;
    }
}

/* A poll command's read: acknowledges on this chip alone (a guest that polls
 * the master and sees IR2 polls the slave next). */
static uint8_t poll_read(struct pic_chip *c)
{
    c->poll = false;
    int ir = request(c);
    if (ir < 0)
        return 0;
    ack(c, ir);
    return (uint8_t)(POLL_INT | ir);
}

static void chip_io(struct pic_chip *c, bool data_port, bool in, uint8_t *value)
{
    if (in) {
        if (c->poll)
            *value = poll_read(c);
        else if (data_port)
            *value = c->imr;
        else
            *value = c->read_isr ? c->isr : c->irr;
        return;
    }
    uint8_t v = *value;
    if (data_port)
        write_data(c, v);
    else if (v & CMD_ICW1)
        icw1(c, v);
    else if (v & CMD_OCW3)
        ocw3(c, v);
    else
        ocw2(c, v);
}

static void elcr_io(struct pic_chip *c, bool in, uint8_t *value)
{
    if (in) {
        *value = c->elcr;
        return;
    }
    c->elcr = *value & c->elcr_mask;
    c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
}

bool pic_io(struct pic_pair *p, uint16_t port, bool in, uint8_t *value)
{
    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
        chip_io(&p->chip[MASTER], port & 1, in, value);
        break;
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA:
        chip_io(&p->chip[SLAVE], port & 1, in, value);
        break;
    case PIC_ELCR_MASTER:
    case PIC_ELCR_SLAVE:
        elcr_io(&p->chip[port - PIC_ELCR_MASTER], in, value);
        break;
    default:
        return false;
    }
    update(p);
    return true;
}

void pic_set_irq(struct pic_pair *p, unsigned irq, bool level)
{
    if (irq >= PIC_IRQS || irq == PIC_CASCADE_IRQ)
        return;
    set_line(&p->chip[irq / IRQS_PER], irq % IRQS_PER, level);
    update(p);
}

bool pic_output(const struct pic_pair *p)
{
    return request(&p->chip[MASTER]) >= 0;
}

int pic_acknowledge(struct pic_pair *p)
{
    struct pic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    int ir = request(m);
    if (ir < 0)
        return m->base + SPURIOUS;
    ack(m, ir);
    int vector = m->base + ir;
    if (ir == PIC_CASCADE_IRQ && !m->single) {
        int sir = request(s);
        if (sir < 0) {
            vector = s->base + SPURIOUS;
        } else {
            ack(s, sir);
            vector = s->base + sir;
        }
    }
    update(p);
    return vector;
}
