/* Host unit tests of the VMM's PC platform pieces (guest-loader/): the CMOS
 * RTC, the ACPI PM registers and timer, fw_cfg, and the ACPI tables, which
 * are also read back through the core's own ACPI parser. */
#include "check.h"

#include "../../guest-loader/acpi_pm.h"
#include "../../guest-loader/acpi_tables.h"
#include "../../guest-loader/fw_cfg.h"
#include "../../guest-loader/rtc.h"
#include "acpi_tables.h" /* the core's parser (kernel/) */
#include "fake_phys.h"
#include "le_bytes.h"

#define SEC      1000000000ull
#define MS       1000000ull
#define NOW0     (5 * SEC)     /* the VMM's clock when the RTC starts */
#define T0       1700000000ull /* 2023-11-14 22:13:20, a Tuesday */
#define NO_EVENT UINT64_MAX

struct irq_log {
    unsigned raises, lowers, irq;
    bool level;
};

static void record_irq(void *ctx, unsigned irq, bool level)
{
    struct irq_log *log = ctx;
    log->irq = irq;
    log->level = level;
    if (level)
        log->raises++;
    else
        log->lowers++;
}

/* ---------------- RTC ---------------- */

static struct rtc rtc;
static struct irq_log rlog;

static uint8_t rd(uint8_t idx, uint64_t now)
{
    uint8_t v = idx | 0x80; /* NMI-disable bit: ignored */
    rtc_io(&rtc, RTC_PORT_INDEX, false, &v, now);
    rtc_io(&rtc, RTC_PORT_DATA, true, &v, now);
    return v;
}

static void wr(uint8_t idx, uint8_t val, uint64_t now)
{
    rtc_io(&rtc, RTC_PORT_INDEX, false, &idx, now);
    rtc_io(&rtc, RTC_PORT_DATA, false, &val, now);
}

static void rtc_fresh(void)
{
    memset(&rlog, 0, sizeof(rlog));
    rtc_init(&rtc, T0, NOW0, record_irq, &rlog);
}

static void rtc_calendar(void)
{
    static const struct {
        uint64_t t;
        unsigned y, mo, d, h, mi, s, wd;
    } known[] = {
        {0, 1970, 1, 1, 0, 0, 0, 4},
        {951782400, 2000, 2, 29, 0, 0, 0, 2},
        {T0, 2023, 11, 14, 22, 13, 20, 2},
        {1709251199, 2024, 2, 29, 23, 59, 59, 4},
        {4102444799, 2099, 12, 31, 23, 59, 59, 4},
    };
    for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct rtc_date d;
        rtc_unix_to_date(known[i].t, &d);
        CHECK_MSG(d.year == known[i].y && d.month == known[i].mo && d.day == known[i].d &&
                      d.hour == known[i].h && d.minute == known[i].mi && d.second == known[i].s &&
                      d.weekday == known[i].wd,
                  "date of %" PRIu64, known[i].t);
        CHECK_EQ(rtc_date_to_unix(&d), known[i].t);
    }
    for (uint64_t t = 0; t < 4102444800ull; t += 86399ull * 37 + 17) {
        struct rtc_date d;
        rtc_unix_to_date(t, &d);
        if (!CHECK_MSG(rtc_date_to_unix(&d) == t, "round trip of %" PRIu64, t))
            break;
    }
}

static void rtc_read_bcd_and_binary(void)
{
    rtc_fresh();
    CHECK_EQ(rd(RTC_SECONDS, NOW0), 0x20);
    CHECK_EQ(rd(RTC_MINUTES, NOW0), 0x13);
    CHECK_EQ(rd(RTC_HOURS, NOW0), 0x22);
    CHECK_EQ(rd(RTC_WEEKDAY, NOW0), 3); /* Tuesday; Sunday = 1 */
    CHECK_EQ(rd(RTC_DAY, NOW0), 0x14);
    CHECK_EQ(rd(RTC_MONTH, NOW0), 0x11);
    CHECK_EQ(rd(RTC_YEAR, NOW0), 0x23);
    CHECK_EQ(rd(RTC_CENTURY, NOW0), 0x20);
    CHECK_EQ(rd(RTC_REG_A, NOW0), 0x26);
    CHECK_EQ(rd(RTC_REG_B, NOW0), RTC_B_24H);
    CHECK_EQ(rd(RTC_REG_D, NOW0), RTC_D_VRT);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_DM, NOW0);
    CHECK_EQ(rd(RTC_SECONDS, NOW0), 20);
    CHECK_EQ(rd(RTC_HOURS, NOW0), 22);
    CHECK_EQ(rd(RTC_YEAR, NOW0), 23);
    CHECK_EQ(rd(RTC_CENTURY, NOW0), 20);
    /* The clock runs: 61.5 s later. */
    CHECK_EQ(rd(RTC_SECONDS, NOW0 + 61 * SEC + 500 * MS), 21);
    CHECK_EQ(rd(RTC_MINUTES, NOW0 + 61 * SEC + 500 * MS), 14);
    uint8_t v = 0;
    CHECK(!rtc_io(&rtc, 0x72, true, &v, NOW0));
    CHECK(rtc_io(&rtc, RTC_PORT_INDEX, true, &v, NOW0) && v == 0xff);
}

