/*
 * The i8254 PIT (pit.h). Mode behaviour, the control word, the read-back
 * command and the status byte are the Intel 82C54 data sheet's ("Modes",
 * "Control Word Format", "Read-Back Command"). A counter's state is the
 * number of clocks d it has counted since its counting element was loaded:
 * d = base_ticks + clocks(now - base_ns) while it counts; the count and the
 * output are functions of d and the mode.
 */
#include "kstring.h"
#include "pit.h"

#define NS_PER_S    1000000000ull
#define BIN_MODULUS 0x10000u /* a count of 0 is 2^16 in binary ... */
#define BCD_MODULUS 10000u   /* ... and 10^4 in BCD */
#define NEVER       UINT64_MAX
/* Control word (82C54 "Control Word Format"): SC1:0, RW1:0, M2:0, BCD. */
#define CW_SELECT_SHIFT 6
#define CW_READ_BACK    3 /* SC = 11 */
#define CW_ACCESS_SHIFT 4
#define CW_ACCESS_MASK  3
#define CW_MODE_SHIFT   1
#define CW_MODE_MASK    7
#define CW_BCD          0x01
#define ACCESS_LATCH    0 /* RW = 00: counter latch command */
#define ACCESS_LSB      1
#define ACCESS_MSB      2
#define ACCESS_WORD     3
/* Read-back command: bit 5 = 0 latches counts, bit 4 = 0 latches status,
 * bits 3:1 select counters 2, 1, 0. */
#define RB_NO_COUNT  0x20
#define RB_NO_STATUS 0x10
#define RB_COUNTER0  0x02
/* Status byte: OUTPUT, NULL COUNT, then the control word's bits 5:0. */
#define STATUS_OUT   0x80
#define STATUS_NULL  0x40
#define BYTE_BITS    8
#define BCD_DIGITS   4
#define NIBBLE       0xf
#define NIBBLE_BITS  4
#define DECIMAL      10
#define CONTROL_READ 0xff /* the control word register cannot be read */
/* Port 0x61 bit 4 toggles with each DRAM refresh request: counter 1 at its
 * BIOS count of 18 on a PC/AT, 18 / 1193182 Hz = 15.085 us. */
#define REFRESH_NS 15085u

