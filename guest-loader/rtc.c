/* The MC146818A CMOS real-time clock (rtc.h). */
#include "kstring.h"
#include "rtc.h"

#define NS_PER_SEC      1000000000ull
#define SECS_PER_DAY    86400u
#define UIP_WINDOW_NS   244000u    /* data sheet: UIP rises 244 us before the update */
#define DIV_RESTART_NS  500000000u /* data sheet: the first update 500 ms after divider reset */
#define EPOCH_YEAR      1970u
#define EPOCH_WEEKDAY   4u /* 1970-01-01 was a Thursday */
#define MAX_YEAR        9999u
#define REG_A_DEFAULT   0x26 /* divider running, rate 6 (1024 Hz): what PC BIOSes program */
#define REG_B_DEFAULT   RTC_B_24H
#define RATE_SLOW_SHIFT 6 /* rates 1 and 2 give 256 and 128 Hz (data sheet, Table 4) */

/* CMOS memory of a PC BIOS (the IBM PC/AT's CMOS map, as QEMU and SeaBIOS
 * use it). */
#define CMOS_BASE_MEM_LO 0x15 /* base memory in KiB */
#define CMOS_BASE_MEM_HI 0x16
#define CMOS_EXT_MEM_LO  0x17 /* KiB above 1 MiB */
#define CMOS_EXT_MEM_HI  0x18
#define CMOS_EXT_MEM2_LO 0x30 /* the same, as POST found it */
#define CMOS_EXT_MEM2_HI 0x31
#define CMOS_MEM_16M_LO  0x34 /* 64 KiB units above 16 MiB */
#define CMOS_MEM_16M_HI  0x35
#define CMOS_MEM_4G_0    0x5b /* 64 KiB units above 4 GiB, 3 bytes */
#define BASE_MEMORY_KIB  640u
#define CMOS_WORD_MAX    0xffffu
#define KIB              1024ull
#define MIB              (1024ull * KIB)
#define CHUNK_64K        (64ull * KIB)

static const uint8_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static bool leap_year(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    return month_days[m - 1] + (m == 2 && leap_year(y) ? 1 : 0);
}

static unsigned days_in_year(unsigned y)
{
    return leap_year(y) ? 366 : 365;
}

void rtc_unix_to_date(uint64_t t, struct rtc_date *d)
{
    uint64_t days = t / SECS_PER_DAY;
    unsigned tod = (unsigned)(t % SECS_PER_DAY);
    unsigned y = EPOCH_YEAR, m = 1;
    d->weekday = (unsigned)((days + EPOCH_WEEKDAY) % 7);
    while (days >= days_in_year(y) && y < MAX_YEAR)
        days -= days_in_year(y++);
    if (days >= days_in_year(y)) { /* past the end of year 9999: its last second */
        days = days_in_year(y) - 1;
        tod = SECS_PER_DAY - 1;
    }
    while (days >= days_in_month(y, m))
        days -= days_in_month(y, m++);
    d->year = y;
    d->month = m;
    d->day = (unsigned)days + 1;
    d->hour = tod / 3600;
    d->minute = tod / 60 % 60;
    d->second = tod % 60;
}

uint64_t rtc_date_to_unix(const struct rtc_date *d)
{
    uint64_t days = 0;
    for (unsigned y = EPOCH_YEAR; y < d->year; y++)
        days += days_in_year(y);
    for (unsigned m = 1; m < d->month; m++)
        days += days_in_month(d->year, m);
    days += d->day - 1;
    return days * SECS_PER_DAY + d->hour * 3600u + d->minute * 60u + d->second;
}

/* ---- register encodings ---- */

static bool binary_mode(const struct rtc *r)
{
    return r->cmos[RTC_REG_B] & RTC_B_DM;
}