static void rtc_12_hour(void)
{
    rtc_fresh();
    wr(RTC_REG_B, 0, NOW0);                            /* 12-hour BCD */
    CHECK_EQ(rd(RTC_HOURS, NOW0), RTC_HOUR_PM | 0x10); /* 22:xx = 10 PM */
    /* 00:xx is 12 AM and 12:xx is 12 PM: set the time to 12:00. */
    wr(RTC_REG_B, RTC_B_SET, NOW0);
    wr(RTC_HOURS, RTC_HOUR_PM | 0x12, NOW0);
    wr(RTC_REG_B, 0, NOW0);
    CHECK_EQ(rd(RTC_HOURS, NOW0), RTC_HOUR_PM | 0x12);
    wr(RTC_REG_B, RTC_B_24H, NOW0);
    CHECK_EQ(rd(RTC_HOURS, NOW0), 0x12);
    wr(RTC_HOURS, 0x00, NOW0); /* a write while running moves the clock */
    wr(RTC_REG_B, RTC_B_DM, NOW0);
    CHECK_EQ(rd(RTC_HOURS, NOW0), 12); /* binary 12 AM */
}

static void rtc_uip_window(void)
{
    rtc_fresh();
    CHECK_EQ(rd(RTC_REG_A, NOW0) & RTC_A_UIP, 0);
    CHECK_EQ(rd(RTC_REG_A, NOW0 + SEC - 244000 - 1) & RTC_A_UIP, 0);
    CHECK_EQ(rd(RTC_REG_A, NOW0 + SEC - 244000) & RTC_A_UIP, RTC_A_UIP);
    CHECK_EQ(rd(RTC_REG_A, NOW0 + SEC - 1) & RTC_A_UIP, RTC_A_UIP);
    CHECK_EQ(rd(RTC_REG_A, NOW0 + SEC) & RTC_A_UIP, 0);
    CHECK_EQ(rd(RTC_SECONDS, NOW0 + SEC), 0x21);
    wr(RTC_REG_B, RTC_B_SET | RTC_B_24H, NOW0 + SEC);
    CHECK_EQ(rd(RTC_REG_A, NOW0 + 2 * SEC - 1) & RTC_A_UIP, 0); /* SET: no updates */
}

static void rtc_set_time(void)
{
    rtc_fresh();
    uint64_t t = NOW0 + 300 * MS;
    wr(RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE, t);
    CHECK_EQ(rd(RTC_REG_B, t), RTC_B_SET | RTC_B_24H); /* SET clears UIE */
    wr(RTC_YEAR, 0x99, t);
    wr(RTC_CENTURY, 0x20, t);
    wr(RTC_MONTH, 0x12, t);
    wr(RTC_DAY, 0x31, t);
    wr(RTC_HOURS, 0x23, t);
    wr(RTC_MINUTES, 0x59, t);
    wr(RTC_SECONDS, 0x58, t);
    CHECK_EQ(rd(RTC_SECONDS, t + 5 * SEC), 0x58); /* stopped */
    t += 5 * SEC;
    wr(RTC_REG_B, RTC_B_24H, t); /* 0.3 s into a second of the divider */
    CHECK_EQ(rd(RTC_SECONDS, t + 700 * MS - 1), 0x58);
    CHECK_EQ(rd(RTC_SECONDS, t + 700 * MS), 0x59);
    uint64_t t2 = t + 1700 * MS; /* 2099-12-31 23:59:58 + 2 s */
    CHECK_EQ(rd(RTC_SECONDS, t2), 0x00);
    CHECK_EQ(rd(RTC_HOURS, t2), 0x00);
    CHECK_EQ(rd(RTC_DAY, t2), 0x01);
    CHECK_EQ(rd(RTC_MONTH, t2), 0x01);
    CHECK_EQ(rd(RTC_YEAR, t2), 0x00);
    CHECK_EQ(rd(RTC_CENTURY, t2), 0x21);
    CHECK_EQ(rd(RTC_WEEKDAY, t2), 6); /* 2100-01-01 is a Friday */
}

static void rtc_divider_reset(void)
{
    rtc_fresh();
    uint64_t t = NOW0 + 100 * MS;
    wr(RTC_REG_A, 0x70 | 6, t); /* divider chain in reset: the clock stops */
    CHECK_EQ(rd(RTC_SECONDS, t + 10 * SEC), 0x20);
    t += 10 * SEC;
    wr(RTC_REG_A, 0x26, t); /* the first update comes 500 ms later */
    CHECK_EQ(rd(RTC_SECONDS, t + 500 * MS - 1), 0x20);
    CHECK_EQ(rd(RTC_SECONDS, t + 500 * MS), 0x21);
    CHECK_EQ(rd(RTC_SECONDS, t + 1500 * MS), 0x22);
}

