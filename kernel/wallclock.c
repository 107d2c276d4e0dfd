/*
 * The CMOS real-time clock (MC146818-compatible, ports 0x70/0x71): read
 * twice outside an update cycle until two reads agree, in BCD or binary
 * and 12- or 24-hour form as status register B says. The century register
 * is not standard (ACPI FADT names it); years 00-69 are taken as 20xx.
 */
#include "cpu.h"
#include "kstring.h"
#include "printk.h"
#include "wallclock.h"

#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71
#define CMOS_NMI_OFF    0x80 /* bit 7 of the index keeps NMIs masked meanwhile */
#define RTC_SECONDS     0x00
#define RTC_MINUTES     0x02
#define RTC_HOURS       0x04
#define RTC_DAY         0x07
#define RTC_MONTH       0x08
#define RTC_YEAR        0x09
#define RTC_STATUS_A    0x0a
#define RTC_STATUS_B    0x0b
#define STATUS_A_UIP    0x80 /* update in progress: the time registers are changing */
#define STATUS_B_24H    0x02
#define STATUS_B_BIN    0x04 /* binary, not BCD */
#define HOUR_PM         0x80 /* 12-hour mode */
#define READ_ATTEMPTS   1000
#define SECONDS_PER_DAY 86400

uint64_t wallclock_seconds;
uint64_t wallclock_tsc;

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, CMOS_NMI_OFF | reg);
    return inb(CMOS_DATA);
}

struct rtc_time {
    uint8_t sec, min, hour, day, month, year;
};

static bool read_once(struct rtc_time *t)
{
    for (unsigned i = 0; i < READ_ATTEMPTS; i++) {
        if (cmos_read(RTC_STATUS_A) & STATUS_A_UIP)
            continue;
        *t = (struct rtc_time){cmos_read(RTC_SECONDS), cmos_read(RTC_MINUTES), cmos_read(RTC_HOURS),
                               cmos_read(RTC_DAY),     cmos_read(RTC_MONTH),   cmos_read(RTC_YEAR)};
        return true;
    }
    return false;
}

static unsigned from_bcd(uint8_t v, bool binary)
{
    return binary ? v : (unsigned)(v >> 4) * 10 + (v & 0xf);
}

/* Counts in 400-year eras (146097 days each) of years starting in March,
 * so that the leap day ends a year. */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void wallclock_init(void)
{
    struct rtc_time a, b;
    bool ok = read_once(&a);
    for (unsigned i = 0; ok && i < READ_ATTEMPTS; i++) {
        ok = read_once(&b);
        if (ok && !memcmp(&a, &b, sizeof(a)))
            break;
        a = b;
    }
    uint8_t status_b = cmos_read(RTC_STATUS_B);
    bool binary = status_b & STATUS_B_BIN;
    unsigned hour = from_bcd(a.hour & (uint8_t)~HOUR_PM, binary);
    if (!(status_b & STATUS_B_24H) && (a.hour & HOUR_PM))
        hour = (hour % 12) + 12;
    else if (!(status_b & STATUS_B_24H) && hour == 12)
        hour = 0;
    unsigned year = from_bcd(a.year, binary), month = from_bcd(a.month, binary);
    unsigned day = from_bcd(a.day, binary), min = from_bcd(a.min, binary);
    unsigned sec = from_bcd(a.sec, binary);
    year += year < 70 ? 2000 : 1900;
    if (!ok || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 59) {
        pr_warn("wallclock: the CMOS clock reads no valid time: guests' clocks start at 1970");
        return;
    }
    wallclock_tsc = rdtsc();
    wallclock_seconds = (uint64_t)(days_from_civil(year, month, day) * SECONDS_PER_DAY) +
                        hour * 3600u + min * 60u + sec;
    pr_info("wallclock: %04u-%02u-%02u %02u:%02u:%02u UTC (CMOS clock)", year, month, day, hour,
            min, sec);
}
