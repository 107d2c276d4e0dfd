/*
 * The i8254 programmable interval timer (Intel 82C54 data sheet) as a PC
 * wires it: a 1193182 Hz input clock, counters 0-2 at 0x40-0x42, the control
 * word at 0x43; counter 0's output is ISA IRQ 0, counters 0 and 1 are always
 * gated on, counter 2's gate is bit 0 of port 0x61 (NMI status and control),
 * whose bit 5 reads counter 2's output and bit 4 the refresh toggle.
 *
 * Time: every call takes now_ns (nanoseconds, any zero; a now_ns earlier than
 * one already seen is taken as that one, so the model's time never goes
 * back); counts derive from the time since a counter started, so the model
 * never needs a tick. Supported: modes 0-5 (6 and 7 act as 2 and 3), binary and BCD
 * counting, the four access modes, the counter latch and read-back commands
 * (count and status, null count included), the gate rules of every mode.
 *
 * Simplifications:
 * - a written count is in the counting element at once (the data sheet loads
 *   it on the next clock pulse): a mode 0 count N reaches terminal count N
 *   clocks after the write, not N + 1, and null count clears at the write;
 * - modes 2 and 3 take a new count (without a control word) at the end of the
 *   current period (mode 3 on hardware: the end of the current half-cycle);
 * - modes 1 and 5 read back the written count until the gate triggers them
 *   (on hardware the counting element is undefined then).
 * Reset state (the BIOS programs the counters; Keel's guests start without
 * one): every counter in mode 0, lobyte/hibyte, with no count: nothing
 * counts, outputs low, no interrupts.
 *
 * IRQ 0 (irq(ctx, 0, level)): mode 0 raises the line at terminal count and
 * lowers it when the counter is written or reprogrammed. Modes 2 and 3 give a
 * rising edge at the start of every period, mode 4 one at the end of its
 * strobe, each reported as irq(true) then irq(false); several periods that
 * fell due before one pit_advance() make one edge (lost ticks, as on a
 * loaded host). Modes 1 and 5 never fire on counter 0 (its gate never rises).
 * pit_io() first raises what fell due (pit_advance), so an I/O access may
 * call irq() too. Pure: no hypercalls.
 */
#ifndef KEEL_VMM_PIT_H
#define KEEL_VMM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

#define PIT_HZ         1193182u /* the 82C54's input clock on a PC (14.31818 MHz / 12) */
#define PIT_COUNTER0   0x40
#define PIT_COUNTER2   0x42
#define PIT_CONTROL    0x43
#define PIT_PORT_61    0x61 /* NMI status and control (PIIX/ICH) */
#define PIT_CHANNELS   3
#define PIT_61_GATE2   0x01 /* counter 2 gate */
#define PIT_61_SPKR    0x02 /* speaker data enable (stored only) */
#define PIT_61_WRITE   0x0f /* the bits a write keeps */
#define PIT_61_REFRESH 0x10
#define PIT_61_OUT2    0x20 /* counter 2 output */

struct pit_channel {
    uint8_t mode;   /* control word bits 3:1 as written (0-7) */
    uint8_t access; /* control word bits 5:4: 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    bool have_count; /* a count was written since the control word */
    bool loaded;     /* counting element loaded (triggered, in modes 1 and 5) */
    bool null_count; /* status bit 6 */
    bool write_msb;  /* access 3: the next byte written is the MSB */
    bool read_msb;   /* access 3: the next byte read is the MSB */
    bool count_latched, status_latched;
    uint8_t write_lsb;   /* access 3: the LSB already written */
    uint8_t status;      /* latched status */
    uint16_t latch;      /* latched count (BCD-coded in BCD mode) */
    uint32_t count;      /* count register: 1..65536 (1..10000 in BCD) clocks */
    uint32_t n;          /* the count the counting element runs with */
    uint64_t base_ns;    /* when counting (re)started */
    uint64_t base_ticks; /* clocks counted since the load, before base_ns */
    uint64_t reload_ns;  /* modes 2, 3: when a new count takes over (UINT64_MAX: none) */
};

struct pit {
    struct pit_channel ch[PIT_CHANNELS];
    uint8_t port61;       /* bits 3:0 as written */
    bool irq_level;       /* IRQ 0 as last reported */
    uint64_t irq_next_ns; /* counter 0's next rising edge not yet reported */
    uint64_t last_ns;     /* the latest now_ns seen: an earlier one counts as it */
    irq_line_fn irq;
    void *ctx;
};

void pit_init(struct pit *p, irq_line_fn irq, void *ctx); /* counter 0 -> irq(ctx, 0, level) */
/* An 8-bit access to port (0x40-0x43, 0x61); false when port is not the
 * PIT's (then *value is untouched). */
bool pit_io(struct pit *p, uint16_t port, bool in, uint8_t *value, uint64_t now_ns);
/* When counter 0's output next rises (a time <= now_ns: due now), UINT64_MAX
 * if never (until reprogrammed). */
uint64_t pit_next_event_ns(const struct pit *p, uint64_t now_ns);
/* Raises what fell due by now_ns. */
void pit_advance(struct pit *p, uint64_t now_ns);

#endif