static void rtc_periodic(void)
{
    rtc_fresh();
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NO_EVENT);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, NOW0);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NOW0 + 976563); /* 1024 Hz: 976562.5 ns */
    rtc_advance(&rtc, NOW0 + 976562);
    CHECK_EQ(rlog.raises, 0);
    rtc_advance(&rtc, NOW0 + 976563);
    CHECK(rlog.raises == 1 && rlog.irq == RTC_IRQ && rlog.level);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 976563), NO_EVENT); /* until C is read */
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 976563), RTC_C_IRQF | RTC_C_PF);
    CHECK(rlog.lowers == 1 && !rlog.level);
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 976563), 0);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 976563), NOW0 + 1953125);
    static const struct {
        uint8_t rs;
        uint64_t first_ns;
    } rates[] = {{1, 3906250}, {2, 7812500}, {3, 122071}, {15, 500 * MS}};
    for (unsigned i = 0; i < 4; i++) {
        rtc_fresh();
        wr(RTC_REG_A, RTC_A_DV_RUNNING | rates[i].rs, NOW0);
        wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, NOW0);
        CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NOW0 + rates[i].first_ns);
    }
    wr(RTC_REG_A, RTC_A_DV_RUNNING, NOW0); /* rate 0: none */
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NO_EVENT);
    /* PF is set without PIE; setting PIE then raises at once. */
    rtc_fresh();
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 10 * MS), RTC_C_PF);
    rtc_advance(&rtc, NOW0 + 20 * MS);
    CHECK_EQ(rlog.raises, 0);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, NOW0 + 20 * MS);
    CHECK_EQ(rlog.raises, 1);
}

static void rtc_update_interrupt(void)
{
    rtc_fresh();
    wr(RTC_REG_A, RTC_A_DV_RUNNING, NOW0); /* no periodic flag in the way */
    wr(RTC_REG_B, RTC_B_24H | RTC_B_UIE, NOW0 + 400 * MS);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 400 * MS), NOW0 + SEC);
    rtc_advance(&rtc, NOW0 + SEC);
    CHECK_EQ(rlog.raises, 1);
    CHECK_EQ(rd(RTC_REG_C, NOW0 + SEC + 1), RTC_C_IRQF | RTC_C_UF);
    CHECK_EQ(rlog.lowers, 1);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + SEC + 1), NOW0 + 2 * SEC);
    /* Several seconds at once still make one edge. */
    rtc_advance(&rtc, NOW0 + 5 * SEC);
    CHECK_EQ(rlog.raises, 2);
}

static void rtc_alarm(void)
{
    rtc_fresh(); /* 22:13:20 */
    wr(RTC_REG_A, RTC_A_DV_RUNNING, NOW0);
    wr(RTC_SECONDS_ALARM, 0x30, NOW0);
    wr(RTC_MINUTES_ALARM, 0xc0, NOW0);
    wr(RTC_HOURS_ALARM, 0xff, NOW0);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NO_EVENT); /* AIE off */
    wr(RTC_REG_B, RTC_B_24H | RTC_B_AIE, NOW0);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0), NOW0 + 10 * SEC); /* 22:13:30 */
    rtc_advance(&rtc, NOW0 + 10 * SEC);
    CHECK_EQ(rlog.raises, 1);
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 10 * SEC), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 10 * SEC), NOW0 + 70 * SEC); /* 22:14:30 */
    /* A full match: 23:00:00 is 46:40 away; tomorrow when already past. */
    wr(RTC_SECONDS_ALARM, 0x00, NOW0 + 10 * SEC);
    wr(RTC_MINUTES_ALARM, 0x00, NOW0 + 10 * SEC);
    wr(RTC_HOURS_ALARM, 0x23, NOW0 + 10 * SEC);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 10 * SEC), NOW0 + 2800 * SEC);
    wr(RTC_HOURS_ALARM, 0x22, NOW0 + 10 * SEC);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 10 * SEC), NOW0 + (86400 - 800) * SEC);
    /* Hours don't care, minute 15: 22:15:00. */
    wr(RTC_HOURS_ALARM, 0xc0, NOW0 + 10 * SEC);
    wr(RTC_MINUTES_ALARM, 0x15, NOW0 + 10 * SEC);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 10 * SEC), NOW0 + 100 * SEC);
    /* A value that is not BCD never matches; the flag is polled without AIE. */
    wr(RTC_SECONDS_ALARM, 0x7a, NOW0 + 10 * SEC);
    CHECK_EQ(rtc_next_event_ns(&rtc, NOW0 + 10 * SEC), NO_EVENT);
    wr(RTC_SECONDS_ALARM, 0x35, NOW0 + 10 * SEC);
    wr(RTC_MINUTES_ALARM, 0xc0, NOW0 + 10 * SEC);
    wr(RTC_REG_B, RTC_B_24H, NOW0 + 10 * SEC);
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 20 * SEC), RTC_C_AF | RTC_C_UF);
    CHECK_EQ(rd(RTC_REG_C, NOW0 + 30 * SEC), RTC_C_UF); /* 22:13:50: no alarm since */
    CHECK_EQ(rlog.raises, 1);
}