static uint8_t encode(const struct rtc *r, unsigned v)
{
    return binary_mode(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* -1 for a byte that is not a number in the current mode. */
static int decode(const struct rtc *r, uint8_t v)
{
    if (binary_mode(r))
        return v;
    if ((v >> 4) > 9 || (v & 0xf) > 9)
        return -1;
    return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t encode_hour(const struct rtc *r, unsigned h)
{
    if (r->cmos[RTC_REG_B] & RTC_B_24H)
        return encode(r, h);
    unsigned h12 = h % 12 == 0 ? 12 : h % 12;
    return encode(r, h12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

/* 0-23, or -1. */
static int decode_hour(const struct rtc *r, uint8_t v)
{
    if (r->cmos[RTC_REG_B] & RTC_B_24H) {
        int h = decode(r, v);
        return h < 24 ? h : -1;
    }
    int h = decode(r, v & ~RTC_HOUR_PM);
    if (h < 1 || h > 12)
        return -1;
    return h % 12 + (v & RTC_HOUR_PM ? 12 : 0);
}

static unsigned clamp(int v, unsigned lo, unsigned hi)
{
    if (v < (int)lo)
        return lo;
    return (unsigned)v > hi ? hi : (unsigned)v;
}

/* ---- the clock ---- */

static bool divider_running(const struct rtc *r)
{
    return (r->cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_RUNNING;
}

static bool clock_running(const struct rtc *r)
{
    return divider_running(r) && !(r->cmos[RTC_REG_B] & RTC_B_SET);
}

/* Nanoseconds from the divider phase to t (0 before it). */
static uint64_t since_phase(const struct rtc *r, uint64_t t)
{
    int64_t d = (int64_t)t - r->phase_ns;
    return d > 0 ? (uint64_t)d : 0;
}

static uint64_t at_phase(const struct rtc *r, uint64_t ns_after)
{
    return (uint64_t)(r->phase_ns + (int64_t)ns_after);
}

static uint64_t guest_secs(const struct rtc *r, uint64_t now_ns)
{
    return r->base_secs + since_phase(r, now_ns) / NS_PER_SEC;
}

/* While the clock runs, copies its time into the time registers. */
static void latch(struct rtc *r, uint64_t now_ns)
{
    if (!clock_running(r))
        return;
    struct rtc_date d = {0};
    rtc_unix_to_date(guest_secs(r, now_ns), &d);
    r->cmos[RTC_SECONDS] = encode(r, d.second);
    r->cmos[RTC_MINUTES] = encode(r, d.minute);
    r->cmos[RTC_HOURS] = encode_hour(r, d.hour);
    r->cmos[RTC_WEEKDAY] = encode(r, d.weekday + 1);
    r->cmos[RTC_DAY] = encode(r, d.day);
    r->cmos[RTC_MONTH] = encode(r, d.month);
    r->cmos[RTC_YEAR] = encode(r, d.year % 100);
    r->cmos[RTC_CENTURY] = encode(r, d.year / 100);
}

/* The time the registers say (fields out of range are clamped). A century
 * byte outside 19-99 is ignored: years 70-99 are then 19xx, 00-69 20xx. */
static uint64_t register_time(const struct rtc *r)
{
    struct rtc_date d = {0};
    int year = decode(r, r->cmos[RTC_YEAR]);
    int century = decode(r, r->cmos[RTC_CENTURY]);
    year = year < 0 || year > 99 ? 0 : year;
    if (century >= 19 && century <= 99)
        d.year = (unsigned)(century * 100 + year);
    else
        d.year = (unsigned)year + (year >= 70 ? 1900 : 2000);
    d.year = clamp((int)d.year, EPOCH_YEAR, MAX_YEAR);
    d.month = clamp(decode(r, r->cmos[RTC_MONTH]), 1, 12);
    d.day = clamp(decode(r, r->cmos[RTC_DAY]), 1, days_in_month(d.year, d.month));
    d.hour = clamp(decode_hour(r, r->cmos[RTC_HOURS]), 0, 23);
    d.minute = clamp(decode(r, r->cmos[RTC_MINUTES]), 0, 59);
    d.second = clamp(decode(r, r->cmos[RTC_SECONDS]), 0, 59);
    return rtc_date_to_unix(&d);
}

/* The clock takes its time from the registers; the divider keeps its phase,
 * so the second that began at the last boundary is the one written. */
static void rebase(struct rtc *r, uint64_t now_ns)
{
    r->base_secs = register_time(r);
    r->phase_ns += (int64_t)(since_phase(r, now_ns) / NS_PER_SEC * NS_PER_SEC);
}

/* ---- periodic interrupt: boundaries counted in 32.768 kHz ticks ---- */

/* The period in ticks of rate select rs (1-15). */
static uint64_t period_ticks(unsigned rs)
{
    return 1ull << (rs <= 2 ? rs + RATE_SLOW_SHIFT : rs - 1);
}

static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / NS_PER_SEC * RTC_BASE_HZ + ns % NS_PER_SEC * RTC_BASE_HZ / NS_PER_SEC;
}

/* The first nanosecond at which ns_to_ticks() reaches ticks. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t rem = ticks % RTC_BASE_HZ;
    return ticks / RTC_BASE_HZ * NS_PER_SEC + (rem * NS_PER_SEC + RTC_BASE_HZ - 1) / RTC_BASE_HZ;
}

/* ---- alarm ---- */

/* An alarm byte as a set of values: any (-1), one value, or none (-2). */
static int alarm_value(const struct rtc *r, unsigned reg, int max)
{
    uint8_t v = r->cmos[reg];
    if ((v & RTC_ALARM_DONTCARE) == RTC_ALARM_DONTCARE)
        return -1;
    int x = reg == RTC_HOURS_ALARM ? decode_hour(r, v) : decode(r, v);
    return x >= 0 && x < max ? x : -2;
}

/* The smallest value >= from (and < max) in the set, or -1. */
static int first_from(int set, int from, int max)
{
    if (set == -1)
        return from < max ? from : -1;
    return set >= from ? set : -1;
}

/* The first second of the day >= tod that the alarm matches, or -1. */
static long alarm_in_day(const int set[3], unsigned tod)
{
    int h0 = (int)(tod / 3600), m0 = (int)(tod / 60 % 60), s0 = (int)(tod % 60);
    for (int h = first_from(set[0], h0, 24); h >= 0; h = first_from(set[0], h + 1, 24)) {
        int mfrom = h == h0 ? m0 : 0;
        for (int m = first_from(set[1], mfrom, 60); m >= 0; m = first_from(set[1], m + 1, 60)) {
            int s = first_from(set[2], h == h0 && m == m0 ? s0 : 0, 60);
            if (s >= 0)
                return h * 3600L + m * 60L + s;
        }
    }
    return -1;
}

/* The first guest second after t at which the alarm matches, or UINT64_MAX. */
static uint64_t next_alarm(const struct rtc *r, uint64_t t)
{
    int set[3] = {alarm_value(r, RTC_HOURS_ALARM, 24), alarm_value(r, RTC_MINUTES_ALARM, 60),
                  alarm_value(r, RTC_SECONDS_ALARM, 60)};
    if (set[0] == -2 || set[1] == -2 || set[2] == -2)
        return UINT64_MAX;
    uint64_t day = t - t % SECS_PER_DAY;
    unsigned tod = (unsigned)(t % SECS_PER_DAY) + 1;
    long hit = tod < SECS_PER_DAY ? alarm_in_day(set, tod) : -1;
    if (hit >= 0)
        return day + (uint64_t)hit;
    hit = alarm_in_day(set, 0);
    return hit >= 0 ? day + SECS_PER_DAY + (uint64_t)hit : UINT64_MAX;
}

/* ---- flags and the interrupt line ---- */

static void update_irq(struct rtc *r)
{
    uint8_t *c = &r->cmos[RTC_REG_C];
    uint8_t enabled = r->cmos[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
    /* Register C's flags sit at the bit positions of their enables in B. */
    if ((*c & enabled) == 0 || (*c & RTC_C_IRQF))
        return;
    *c |= RTC_C_IRQF;
    if (!r->irq_high) {
        r->irq_high = true;
        r->irq(r->ctx, RTC_IRQ, true);
    }
}

/* Sets the flags of the periodic ticks, updates and alarms in
 * (last_ns, now_ns]. */
static void sync(struct rtc *r, uint64_t now_ns)
{
    if (now_ns <= r->last_ns)
        return;
    uint64_t from = r->last_ns;
    r->last_ns = now_ns;
    if (!divider_running(r))
        return;
    uint8_t flags = 0;
    unsigned rs = r->cmos[RTC_REG_A] & RTC_A_RS_MASK;
    if (rs != 0) {
        uint64_t p = period_ticks(rs);
        if (ns_to_ticks(since_phase(r, from)) / p != ns_to_ticks(since_phase(r, now_ns)) / p)
            flags |= RTC_C_PF;
    }
    uint64_t s0 = guest_secs(r, from), s1 = guest_secs(r, now_ns);
    if (!(r->cmos[RTC_REG_B] & RTC_B_SET) && s1 > s0) {
        flags |= RTC_C_UF;
        if (next_alarm(r, s0) <= s1)
            flags |= RTC_C_AF;
    }
    r->cmos[RTC_REG_C] |= flags;
    update_irq(r);
}

uint64_t rtc_next_event_ns(const struct rtc *r, uint64_t now_ns)
{
    (void)now_ns; /* events are counted from last_ns: what fell due since is due now */
    uint8_t b = r->cmos[RTC_REG_B];
    if ((r->cmos[RTC_REG_C] & RTC_C_IRQF) || !divider_running(r))
        return UINT64_MAX;
    uint64_t best = UINT64_MAX, since = since_phase(r, r->last_ns);
    unsigned rs = r->cmos[RTC_REG_A] & RTC_A_RS_MASK;
    if ((b & RTC_B_PIE) && rs != 0) {
        uint64_t p = period_ticks(rs);
        best = at_phase(r, ticks_to_ns((ns_to_ticks(since) / p + 1) * p));
    }
    if (b & RTC_B_SET)
        return best;
    uint64_t secs = since / NS_PER_SEC;
    if ((b & RTC_B_UIE) && at_phase(r, (secs + 1) * NS_PER_SEC) < best)
        best = at_phase(r, (secs + 1) * NS_PER_SEC);
    if (b & RTC_B_AIE) {
        uint64_t hit = next_alarm(r, r->base_secs + secs);
        if (hit != UINT64_MAX && at_phase(r, (hit - r->base_secs) * NS_PER_SEC) < best)
            best = at_phase(r, (hit - r->base_secs) * NS_PER_SEC);
    }
    return best;
}

void rtc_advance(struct rtc *r, uint64_t now_ns)
{
    sync(r, now_ns);
}

/* ---- register access ---- */

static bool time_register(unsigned idx)
{
    return idx == RTC_SECONDS || idx == RTC_MINUTES || idx == RTC_HOURS ||
           (idx >= RTC_WEEKDAY && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static uint8_t read_reg(struct rtc *r, unsigned idx, uint64_t now_ns)
{
    switch (idx) {
    case RTC_REG_A: {
        bool uip =
            clock_running(r) && since_phase(r, now_ns) % NS_PER_SEC >= NS_PER_SEC - UIP_WINDOW_NS;
        return (r->cmos[RTC_REG_A] & ~RTC_A_UIP) | (uip ? RTC_A_UIP : 0);
    }
    case RTC_REG_C: {
        uint8_t v = r->cmos[RTC_REG_C];
        r->cmos[RTC_REG_C] = 0;
        if (r->irq_high) {
            r->irq_high = false;
            r->irq(r->ctx, RTC_IRQ, false);
        }
        return v;
    }
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        if (time_register(idx))
            latch(r, now_ns);
        return r->cmos[idx];
    }
}

static void write_reg(struct rtc *r, unsigned idx, uint8_t v, uint64_t now_ns)
{
    bool was_running = clock_running(r), divider_was = divider_running(r);
    switch (idx) {
    case RTC_REG_A:
        latch(r, now_ns);
        r->cmos[RTC_REG_A] = v & ~RTC_A_UIP;
        if (!divider_was && divider_running(r)) /* the first update comes 500 ms later */
            r->phase_ns = (int64_t)now_ns - (int64_t)(NS_PER_SEC - DIV_RESTART_NS);
        break;
    case RTC_REG_B:
        latch(r, now_ns);
        if (v & RTC_B_SET) /* data sheet: SET clears UIE */
            v &= ~RTC_B_UIE;
        r->cmos[RTC_REG_B] = v;
        update_irq(r);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        return; /* read-only */
    default:
        if (time_register(idx))
            latch(r, now_ns);
        r->cmos[idx] = v;
        if (time_register(idx) && was_running)
            rebase(r, now_ns); /* a write while running moves the clock */
        return;
    }
    if (!was_running && clock_running(r))
        rebase(r, now_ns);
}

bool rtc_io(struct rtc *r, uint16_t port, bool in, uint8_t *value, uint64_t now_ns)
{
    if (port == RTC_PORT_INDEX) {
        if (in)
            *value = 0xff; /* the index register is write-only */
        else
            r->index = *value & (RTC_CMOS_SIZE - 1);
        return true;
    }
    if (port != RTC_PORT_DATA)
        return false;
    sync(r, now_ns);
    if (in)
        *value = read_reg(r, r->index, now_ns);
    else
        write_reg(r, r->index, *value, now_ns);
    return true;
}

void rtc_set_memory_size(struct rtc *r, uint64_t ram_bytes)
{
    uint64_t ext = ram_bytes > MIB ? (ram_bytes - MIB) / KIB : 0;
    uint64_t high = ram_bytes > 16 * MIB ? (ram_bytes - 16 * MIB) / CHUNK_64K : 0;
    ext = ext > CMOS_WORD_MAX ? CMOS_WORD_MAX : ext;
    high = high > CMOS_WORD_MAX ? CMOS_WORD_MAX : high;
    r->cmos[CMOS_EXT_MEM_LO] = r->cmos[CMOS_EXT_MEM2_LO] = (uint8_t)ext;
    r->cmos[CMOS_EXT_MEM_HI] = r->cmos[CMOS_EXT_MEM2_HI] = (uint8_t)(ext >> 8);
    r->cmos[CMOS_MEM_16M_LO] = (uint8_t)high;
    r->cmos[CMOS_MEM_16M_HI] = (uint8_t)(high >> 8);
    for (unsigned i = 0; i < 3; i++)
        r->cmos[CMOS_MEM_4G_0 + i] = 0;
}

void rtc_init(struct rtc *r, uint64_t unix_seconds, uint64_t now_ns, irq_line_fn irq, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->irq = irq;
    r->ctx = ctx;
    r->phase_ns = (int64_t)now_ns;
    r->base_secs = unix_seconds;
    r->last_ns = now_ns;
    r->cmos[RTC_REG_A] = REG_A_DEFAULT;
    r->cmos[RTC_REG_B] = REG_B_DEFAULT;
    r->cmos[RTC_REG_D] = RTC_D_VRT;
    r->cmos[CMOS_BASE_MEM_LO] = (uint8_t)BASE_MEMORY_KIB;
    r->cmos[CMOS_BASE_MEM_HI] = (uint8_t)(BASE_MEMORY_KIB >> 8);
    latch(r, now_ns);
}
