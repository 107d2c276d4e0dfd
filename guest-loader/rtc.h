/*
 * The CMOS real-time clock of a PC, a Motorola MC146818A as the VMM gives
 * every guest (MC146818A data sheet; index port 0x70, data port 0x71, ISA
 * IRQ 8): the time and date registers in BCD or binary, 24- or 12-hour
 * mode, update-in-progress, the SET bit and guest writes of the time, the
 * alarm (with "don't care" values), the periodic, alarm and update-ended
 * interrupts, and the battery-backed CMOS bytes, with the memory sizes a
 * PC BIOS stores there.
 *
 * Pure: time is the caller's now_ns (monotonic nanoseconds, VMM-defined
 * zero). The guest's clock is kept as "unix seconds at a second boundary of
 * the divider chain" and the registers are computed from it when read, so
 * nothing has to run every second; the flags of register C are brought up
 * to date lazily, at every access and in rtc_advance(). IRQ 8 is an edge
 * per interrupt: irq(ctx, 8, true) when IRQF becomes set (from rtc_advance()
 * or rtc_io()), irq(ctx, 8, false) when the guest reads register C.
 */
#ifndef KEEL_VMM_RTC_H
#define KEEL_VMM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

#define RTC_PORT_INDEX 0x70 /* write: bit 7 NMI disable (ignored), bits 6:0 index */
#define RTC_PORT_DATA  0x71
#define RTC_IRQ        8 /* ISA IRQ of the RTC on a PC */
#define RTC_CMOS_SIZE  128

/* Register indexes (MC146818A data sheet, "Address Map"). */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_WEEKDAY       0x06 /* 1 = Sunday */
#define RTC_DAY           0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09 /* 0-99 */
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32 /* PC convention (the FADT's CENTURY field names it) */

/* Register A. */
#define RTC_A_UIP        0x80 /* update in progress: the last 244 us before a second ends */
#define RTC_A_DV_MASK    0x70 /* divider select */
#define RTC_A_DV_RUNNING 0x20 /* 010: 32.768 kHz time base, running */
#define RTC_A_RS_MASK    0x0f /* periodic rate select */
/* Register B. */
#define RTC_B_SET  0x80 /* updates stopped; the guest sets the time */
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_SQWE 0x08 /* stored, no effect */
#define RTC_B_DM   0x04 /* 1: binary, 0: BCD */
#define RTC_B_24H  0x02 /* 1: 24-hour, 0: 12-hour with RTC_HOUR_PM */
#define RTC_B_DSE  0x01 /* stored, ignored */
/* Register C (read-only; reading clears it). */
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
/* Register D. */
#define RTC_D_VRT 0x80 /* valid RAM and time: the battery is good */

#define RTC_HOUR_PM        0x80 /* 12-hour mode: bit 7 of the hours (and hours alarm) */
#define RTC_ALARM_DONTCARE 0xc0 /* an alarm byte of 0xc0-0xff matches any value */

/* The 32.768 kHz time base after the divider (data sheet, "Divider
 * Stages"): a second is 32768 of its ticks. */
#define RTC_BASE_HZ 32768u

struct rtc {
    /* Registers and CMOS memory. The time registers (0, 2, 4, 6-9 and the
     * century) hold the guest's time as of the last access while the clock
     * runs, and what the guest wrote while it is stopped. */
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    int64_t phase_ns;   /* a second boundary of the divider chain (when it runs) */
    uint64_t base_secs; /* the guest's unix time at phase_ns (while the clock runs) */
    uint64_t last_ns;   /* register C's flags are up to date to this time */
    bool irq_high;      /* IRQ 8 asserted (IRQF set, register C not read since) */
    irq_line_fn irq;
    void *ctx;
};

/* A calendar date and time (proleptic Gregorian, UTC as the guest sees it). */
struct rtc_date {
    unsigned year; /* 1970-9999 */
    unsigned month, day;
    unsigned hour, minute, second;
    unsigned weekday; /* 0 = Sunday */
};

/* The clock reads unix_seconds at now_ns; 24-hour BCD, interrupts off,
 * divider running at the BIOS default rate (register A 0x26). */
void rtc_init(struct rtc *r, uint64_t unix_seconds, uint64_t now_ns, irq_line_fn irq, void *ctx);
/* 0x70/0x71, one byte in *value; false: not its port. */
bool rtc_io(struct rtc *r, uint16_t port, bool in, uint8_t *value, uint64_t now_ns);
/* When the next interrupt (periodic, alarm, update-ended: whichever are
 * enabled) falls due; UINT64_MAX if none can, or if IRQ 8 is already up and
 * only reading register C would lower it. Counted from the last access or
 * rtc_advance(), so it may be <= now_ns: then call rtc_advance(). */
uint64_t rtc_next_event_ns(const struct rtc *r, uint64_t now_ns);
/* Sets the flags of what fell due up to now_ns and raises IRQ 8. */
void rtc_advance(struct rtc *r, uint64_t now_ns);
/* The memory sizes of a PC BIOS's CMOS bytes for ram_bytes of RAM from
 * address 0 (all below 4 GiB): 0x17/0x18 and 0x30/0x31 KiB above 1 MiB,
 * 0x34/0x35 64 KiB units above 16 MiB (each at most 0xffff), 0x5b-0x5d
 * above 4 GiB (0). 0x15/0x16 (640 KiB of base memory) is set by rtc_init. */
void rtc_set_memory_size(struct rtc *r, uint64_t ram_bytes);

/* Calendar conversions (exposed for the tests); times after 9999-12-31
 * 23:59:59 read as that. */
void rtc_unix_to_date(uint64_t unix_seconds, struct rtc_date *d);
uint64_t rtc_date_to_unix(const struct rtc_date *d); /* fields must be in range */

#endif