static void rtc_cmos_memory(void)
{
    rtc_fresh();
    CHECK_EQ(rd(0x15, NOW0) | rd(0x16, NOW0) << 8, 640);
    CHECK_EQ(rd(0x17, NOW0) | rd(0x30, NOW0) | rd(0x34, NOW0), 0);
    rtc_set_memory_size(&rtc, 8ull << 20);
    CHECK_EQ(rd(0x17, NOW0) | rd(0x18, NOW0) << 8, 7 * 1024);
    CHECK_EQ(rd(0x30, NOW0) | rd(0x31, NOW0) << 8, 7 * 1024);
    CHECK_EQ(rd(0x34, NOW0) | rd(0x35, NOW0) << 8, 0);
    rtc_set_memory_size(&rtc, 3ull << 30);
    CHECK_EQ(rd(0x17, NOW0) | rd(0x18, NOW0) << 8, 0xffff);
    CHECK_EQ(rd(0x31, NOW0), 0xff);
    CHECK_EQ(rd(0x34, NOW0) | rd(0x35, NOW0) << 8, ((3ull << 30) - (16 << 20)) >> 16);
    CHECK_EQ(rd(0x5b, NOW0) | rd(0x5c, NOW0) | rd(0x5d, NOW0), 0);
    wr(0x40, 0xa5, NOW0);
    wr(0x7f, 0x5a, NOW0);
    CHECK_EQ(rd(0x40, NOW0), 0xa5);
    CHECK_EQ(rd(0x7f, NOW0), 0x5a);
    wr(RTC_REG_D, 0, NOW0);
    wr(RTC_REG_C, 0xff, NOW0);
    CHECK_EQ(rd(RTC_REG_D, NOW0), RTC_D_VRT);
    CHECK_EQ(rd(RTC_REG_C, NOW0), 0);
}

/* ---------------- ACPI PM ---------------- */

static uint32_t pm_ref(uint64_t ns)
{
    return (uint32_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / SEC);
}

static void pm_timer_values(void)
{
    static const uint64_t at[] = {0,           1,
                                  279,         280,
                                  500 * MS,    SEC,
                                  1200 * SEC,  259200 * SEC + 123456789,
                                  40000 * SEC, 365 * 86400 * SEC + 7};
    for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++)
        CHECK_EQ(acpi_pm_timer(at[i]), pm_ref(at[i]));
    CHECK_EQ(acpi_pm_timer(SEC), 3579545);
    CHECK_EQ(acpi_pm_timer(500 * MS), 1789772);
    CHECK_EQ(acpi_pm_timer(1200 * SEC), 486704); /* wrapped once */

    struct acpi_pm pm;
    struct irq_log log = {0};
    acpi_pm_init(&pm, record_irq, &log);
    uint32_t v = 0;
    uint64_t t = 1234567891234ull;
    CHECK(acpi_pm_io(&pm, ACPI_PM_TMR, 4, true, &v, t, NULL) && v == acpi_pm_timer(t));
    CHECK(acpi_pm_io(&pm, ACPI_PM_TMR + 2, 2, true, &v, t, NULL) && v == acpi_pm_timer(t) >> 16);
    CHECK(acpi_pm_io(&pm, ACPI_PM_TMR + 3, 1, true, &v, t, NULL) && v == acpi_pm_timer(t) >> 24);
    CHECK(!acpi_pm_io(&pm, 0x606, 2, true, &v, t, NULL));
    CHECK(!acpi_pm_io(&pm, 0x60c, 4, true, &v, t, NULL));
    CHECK(!acpi_pm_io(&pm, 0x5ff, 1, true, &v, t, NULL));
}