static uint64_t clocks_in(uint64_t ns)
{
    return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The nanoseconds until clocks_in() reaches ticks (rounded up). */
static uint64_t ns_for(uint64_t ticks)
{
    uint64_t s = ticks / PIT_HZ, r = ticks % PIT_HZ;
    if (s > (NEVER - NS_PER_S) / NS_PER_S)
        return NEVER;
    return s * NS_PER_S + (r * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static unsigned mode_of(const struct pit_channel *c)
{
    return c->mode >= 6 ? c->mode - 4u : c->mode; /* modes 6, 7 are 2, 3 */
}

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? BCD_MODULUS : BIN_MODULUS;
}

/* Clocks counted since the load. Modes 1 and 5 count whatever the gate. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
    unsigned m = mode_of(c);
    if (!c->loaded || (!c->gate && m != 1 && m != 5) || now <= c->base_ns)
        return c->base_ticks;
    return c->base_ticks + clocks_in(now - c->base_ns);
}

/* When elapsed() reaches d (the counter counting meanwhile). */
static uint64_t time_at(const struct pit_channel *c, uint64_t d)
{
    if (d <= c->base_ticks)
        return c->base_ns;
    uint64_t ns = ns_for(d - c->base_ticks);
    return ns > NEVER - c->base_ns ? NEVER : c->base_ns + ns;
}

/* The counting element takes the count register at time t. */
static void start(struct pit_channel *c, uint64_t t)
{
    c->n = c->count;
    c->base_ns = t;
    c->base_ticks = 0;
    c->loaded = true;
    c->null_count = false;
    c->reload_ns = NEVER;
}

/* Modes 2 and 3: a new count takes over at the end of the period. */
static void sync(struct pit_channel *c, uint64_t now)
{
    if (c->reload_ns <= now)
        start(c, c->reload_ns);
}

static bool output(const struct pit_channel *c, uint64_t now)
{
    unsigned m = mode_of(c);
    if (!c->loaded)
        return m != 0;
    uint64_t d = elapsed(c, now);
    switch (m) {
    case 0: /* low until terminal count */
    case 1: /* low from the trigger to terminal count */
        return d >= c->n;
    case 2: /* low for the clock at count 1 */
        return !c->gate || c->n < 2 || d % c->n != c->n - 1u;
    case 3: /* high for the first half (the longer one for odd counts) */
        return !c->gate || d % c->n < (c->n + 1u) / 2;
    default: /* 4, 5: low for the clock at terminal count */
        return d != c->n;
    }
}

/* Mode 3 counts down by two, reloading at each half; an odd count loses one
 * clock on the high half and three at the start of the low half. */
static uint32_t square_count(uint32_t n, uint32_t r)
{
    uint32_t high = (n + 1) / 2;
    if (n % 2 == 0)
        return r < high ? n - 2 * r : n - 2 * (r - high);
    if (r < high)
        return r == 0 ? n : n + 1 - 2 * r;
    r -= high;
    return r == 0 ? n : n - 1 - 2 * r;
}

/* The counting element's value, coded as the counter counts (BCD or not). */
static uint16_t count_value(const struct pit_channel *c, uint64_t now)
{
    uint32_t mod = modulus(c), v;
    uint64_t d = elapsed(c, now);
    if (!c->loaded)
        v = c->count;
    else if (mode_of(c) == 2)
        v = c->n - (uint32_t)(d % c->n);
    else if (mode_of(c) == 3)
        v = square_count(c->n, (uint32_t)(d % c->n));
    else
        v = (uint32_t)((c->n + mod - d % mod) % mod);
    v %= mod;
    if (!c->bcd)
        return (uint16_t)v;
    uint16_t coded = 0;
    for (unsigned i = 0; i < BCD_DIGITS; i++, v /= DECIMAL)
        coded |= (uint16_t)((v % DECIMAL) << (NIBBLE_BITS * i));
    return coded;
}

/* A written count in clocks: 0 is the modulus. */
static uint32_t decode_count(const struct pit_channel *c, uint16_t raw)
{
    uint32_t v = raw;
    if (c->bcd) {
        v = 0;
        for (int i = BCD_DIGITS - 1; i >= 0; i--)
            v = v * DECIMAL + ((raw >> (NIBBLE_BITS * i)) & NIBBLE);
    }
    return v == 0 ? modulus(c) : v;
}

static uint8_t status_byte(const struct pit_channel *c, uint64_t now)
{
    return (uint8_t)((output(c, now) ? STATUS_OUT : 0) | (c->null_count ? STATUS_NULL : 0) |
                     (c->access << CW_ACCESS_SHIFT) | (c->mode << CW_MODE_SHIFT) |
                     (c->bcd ? CW_BCD : 0));
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return; /* a second latch before the read is ignored */
    c->latch = count_value(c, now);
    c->count_latched = true;
}

static void set_gate(struct pit_channel *c, bool level, uint64_t now)
{
    if (c->gate == level)
        return;
    unsigned m = mode_of(c);
    if (!level) { /* modes 0, 2, 3, 4 stop (2 and 3 with the output high) */
        c->base_ticks = elapsed(c, now);
        c->base_ns = now;
        c->reload_ns = NEVER;
        c->gate = false;
        return;
    }
    c->gate = true;
    if (m == 0 || m == 4)
        c->base_ns = now; /* resumes */
    else if (c->have_count)
        start(c, now); /* a rising gate (re)triggers modes 1, 5 and reloads 2, 3 */
}

static void control_word(struct pit *p, uint8_t v, uint64_t now)
{
    unsigned sel = v >> CW_SELECT_SHIFT;
    if (sel == CW_READ_BACK) {
        for (unsigned i = 0; i < PIT_CHANNELS; i++) {
            struct pit_channel *c = &p->ch[i];
            if (!(v & (RB_COUNTER0 << i)))
                continue;
            if (!(v & RB_NO_COUNT))
                latch_count(c, now);
            if (!(v & RB_NO_STATUS) && !c->status_latched) {
                c->status = status_byte(c, now);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    unsigned access = (v >> CW_ACCESS_SHIFT) & CW_ACCESS_MASK;
    if (access == ACCESS_LATCH) {
        latch_count(c, now);
        return;
    }
    bool gate = c->gate;
    memset(c, 0, sizeof(*c)); /* the control logic resets: out to its initial level */
    c->gate = gate;
    c->access = (uint8_t)access;
    c->mode = (v >> CW_MODE_SHIFT) & CW_MODE_MASK;
    c->bcd = v & CW_BCD;
    c->count = c->n = modulus(c);
    c->null_count = true;
    c->reload_ns = NEVER;
}

static void load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
    c->count = decode_count(c, raw);
    c->have_count = true;
    c->null_count = true;
    switch (mode_of(c)) {
    case 0:
    case 4: /* restart with the new count */
        start(c, now);
        break;
    case 2:
    case 3: /* the new count takes over at the end of the period */
        if (!c->loaded)
            start(c, now);
        else if (c->gate)
            c->reload_ns = time_at(c, (elapsed(c, now) / c->n + 1) * c->n);
        break;
    default: /* 1, 5: at the next trigger */
        break;
    }
}

static void write_counter(struct pit_channel *c, uint8_t v, uint64_t now)
{
    switch (c->access) {
    case ACCESS_LSB:
        load(c, v, now);
        break;
    case ACCESS_MSB:
        load(c, (uint16_t)(v << BYTE_BITS), now);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = true;
            c->null_count = true;
            if (mode_of(c) == 0)
                c->loaded = false; /* the first byte stops mode 0, output low */
            return;
        }
        c->write_msb = false;
        load(c, (uint16_t)(c->write_lsb | v << BYTE_BITS), now);
        break;
    }
}

static uint8_t read_counter(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t word = c->count_latched ? c->latch : count_value(c, now);
    bool msb = c->access == ACCESS_MSB || (c->access == ACCESS_WORD && c->read_msb);
    if (c->access == ACCESS_WORD)
        c->read_msb = !c->read_msb;
    if (c->access != ACCESS_WORD || !c->read_msb)
        c->count_latched = false; /* the latch holds until its last byte is read */
    return (uint8_t)(msb ? word >> BYTE_BITS : word);
}

/* Counter 0's next rising edge after now, NEVER when none comes. */
static uint64_t next_edge(const struct pit *p, uint64_t now)
{
    const struct pit_channel *c = &p->ch[0];
    if (!c->loaded || !c->gate)
        return NEVER;
    switch (mode_of(c)) {
    case 0:
        return p->irq_level ? NEVER : time_at(c, c->n);
    case 2:
    case 3:
        if (c->reload_ns != NEVER)
            return c->reload_ns; /* the period's end */
        return time_at(c, (elapsed(c, now) / c->n + 1) * c->n);
    case 4:
        return elapsed(c, now) <= c->n ? time_at(c, c->n + 1ull) : NEVER;
    default:
        return NEVER;
    }
}

/* After counter 0 changed: mode 0's line drops unless it stays past
 * terminal count; the next edge is recomputed. */
static void refresh_irq(struct pit *p, uint64_t now)
{
    const struct pit_channel *c = &p->ch[0];
    bool keep = mode_of(c) == 0 && c->loaded && output(c, now);
    if (p->irq_level && !keep) {
        p->irq_level = false;
        p->irq(p->ctx, 0, false);
    }
    p->irq_next_ns = next_edge(p, now);
}

void pit_init(struct pit *p, irq_line_fn irq, void *ctx)
{
    memset(p, 0, sizeof(*p));
    for (unsigned i = 0; i < PIT_CHANNELS; i++) {
        struct pit_channel *c = &p->ch[i];
        c->access = ACCESS_WORD;
        c->count = c->n = BIN_MODULUS;
        c->reload_ns = NEVER;
        c->gate = i != 2; /* counter 2's gate is port 0x61 bit 0, reset 0 */
    }
    p->irq_next_ns = NEVER;
    p->irq = irq;
    p->ctx = ctx;
}

uint64_t pit_next_event_ns(const struct pit *p, uint64_t now_ns)
{
    (void)now_ns;
    return p->irq_next_ns;
}

/* Time never runs backwards for the model (callers on several threads may
 * read their clocks in one order and get the device's lock in another). */
static uint64_t monotonic(struct pit *p, uint64_t now_ns)
{
    if (now_ns < p->last_ns)
        return p->last_ns;
    p->last_ns = now_ns;
    return now_ns;
}

void pit_advance(struct pit *p, uint64_t now_ns)
{
    now_ns = monotonic(p, now_ns);
    if (p->irq_next_ns <= now_ns) {
        if (mode_of(&p->ch[0]) != 0) {
            p->irq(p->ctx, 0, true);
            p->irq(p->ctx, 0, false);
        } else if (!p->irq_level) {
            p->irq_level = true;
            p->irq(p->ctx, 0, true);
        }
    }
    sync(&p->ch[0], now_ns);
    p->irq_next_ns = next_edge(p, now_ns);
}

static uint8_t read_61(const struct pit *p, uint64_t now)
{
    uint8_t v = p->port61 & PIT_61_WRITE;
    if ((now / REFRESH_NS) & 1)
        v |= PIT_61_REFRESH;
    if (output(&p->ch[2], now))
        v |= PIT_61_OUT2;
    return v;
}

bool pit_io(struct pit *p, uint16_t port, bool in, uint8_t *value, uint64_t now_ns)
{
    if ((port < PIT_COUNTER0 || port > PIT_CONTROL) && port != PIT_PORT_61)
        return false;
    now_ns = monotonic(p, now_ns);
    pit_advance(p, now_ns);
    for (unsigned i = 0; i < PIT_CHANNELS; i++)
        sync(&p->ch[i], now_ns);
    if (port == PIT_PORT_61) {
        if (in) {
            *value = read_61(p, now_ns);
        } else {
            p->port61 = *value & PIT_61_WRITE;
            set_gate(&p->ch[2], *value & PIT_61_GATE2, now_ns);
        }
    } else if (port == PIT_CONTROL) {
        if (in)
            *value = CONTROL_READ;
        else
            control_word(p, *value, now_ns);
    } else if (in) {
        *value = read_counter(&p->ch[port - PIT_COUNTER0], now_ns);
    } else {
        write_counter(&p->ch[port - PIT_COUNTER0], *value, now_ns);
    }
    refresh_irq(p, now_ns);
    return true;
}
