/*
 * The ACPI fixed hardware the VMM gives every guest (ACPI 6.0 section 4.8,
 * "ACPI Hardware Model", and 4.8.3, "Fixed Hardware Registers"): the PM1a
 * event block (PM1_STS, PM1_EN) at 0x600, the PM1a control block (PM1_CNT)
 * at 0x604 and the 32-bit power-management timer at 0x608, running at
 * 3.579545 MHz from now_ns = 0. The only status source is the timer's
 * TMR_STS (bit 31 of the count toggled); the SCI is ISA IRQ 9, level, high
 * while SCI_EN and an enabled status bit is set. Writing SLP_EN with the S5
 * sleep type powers the VM off. The platform has no SMI_CMD port (the FADT
 * says 0), so it is always in ACPI mode: SCI_EN reads 1 and is kept so.
 * Pure: time is the caller's now_ns.
 */
#ifndef KEEL_VMM_ACPI_PM_H
#define KEEL_VMM_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

#define ACPI_PM_BASE     0x600
#define ACPI_PM1_STS     (ACPI_PM_BASE + 0) /* PM1a_EVT_BLK: status, 16 bits */
#define ACPI_PM1_EN      (ACPI_PM_BASE + 2) /* PM1a_EVT_BLK: enable, 16 bits */
#define ACPI_PM1_CNT     (ACPI_PM_BASE + 4) /* PM1a_CNT_BLK, 16 bits */
#define ACPI_PM_TMR      (ACPI_PM_BASE + 8) /* PM_TMR_BLK, 32 bits, read-only */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN  4
#define ACPI_PM_TIMER_HZ 3579545ull /* ACPI 6.0 section 4.8.3.3 */
#define ACPI_SCI_IRQ     9

/* What the DSDT's \_S5 package says (acpi_tables.c encodes it). */
#define ACPI_SLP_TYP_S5 0

/* PM1_STS / PM1_EN (ACPI 6.0 tables 4-16, 4-17). */
#define ACPI_PM1_TMR_STS 0x0001 /* TMR_EN in PM1_EN */
/* The enables: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS. */
#define ACPI_PM1_EN_MASK 0x4721
/* PM1_CNT (ACPI 6.0 table 4-18). */
#define ACPI_PM1_SCI_EN      0x0001
#define ACPI_PM1_GBL_RLS     0x0004 /* write-only */
#define ACPI_PM1_SLP_TYP_SHL 10     /* SLP_TYP: bits 12:10 */
#define ACPI_PM1_SLP_TYP     (7u << ACPI_PM1_SLP_TYP_SHL)
#define ACPI_PM1_SLP_EN      0x2000 /* write-only */
#define ACPI_PM1_CNT_KEPT    0x1c03 /* what reads back: SCI_EN, BM_RLD, SLP_TYP */

struct acpi_pm {
    uint16_t sts, en, cnt;
    uint64_t ticks; /* the timer's full count when the status was last brought up to date */
    bool sci;       /* the SCI line as last reported */
    irq_line_fn irq;
    void *ctx;
};

void acpi_pm_init(struct acpi_pm *pm, irq_line_fn irq, void *ctx);
/* size 1, 2 or 4 at any port of the blocks (an access may span registers;
 * bytes past them read 0). false: not its port (0x606 and 0x607 are not).
 * *poweroff, when not NULL, is set to true (never cleared) when the guest
 * writes SLP_EN with SLP_TYP = ACPI_SLP_TYP_S5; other sleep states are not
 * supported and ignored. */
bool acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, bool in, uint32_t *value,
                uint64_t now_ns, bool *poweroff);
/* The PM timer's value at now_ns (its count modulo 2^32), exact for any
 * now_ns. */
uint32_t acpi_pm_timer(uint64_t now_ns);
/* When bit 31 of the timer next toggles, if that would raise the SCI
 * (TMR_EN, SCI_EN, TMR_STS clear); else UINT64_MAX. Counted from the last
 * access or acpi_pm_advance(), so it may be <= now_ns: then advance. */
uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm, uint64_t now_ns);
void acpi_pm_advance(struct acpi_pm *pm, uint64_t now_ns);

#endif