static void pm_status_and_sci(void)
{
    struct acpi_pm pm;
    struct irq_log log = {0};
    acpi_pm_init(&pm, record_irq, &log);
    uint32_t v = 0;
    const uint64_t toggle = 599932015941ull; /* ceil(2^31 * 1e9 / 3579545) ns */
    CHECK(acpi_pm_io(&pm, ACPI_PM1_CNT, 2, true, &v, 0, NULL) && v == ACPI_PM1_SCI_EN);
    CHECK_EQ(acpi_pm_next_event_ns(&pm, 0), NO_EVENT); /* TMR_EN clear */
    v = ACPI_PM1_TMR_STS;
    acpi_pm_io(&pm, ACPI_PM1_EN, 2, false, &v, 0, NULL);
    CHECK_EQ(acpi_pm_next_event_ns(&pm, 0), toggle);
    CHECK_EQ(pm_ref(toggle) >> 31, 1);
    CHECK_EQ(pm_ref(toggle - 1) >> 31, 0);
    acpi_pm_advance(&pm, toggle - 1);
    CHECK_EQ(log.raises, 0);
    acpi_pm_advance(&pm, toggle);
    CHECK(log.raises == 1 && log.irq == ACPI_SCI_IRQ && log.level);
    CHECK_EQ(acpi_pm_next_event_ns(&pm, toggle), NO_EVENT);
    CHECK(acpi_pm_io(&pm, ACPI_PM1_STS, 4, true, &v, toggle, NULL) &&
          v == (ACPI_PM1_TMR_STS | ACPI_PM1_TMR_STS << 16));
    v = 0; /* writing 0 clears nothing */
    acpi_pm_io(&pm, ACPI_PM1_STS, 2, false, &v, toggle, NULL);
    CHECK(log.level);
    v = ACPI_PM1_TMR_STS;
    acpi_pm_io(&pm, ACPI_PM1_STS, 2, false, &v, toggle, NULL);
    CHECK(log.lowers == 1 && !log.level);
    CHECK_EQ(acpi_pm_next_event_ns(&pm, toggle), 1199864031882ull); /* 2^32 ticks */
    /* Polled: with TMR_EN clear the status is still set, without an SCI. */
    v = 0;
    acpi_pm_io(&pm, ACPI_PM1_EN, 2, false, &v, toggle, NULL);
    acpi_pm_io(&pm, ACPI_PM1_STS, 2, true, &v, 3 * toggle, NULL);
    CHECK_EQ(v, ACPI_PM1_TMR_STS);
    CHECK_EQ(log.raises, 1);
    v = ACPI_PM1_TMR_STS; /* enabling with the status set raises at once */
    acpi_pm_io(&pm, ACPI_PM1_EN, 2, false, &v, 3 * toggle, NULL);
    CHECK_EQ(log.raises, 2);
    v = 0xffff;
    acpi_pm_io(&pm, ACPI_PM1_EN, 2, false, &v, 3 * toggle, NULL);
    acpi_pm_io(&pm, ACPI_PM1_EN, 2, true, &v, 3 * toggle, NULL);
    CHECK_EQ(v, ACPI_PM1_EN_MASK);
}

static void pm_sleep(void)
{
    struct acpi_pm pm;
    struct irq_log log = {0};
    acpi_pm_init(&pm, record_irq, &log);
    bool off = false;
    uint32_t v = 5u << ACPI_PM1_SLP_TYP_SHL; /* the type first, as OSes do */
    acpi_pm_io(&pm, ACPI_PM1_CNT, 2, false, &v, 0, &off);
    CHECK(!off);
    v |= ACPI_PM1_SLP_EN; /* S1-S4: not supported, ignored */
    acpi_pm_io(&pm, ACPI_PM1_CNT, 2, false, &v, 0, &off);
    CHECK(!off);
    acpi_pm_io(&pm, ACPI_PM1_CNT, 2, true, &v, 0, &off);
    CHECK_EQ(v, 5u << ACPI_PM1_SLP_TYP_SHL | ACPI_PM1_SCI_EN);   /* SLP_EN reads 0 */
    const uint32_t s5 = ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHL; /* 0: S5 is type 0 here */
    // cppcheck-suppress badBitmaskCheck
    v = s5 | ACPI_PM1_SLP_EN;
    acpi_pm_io(&pm, ACPI_PM1_CNT, 2, false, &v, 0, &off);
    CHECK(off);
    off = false; /* a byte write of the high half does it too */
    // cppcheck-suppress badBitmaskCheck
    v = (s5 | ACPI_PM1_SLP_EN) >> 8;
    acpi_pm_io(&pm, ACPI_PM1_CNT + 1, 1, false, &v, 0, &off);
    CHECK(off);
    acpi_pm_io(&pm, ACPI_PM1_CNT, 2, false, &v, 0, NULL); /* NULL is fine */
}

/* ---------------- fw_cfg ---------------- */

static struct fw_cfg fw;

static void fw_select(uint16_t key)
{
    uint32_t v = key;
    CHECK(fw_cfg_io(&fw, FW_CFG_PORT_SEL, 2, false, &v));
}

static uint32_t fw_read(unsigned size)
{
    uint32_t v = 0xdeadbeef;
    CHECK(fw_cfg_io(&fw, FW_CFG_PORT_DATA, size, true, &v));
    return v;
}

static void fw_read_bytes(uint8_t *buf, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)fw_read(1);
}

