/*
 * The board: the PC platform the VMM gives every guest (docs/vmm.md,
 * "The platform"; as QEMU's "pc" machine presents it): the 8259A
 * pair, the I/O APIC, the 8254 PIT with port 0x61, the CMOS RTC, the ACPI
 * PM registers, fw_cfg, COM1, the exit port and the POST code port, wired
 * together as a PC wires them ("split irqchip": the local APICs are in the
 * core).
 *
 * Interrupts: a device's ISA IRQ n drives PIC input n and I/O APIC input
 * GSI(n) (n, except ISA IRQ 0 -> GSI 2, the MADT's interrupt source
 * override). The I/O APIC sends its interrupts as MSIs
 * (KEEL_HC_SIGNAL_MSI); when the PIC's INT output rises, the board
 * acknowledges it (an INTA cycle: the vector) and hands the vector to
 * vCPU 0 as an ExtINT (KEEL_HC_INTERRUPT).
 *
 * Time: now_ns counts from the core's boot_tsc (clock.h); the board reads
 * the TSC itself (RDTSC works in ring 3).
 *
 * Threads: every vCPU thread uses the board; one lock (a spinlock) covers
 * all of its state, taken by each function below (never around KEEL_HC_RUN).
 */
#ifndef KEEL_VMM_BOARD_H
#define KEEL_VMM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi_pm.h"
#include "fw_cfg.h"
#include "ioapic.h"
#include "keel_vm.h"
#include "pic.h"
#include "pit.h"
#include "rtc.h"
#include "uart.h"

#define BOARD_EXIT_PORT 0xf4 /* QEMU's isa-debug-exit: OUT of V ends the VM with V */
#define BOARD_POST_PORT 0x80 /* the BIOS POST code port: writes ignored, reads 0xff */
#define BOARD_RSDP_SIZE 36   /* an ACPI 2.0 RSDP (ACPI 6.0 5.2.5.3) */
#define BOARD_REPORTS   8    /* unclaimed-port and MMIO messages printed per VM */

struct board_config {
    long vm, vcpu0;      /* handles: MSIs go to vm, ExtINTs to vcpu0 */
    unsigned cpus;       /* vCPUs (fw_cfg) */
    uint8_t ioapic_id;   /* as the MADT says */
    uint64_t ram_size;   /* guest RAM from 0 (fw_cfg, CMOS) */
    const char *name;    /* the VM's name (fw_cfg file "etc/keel/vm-name") */
    const uint8_t *rsdp; /* BOARD_RSDP_SIZE bytes (fw_cfg "etc/acpi/rsdp"), or NULL */
    uint64_t tsc_khz, boot_tsc;
    uint64_t wallclock; /* Unix seconds at boot_tsc; 0: unknown */
    /* COM1's complete lines. */
    void (*emit)(void *ctx, const char *line, size_t len);
    /* The guest asked the VM to end (exit port, ACPI S5) with this VMM status. */
    void (*end)(void *ctx, int status);
    void *ctx; /* for emit and end */
};

struct board {
    uint32_t lock; /* 0: free, 1: taken (board.c) */
    struct pic_pair pic;
    struct ioapic ioapic;
    struct pit pit;
    struct rtc rtc;
    struct acpi_pm pm;
    struct fw_cfg fw_cfg;
    struct uart com1;
    long vm, vcpu0;
    uint64_t tsc_khz, boot_tsc;
    uint64_t last_ns; /* the latest time the devices were given */
    void (*end)(void *ctx, int status);
    void *ctx;
    char name[KEEL_NAME_MAX]; /* fw_cfg's copies: they live as long as the board */
    uint8_t rsdp[BOARD_RSDP_SIZE];
    unsigned ports_reported; /* accesses to unclaimed ports */
    uint64_t mmio_accesses;  /* accesses to unbacked memory */
    unsigned msi_errors, extint_errors;
    /* What vCPU 0's thread must look at before its next run (board.c):
     * a timer device was programmed or read, an interrupt line moved. */
    bool timers_touched, irq_moved;
    uint64_t next_event_tsc; /* cached board_next_event_tsc (0: none) */
};

/* Every device in its reset state, the RTC at cfg->wallclock. */
void board_init(struct board *b, const struct board_config *cfg);

/* One port access (size 1, 2 or 4; *value in/out) and one MMIO access (len
 * 1..8 bytes of data) by a vCPU; end() may be called from them. */
void board_port_io(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value);
void board_mmio(struct board *b, uint64_t gpa, unsigned len, bool write, uint8_t *data);
/* KEEL_EXIT_IOAPIC_EOI: a local APIC EOIed this level-triggered vector. */
void board_eoi(struct board *b, uint8_t vector);

/* Nanoseconds since boot_tsc, now. */
uint64_t board_now_ns(const struct board *b);
/* The TSC at which the earliest timer event (PIT, RTC, ACPI PM) falls due;
 * 0 when none is armed. */
uint64_t board_next_event_tsc(struct board *b);
/* Raises what fell due by now_ns, then delivers through the PIC and I/O APIC. */
void board_advance(struct board *b, uint64_t now_ns);
/* Prints what COM1 has of an unfinished line. */
void board_flush_console(struct board *b);

/* vCPU 0's thread, before each KEEL_HC_RUN: brings the timer devices up to
 * date when one fell due or was touched, hands the PIC's interrupt to the
 * core when run says vCPU 0 can take it (else asks for an exit when it
 * can: run->request_interrupt_window), and sets run's exit deadline. Does
 * nothing costly when nothing changed: this is on every exit's path. */
void board_prepare_vcpu0_run(struct board *b, struct keel_run *run);

/* devices.c, called with the lock held: the port and MMIO decoders. */
void dev_port_io(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value,
                 uint64_t now_ns);
void dev_mmio(struct board *b, uint64_t gpa, unsigned len, bool write, uint8_t *data);

#endif
