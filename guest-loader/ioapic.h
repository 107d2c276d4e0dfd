/*
 * The I/O APIC (Intel 82093AA data sheet; ICH I/O APIC, version 0x20 with an
 * EOI register), 24 pins, at IOAPIC_BASE: IOREGSEL at +0x00 (the register
 * index in its low byte), IOWIN at +0x10, EOI at +0x40. Indirect registers:
 * ID (0x00, bits 27:24), VER (0x01), ARB (0x02, loaded with the ID when ID is
 * written) and the redirection table (0x10 + 2n: low, 0x11 + 2n: high).
 *
 * An unmasked pin delivers its redirection entry as an MSI (Intel SDM Vol. 3A
 * 10.11) through send(): edge-triggered on the pin's active edge, level-
 * triggered while the pin is active and Remote IRR is clear (Remote IRR is then
 * set, and cleared by ioapic_eoi() or the EOI register). Delivery is immediate,
 * so Delivery Status always reads 0. Edges on a masked pin are lost; unmasking
 * a level entry whose pin is active delivers it. Writing an entry as
 * edge-triggered clears its Remote IRR (as the hardware Linux's "edge, then
 * level" Remote IRR workaround relies on).
 *
 * MMIO accesses: reads of any size and alignment return the registers' bytes
 * (IOREGSEL, IOWIN, and zeros elsewhere, the write-only EOI register
 * included); writes take effect only when 4 bytes wide and 4-byte aligned,
 * others are ignored. The ID is 4 bits (27:24); the destination field is
 * bits 63:56 (no extended destination ID). Pins are electrical levels and
 * start low: the board holds an active-low pin high while it is idle.
 * Pure: no hypercalls.
 */
#ifndef KEEL_VMM_IOAPIC_H
#define KEEL_VMM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_SIZE 0x1000
#define IOAPIC_PINS 24

/* MMIO register offsets from IOAPIC_BASE. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN    0x10
#define IOAPIC_EOI      0x40

/* Indirect register indices. */
#define IOAPIC_REG_ID  0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_RTE 0x10 /* + 2n: entry n's low dword, + 2n + 1: its high dword */

/* Redirection table entry bits (82093AA 3.2.4). */
#define IOAPIC_RTE_VECTOR     0xffull
#define IOAPIC_RTE_DELMODE_SH 8 /* 10:8: fixed, lowest, SMI, -, NMI, INIT, -, ExtINT */
#define IOAPIC_RTE_DELMODE    (7ull << IOAPIC_RTE_DELMODE_SH)
#define IOAPIC_RTE_LOGICAL    (1ull << 11)
#define IOAPIC_RTE_DELIVS     (1ull << 12) /* read-only */
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL      (1ull << 15)
#define IOAPIC_RTE_MASKED     (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56
#define IOAPIC_RTE_DEST       (0xffull << IOAPIC_RTE_DEST_SHIFT)

/* address is the MSI's 32-bit address (0xfee00000 | ...), data its data. */
typedef void (*ioapic_msi_fn)(void *ctx, uint64_t address, uint32_t data);

struct ioapic {
    uint8_t id;     /* 4 bits */
    uint8_t regsel; /* IOREGSEL */
    uint32_t pins;  /* electrical level of each pin */
    uint64_t rte[IOAPIC_PINS];
    ioapic_msi_fn send;
    void *ctx;
};

/* Every entry masked, every pin low. */
void ioapic_init(struct ioapic *io, uint8_t id, ioapic_msi_fn send, void *ctx);
/* An access at offset (< IOAPIC_SIZE) from IOAPIC_BASE of len (1-8) bytes,
 * little-endian in data. Sizes and alignments: see the file comment. */
void ioapic_mmio(struct ioapic *io, uint64_t offset, unsigned len, bool write, uint8_t *data);
/* Sets pin gsi (< IOAPIC_PINS, others ignored) to its electrical level; the
 * entry's polarity bit says which level is active. */
void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level);
/* A local APIC EOI of vector: clears Remote IRR of the level entries with
 * that vector and delivers again those whose pin is still active. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