static void fw_cfg_items(void)
{
    fw_cfg_init(&fw, 4, 0x12345678abull);
    uint8_t b[16];
    fw_select(FW_CFG_SIGNATURE);
    fw_read_bytes(b, 6);
    CHECK(memcmp(b, "QEMU\0\0", 6) == 0); /* 0 past the end */
    fw_select(FW_CFG_SIGNATURE);          /* selecting rewinds */
    CHECK_EQ(fw_read(4), 0x554d4551);     /* "QEMU", first byte lowest */
    fw_select(FW_CFG_ID);
    CHECK_EQ(fw_read(4), FW_CFG_ID_TRADITIONAL);
    fw_select(FW_CFG_RAM_SIZE);
    fw_read_bytes(b, 8);
    CHECK_EQ(le64(b), 0x12345678abull);
    fw_select(FW_CFG_NB_CPUS);
    CHECK_EQ(fw_read(2), 4);
    CHECK_EQ(fw_read(2), 0);
    fw_select(FW_CFG_MAX_CPUS);
    CHECK_EQ(fw_read(1), 4);
    fw_select(0x0002); /* UUID: not provided */
    CHECK_EQ(fw_read(4), 0);
    fw_select(FW_CFG_ARCH_LOCAL | FW_CFG_SIGNATURE);
    CHECK_EQ(fw_read(1), 0);
    fw_select(FW_CFG_SIGNATURE);
    uint32_t v = FW_CFG_ID; /* a byte write does not select */
    CHECK(fw_cfg_io(&fw, FW_CFG_PORT_SEL, 1, false, &v));
    CHECK_EQ(fw_read(1), 'Q');
    CHECK(fw_cfg_io(&fw, FW_CFG_PORT_DATA, 1, false, &v)); /* data writes: ignored */
    CHECK_EQ(fw_read(1), 'E');
    CHECK(!fw_cfg_io(&fw, 0x512, 1, true, &v));
    CHECK(!fw_cfg_io(&fw, 0x50f, 2, false, &v));
}

static void fw_cfg_files(void)
{
    static const char hello[] = "hello, fw_cfg";
    static const uint8_t blob[3] = {1, 2, 3};
    char name[64];
    fw_cfg_init(&fw, 1, 1 << 20);
    fw_select(FW_CFG_FILE_DIR);
    CHECK_EQ(fw_read(4), 0);
    CHECK_EQ(fw_cfg_add_file(&fw, "etc/hello", hello, sizeof(hello)), 0x20);
    CHECK_EQ(fw_cfg_add_file(&fw, "opt/org.keel/blob", blob, sizeof(blob)), 0x21);
    CHECK_EQ(fw_cfg_add_file(&fw, "etc/hello", blob, 1), -1);
    CHECK_EQ(fw_cfg_add_file(&fw, "", blob, 1), -1);
    memset(name, 'n', sizeof(name));
    name[56] = 0;
    CHECK_EQ(fw_cfg_add_file(&fw, name, blob, 1), -1); /* 56 characters */
    name[55] = 0;
    CHECK_EQ(fw_cfg_add_file(&fw, name, blob, 1), 0x22); /* 55 fit */

    uint8_t dir[4 + 3 * 64 + 4];
    fw_select(FW_CFG_FILE_DIR);
    fw_read_bytes(dir, sizeof(dir));
    CHECK_EQ(dir[0] << 24 | dir[1] << 16 | dir[2] << 8 | dir[3], 3);
    const uint8_t *e = dir + 4;
    CHECK_EQ((uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3], sizeof(hello));
    CHECK_EQ(e[4] << 8 | e[5], 0x20);
    CHECK_EQ(e[6] | e[7], 0);
    CHECK_STR((const char *)e + 8, "etc/hello");
    e += 64;
    CHECK_EQ(e[3], 3);
    CHECK_EQ(e[4] << 8 | e[5], 0x21);
    CHECK_STR((const char *)e + 8, "opt/org.keel/blob");
    CHECK_EQ(e[8 + 55], 0);
    e += 64;
    CHECK(memcmp(e + 8, name, 56) == 0);
    CHECK_EQ(le32(dir + 4 + 3 * 64), 0); /* past the end */

    fw_select(0x21);
    CHECK_EQ(fw_read(4), 0x00030201);
    fw_select(0x20);
    char got[sizeof(hello)];
    fw_read_bytes((uint8_t *)got, sizeof(got));
    CHECK_STR(got, hello);
    fw_select(0x23); /* no such file */
    CHECK_EQ(fw_read(4), 0);
    for (unsigned i = 3; i < FW_CFG_MAX_FILES; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        CHECK_EQ(fw_cfg_add_file(&fw, name, blob, 1), 0x20 + (int)i);
    }
    CHECK_EQ(fw_cfg_add_file(&fw, "one/too/many", blob, 1), -1);
}

/* ---------------- ACPI tables ---------------- */

static uint8_t area[ACPI_AREA_SIZE];

static bool sums_to_zero(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

/* The table at guest address gpa, checked to lie in the area, sum to 0 and
 * carry sig and the OEM fields. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
    if (!CHECK_MSG(gpa >= ACPI_AREA_GPA && gpa + 36 <= ACPI_AREA_GPA + ACPI_AREA_SIZE,
                   "%s at 0x%" PRIx64 " outside the area", sig, gpa))
        return NULL;
    const uint8_t *t = area + (gpa - ACPI_AREA_GPA);
    uint32_t len = le32(t + 4);
    if (!CHECK_MSG(memcmp(t, sig, 4) == 0 && gpa + len <= ACPI_AREA_GPA + ACPI_AREA_SIZE,
                   "no %s at 0x%" PRIx64, sig, gpa))
        return NULL;
    CHECK_MSG(sums_to_zero(t, len), "%s checksum", sig);
    CHECK(memcmp(t + 10, "KEEL  KEELVM  ", 14) == 0 && memcmp(t + 28, "KEEL", 4) == 0);
    return t;
}

static uint64_t build(unsigned cpus)
{
    struct acpi_config c = {cpus, (uint8_t)cpus, 0xfec00000};
    uint64_t rsdp = 0;
    memset(area, 0xee, sizeof(area));
    CHECK_EQ(acpi_build_tables(&c, area, ACPI_AREA_GPA, ACPI_AREA_SIZE, &rsdp), 0);
    return rsdp;
}

static void acpi_rsdp_and_roots(void)
{
    uint64_t rsdp = build(1), found = 0;
    unsigned hits = 0;
    for (uint32_t off = 0; off + 36 <= ACPI_AREA_SIZE; off += 16) {
        if (memcmp(area + off, "RSD PTR ", 8) == 0) {
            hits++;
            found = ACPI_AREA_GPA + off;
        }
    }
    CHECK(hits == 1 && found == rsdp);
    const uint8_t *p = area + (rsdp - ACPI_AREA_GPA);
    CHECK(sums_to_zero(p, 20) && sums_to_zero(p, 36));
    CHECK(p[15] == 2 && le32(p + 20) == 36 && memcmp(p + 9, "KEEL  ", 6) == 0);
    const uint8_t *xsdt = table_at(le64(p + 24), "XSDT");
    const uint8_t *rsdt = table_at(le32(p + 16), "RSDT");
    if (xsdt == NULL || rsdt == NULL)
        return;
    CHECK_EQ(le32(xsdt + 4), 36 + 16);
    CHECK_EQ(le32(rsdt + 4), 36 + 8);
    CHECK(table_at(le64(xsdt + 36), "FACP") != NULL);
    CHECK(table_at(le64(xsdt + 44), "APIC") != NULL);
    CHECK_EQ(le32(rsdt + 36), le64(xsdt + 36));
    CHECK_EQ(le32(rsdt + 40), le64(xsdt + 44));
    struct acpi_config c = {1, 1, 0xfec00000};
    CHECK_EQ(acpi_build_tables(&c, area, ACPI_AREA_GPA, 0x200, &rsdp), -1);
    c.cpus = 0;
    CHECK_EQ(acpi_build_tables(&c, area, ACPI_AREA_GPA, ACPI_AREA_SIZE, &rsdp), -1);
    c.cpus = 256;
    CHECK_EQ(acpi_build_tables(&c, area, ACPI_AREA_GPA, ACPI_AREA_SIZE, &rsdp), -1);
    c.cpus = 255;
    CHECK_EQ(acpi_build_tables(&c, area, ACPI_AREA_GPA, ACPI_AREA_SIZE, &rsdp), 0);
}

static void acpi_madt_entries(void)
{
    static const unsigned counts[] = {1, 4, 64, 255};
    for (unsigned k = 0; k < 4; k++) {
        unsigned n = counts[k];
        uint64_t rsdp = build(n);
        const uint8_t *xsdt = table_at(le64(area + (rsdp - ACPI_AREA_GPA) + 24), "XSDT");
        const uint8_t *m = xsdt ? table_at(le64(xsdt + 44), "APIC") : NULL;
        if (m == NULL)
            return;
        CHECK(le32(m + 36) == 0xfee00000 && le32(m + 40) == 1 && m[8] == 4);
        unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
        uint32_t len = le32(m + 4), off = 44;
        while (off + 2 <= len && m[off + 1] >= 2) {
            const uint8_t *e = m + off;
            if (e[0] == 0) {
                CHECK(e[1] == 8 && e[2] == lapics && e[3] == lapics && le32(e + 4) == 1);
                lapics++;
            } else if (e[0] == 1) {
                CHECK(e[1] == 12 && e[2] == n && le32(e + 4) == 0xfec00000 && le32(e + 8) == 0);
                ioapics++;
            } else if (e[0] == 2) {
                CHECK(e[1] == 10 && e[2] == 0);
                CHECK((e[3] == 0 && le32(e + 4) == 2 && le16(e + 8) == 0) ||
                      (e[3] == 9 && le32(e + 4) == 9 && le16(e + 8) == 0x000d));
                isos++;
            } else if (e[0] == 4) {
                CHECK(e[1] == 6 && e[2] == 0xff && le16(e + 3) == 0 && e[5] == 1);
                nmis++;
            }
            off += e[1];
        }
        CHECK_EQ(off, len);
        CHECK_MSG(lapics == n && ioapics == 1 && isos == 2 && nmis == 1,
                  "%u CPUs: %u LAPICs %u IOAPICs %u overrides %u NMIs", n, lapics, ioapics, isos,
                  nmis);
    }
}

static void acpi_fadt_facs_dsdt(void)
{
    uint64_t rsdp = build(2);
    const uint8_t *xsdt = table_at(le64(area + (rsdp - ACPI_AREA_GPA) + 24), "XSDT");
    const uint8_t *f = xsdt ? table_at(le64(xsdt + 36), "FACP") : NULL;
    if (f == NULL)
        return;
    CHECK(le32(f + 4) == 276 && f[8] == 6);
    CHECK(le16(f + 46) == 9 && le32(f + 48) == 0 && f[52] == 0 && f[53] == 0);
    CHECK(le32(f + 56) == 0x600 && le32(f + 64) == 0x604 && le32(f + 76) == 0x608);
    CHECK(f[88] == 4 && f[89] == 2 && f[91] == 4);
    CHECK(f[108] == 0x32 && le16(f + 109) == 0x0005);
    CHECK_EQ(le32(f + 112), 0x175);          /* WBINVD PROC_C1 PWR/SLP_BUTTON FIX_RTC TMR_VAL_EXT */
    CHECK_EQ(le32(f + 112) & (1u << 10), 0); /* no reset register */
    static const uint8_t gas_tmr[12] = {1, 32, 0, 0, 0x08, 0x06};
    static const uint8_t gas_evt[12] = {1, 32, 0, 0, 0x00, 0x06};
    static const uint8_t gas_cnt[12] = {1, 16, 0, 0, 0x04, 0x06};
    CHECK(memcmp(f + 208, gas_tmr, 12) == 0);
    CHECK(memcmp(f + 148, gas_evt, 12) == 0);
    CHECK(memcmp(f + 172, gas_cnt, 12) == 0);
    CHECK(le32(f + 36) == le64(f + 132) && le32(f + 40) == le64(f + 140));

    uint64_t facs_gpa = le64(f + 132);
    CHECK(facs_gpa % 64 == 0 && facs_gpa >= ACPI_AREA_GPA &&
          facs_gpa + 64 <= ACPI_AREA_GPA + ACPI_AREA_SIZE);
    const uint8_t *facs = area + (facs_gpa - ACPI_AREA_GPA);
    CHECK(memcmp(facs, "FACS", 4) == 0 && le32(facs + 4) == 64 && facs[32] == 2);

    const uint8_t *d = table_at(le64(f + 140), "DSDT");
    if (d == NULL)
        return;
    static const uint8_t aml[] = {0x08, '_',  'S',  '5',  '_',  0x12, 0x06, 0x04, 0x00, 0x00,
                                  0x00, 0x00, 0x10, 0x06, '\\', '_',  'S',  'B',  '_'};
    CHECK(le32(d + 4) == 36 + sizeof(aml) && d[8] == 2);
    CHECK(memcmp(d + 36, aml, sizeof(aml)) == 0);
}

/* The core's ACPI parser reads the tables as a host's firmware tables. */
static void acpi_core_parser_agrees(void)
{
    static const unsigned counts[] = {1, 4, 64};
    for (unsigned k = 0; k < 3; k++) {
        uint64_t rsdp = build(counts[k]);
        struct fake_phys fp;
        fake_phys_init(&fp);
        fake_phys_map(&fp, ACPI_AREA_GPA, area, sizeof(area));
        CHECK_EQ(acpi_scan_rsdp(&fp.reader, ACPI_AREA_GPA, ACPI_AREA_SIZE), rsdp);
        static struct acpi_info ai;
        memset(&ai, 0, sizeof(ai));
        CHECK_EQ(acpi_parse(&fp.reader, NULL, 0, rsdp, &ai), 0);
        diag_print("acpi", &ai.diag);
        CHECK(ai.used_xsdt && ai.have_madt && ai.have_fadt && ai.pcat_compat);
        CHECK_EQ(ai.cpu_count, counts[k]);
        CHECK_EQ(ai.cpus[counts[k] - 1].apic_id, counts[k] - 1);
        CHECK(ai.ioapic_count == 1 && ai.ioapics[0].address == 0xfec00000);
        CHECK(ai.override_count == 2 && ai.overrides[0].gsi == 2 && ai.overrides[1].flags == 0xd);
        CHECK(ai.pm_timer_present && ai.pm_timer_space == ACPI_GAS_IO &&
              ai.pm_timer_address == 0x608 && ai.pm_timer_32bit && ai.fadt_revision == 6);
        CHECK_EQ(ai.diag.count, 0);
        fake_phys_release(&fp);
        free(fp.copies);
    }
}

int main(void)
{
    check_begin("vmm_platform");
    RUN(rtc_calendar);
    RUN(rtc_read_bcd_and_binary);
    RUN(rtc_12_hour);
    RUN(rtc_uip_window);
    RUN(rtc_set_time);
    RUN(rtc_divider_reset);
    RUN(rtc_periodic);
    RUN(rtc_update_interrupt);
    RUN(rtc_alarm);
    RUN(rtc_cmos_memory);
    RUN(pm_timer_values);
    RUN(pm_status_and_sci);
    RUN(pm_sleep);
    RUN(fw_cfg_items);
    RUN(fw_cfg_files);
    RUN(acpi_rsdp_and_roots);
    RUN(acpi_madt_entries);
    RUN(acpi_fadt_facs_dsdt);
    RUN(acpi_core_parser_agrees);
    return check_finish();
}
