/* Host unit tests of the VMM's pure parts (guest-loader/): the multiboot1
 * loader (header search, address fields, ELF32/ELF64, modules and the boot
 * information), the argument string (affinity= too), the clock
 * conversions, the 16550 model. */
#include "check.h"

#include "../../guest-loader/args.h"
#include "../../guest-loader/clock.h"
#include "../../guest-loader/multiboot.h"
#include "../../guest-loader/uart.h"
#include "le_bytes.h"

#define RAM_SIZE (4u << 20)
#define LOAD     0x100000u
#define FILL     0xaa
#define ELF_BASE 0x1000u /* where the segments' bytes sit in the test ELF files */
#define HOLE     0xc0000u

static uint8_t *ram_bytes;
static struct guest_ram ram;
static uint8_t file[0x4000];
static char why[MB_ERROR_MAX];

static void fresh_ram(uint64_t size)
{
    free(ram_bytes);
    ram_bytes = malloc(size); /* exact size: ASan catches a write past it */
    memset(ram_bytes, FILL, size);
    ram = (struct guest_ram){ram_bytes, size};
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* A multiboot header at off with flags; with MB_FLAG_ADDRESS the five
 * address fields follow. */
static void header(uint32_t off, uint32_t flags, const uint32_t addr[5])
{
    put32(file + off, MB_HEADER_MAGIC);
    put32(file + off + 4, flags);
    put32(file + off + 8, -(MB_HEADER_MAGIC + flags));
    for (unsigned i = 0; addr && i < 5; i++)
        put32(file + off + 12 + 4 * i, addr[i]);
}

static bool load(uint64_t size, struct mb_boot *boot)
{
    struct mb_header h;
    memset(boot, 0, sizeof(*boot));
    return mb_find_header(file, size, &h, why) && mb_load_image(&ram, file, size, &h, boot, why);
}

static void header_search(void)
{
    struct mb_header h;
    memset(file, 0, sizeof(file));
    CHECK(!mb_find_header(file, sizeof(file), &h, why) && strstr(why, "no multiboot header"));
    header(8180, 0, NULL); /* the last place where all 12 bytes are in the first 8 KiB */
    CHECK(mb_find_header(file, sizeof(file), &h, why) && h.offset == 8180);
    memset(file, 0, sizeof(file));
    header(8184, 0, NULL);
    CHECK(!mb_find_header(file, sizeof(file), &h, why));
    memset(file, 0, sizeof(file));
    header(102, 0, NULL); /* not 4-byte aligned */
    CHECK(!mb_find_header(file, sizeof(file), &h, why));
    header(64, 0, NULL);
    put32(file + 72, 1); /* bad checksum */
    CHECK(!mb_find_header(file, sizeof(file), &h, why));
    header(64, 1u << 3, NULL); /* a requirement nobody knows */
    CHECK(!mb_find_header(file, sizeof(file), &h, why) && strstr(why, "0x8"));
    header(64, MB_FLAG_VIDEO_MODE | (1u << 20), NULL); /* video: noted; bit 20: optional */
    CHECK(mb_find_header(file, sizeof(file), &h, why));
    CHECK(!mb_find_header(file, 70, &h, why)); /* cut by the size given */
    memset(file, 0, sizeof(file));
    header(sizeof(file) - 16, MB_FLAG_ADDRESS, NULL);
    CHECK(!mb_find_header(file, sizeof(file), &h, why)); /* beyond 8 KiB */
    memset(file, 0, sizeof(file));
    header(0, MB_FLAG_ADDRESS, NULL);
    CHECK(!mb_find_header(file, 20, &h, why) && strstr(why, "cut off"));
}

static void address_fields(void)
{
    struct mb_boot boot;
    fresh_ram(RAM_SIZE);
    memset(file, 0x5c, sizeof(file));
    /* header at 0x40 = load_addr + 0x40; load 0x1000 bytes; bss to +0x3000 */
    header(0x40, MB_FLAG_ADDRESS,
           (uint32_t[]){LOAD + 0x40, LOAD, LOAD + 0x1000, LOAD + 0x3000, LOAD + 0x50});
    CHECK(load(sizeof(file), &boot));
    CHECK_EQ(boot.entry, LOAD + 0x50);
    CHECK(!boot.elf && boot.image_start == LOAD && boot.image_end == LOAD + 0x3000);
    CHECK_EQ(ram_bytes[LOAD + 0xfff], 0x5c);
    CHECK_EQ(ram_bytes[LOAD + 0x1000], 0); /* bss zeroed, not the file's bytes */
    CHECK_EQ(ram_bytes[LOAD + 0x2fff], 0);
    CHECK_EQ(ram_bytes[LOAD + 0x3000], FILL); /* nothing past bss_end */
    CHECK_EQ(ram_bytes[LOAD - 1], FILL);
    /* the header 0x20 bytes into the load: the load starts 0x20 bytes into the file */
    header(0x40, MB_FLAG_ADDRESS, (uint32_t[]){LOAD + 0x20, LOAD, 0, 0, LOAD});
    CHECK(load(0x200, &boot) && boot.image_end == LOAD + 0x200 - 0x20);
    CHECK_EQ(le32(ram_bytes + LOAD + 0x20), MB_HEADER_MAGIC);
}

static void address_fields_refused(void)
{
    struct mb_boot boot;
    fresh_ram(RAM_SIZE);
    static const struct {
        uint32_t addr[5];
        const char *needle;
    } bad[] = {
        {{LOAD, LOAD + 4, 0, 0, LOAD}, "before the file"},            /* header_addr < load_addr */
        {{LOAD + 0x100, LOAD, 0, 0, LOAD}, "before the file"},        /* > header offset */
        {{LOAD, LOAD, LOAD + sizeof(file) + 1, 0, LOAD}, "load_end"}, /* past the file */
        {{LOAD, LOAD, LOAD - 1, 0, LOAD}, "load_end"},
        {{LOAD, LOAD, LOAD + 0x100, LOAD + 0x80, LOAD}, "bss_end"},
        {{RAM_SIZE - 0x10, RAM_SIZE - 0x10, 0, 0, RAM_SIZE - 0x10}, "outside"},
        {{0xfffff000u, 0xfffff000u, 0, 0, 0xfffff000u}, "outside"}, /* wraps 4 GiB */
        {{HOLE, HOLE, 0, 0, HOLE}, "reserved"},
        {{LOAD, LOAD, 0, 0, RAM_SIZE}, "entry point"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(file, 0, sizeof(file));
        header(0, MB_FLAG_ADDRESS, bad[i].addr);
        why[0] = '\0';
        CHECK_MSG(!load(sizeof(file), &boot) && strstr(why, bad[i].needle),
                  "case %u: loaded, or '%s' lacks '%s'", i, why, bad[i].needle);
    }
}

/* An ELF file in file[]: class 32 or 64, segments (paddr, vaddr, filesz,
 * memsz) with their bytes at ELF_BASE + i * 0x800, the header in .text. */
struct seg {
    uint64_t paddr, vaddr, filesz, memsz;
};

static uint64_t make_elf(unsigned cls, uint16_t machine, uint64_t entry, const struct seg *s,
                         unsigned n)
{
    bool is64 = cls == 64;
    unsigned ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
    memset(file, 0, sizeof(file));
    memcpy(file,
           "\x7f"
           "ELF",
           4);
    file[4] = is64 ? 2 : 1;
    file[5] = 1;
    file[6] = 1;
    put16(file + 16, 2);
    put16(file + 18, machine);
    if (is64) {
        put64(file + 24, entry);
        put64(file + 32, ehsize);
    } else {
        put32(file + 24, (uint32_t)entry);
        put32(file + 28, ehsize);
    }
    put16(file + (is64 ? 54 : 42), (uint16_t)phsize);
    put16(file + (is64 ? 56 : 44), (uint16_t)n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = file + ehsize + i * phsize;
        uint64_t off = ELF_BASE + i * 0x800;
        memset(file + off, 0x11 * (i + 1), s[i].filesz < 0x800 ? s[i].filesz : 0x800);
        put32(p, 1);
        if (is64) {
            put64(p + 8, off);
            put64(p + 16, s[i].vaddr);
            put64(p + 24, s[i].paddr);
            put64(p + 32, s[i].filesz);
            put64(p + 40, s[i].memsz);
        } else {
            put32(p + 4, (uint32_t)off);
            put32(p + 8, (uint32_t)s[i].vaddr);
            put32(p + 12, (uint32_t)s[i].paddr);
            put32(p + 16, (uint32_t)s[i].filesz);
            put32(p + 20, (uint32_t)s[i].memsz);
        }
    }
    header(ELF_BASE + 0x10, MB_FLAG_PAGE_ALIGN, NULL); /* inside segment 0's bytes */
    return ELF_BASE + n * 0x800;
}

static void elf_both_classes(void)
{
    const struct seg segs[] = {
        {LOAD, 0xc0000000u + LOAD, 0x400, 0x400},
        {LOAD + 0x2000, 0xc0000000u + LOAD + 0x2000, 0x100, 0x1800},
    };
    for (unsigned cls = 32; cls <= 64; cls += 32) {
        struct mb_boot boot;
        fresh_ram(RAM_SIZE);
        uint64_t size = make_elf(cls, cls == 64 ? 62 : 3, 0xc0000000u + LOAD + 0x20, segs, 2);
        CHECK_MSG(load(size, &boot), "ELF%u: %s", cls, why);
        CHECK(boot.elf && boot.elf_class == cls);
        CHECK_EQ(boot.entry, LOAD + 0x20); /* translated to its physical address */
        CHECK(boot.image_start == LOAD && boot.image_end == LOAD + 0x3800);
        CHECK_EQ(ram_bytes[LOAD + 0x3ff], 0x11);
        CHECK_EQ(ram_bytes[LOAD + 0x400], FILL); /* between the segments: untouched */
        CHECK_EQ(ram_bytes[LOAD + 0x20ff], 0x22);
        CHECK_EQ(ram_bytes[LOAD + 0x2100], 0); /* segment 1's bss */
        CHECK_EQ(ram_bytes[LOAD + 0x37ff], 0);
    }
}

static void elf_refused(void)
{
    struct mb_boot boot;
    fresh_ram(RAM_SIZE);
    struct seg ok = {LOAD, LOAD, 0x100, 0x100};
    uint64_t size = make_elf(32, 62, LOAD, &ok, 1); /* i386 class, x86-64 machine */
    CHECK(!load(size, &boot) && strstr(why, "machine"));
    size = make_elf(64, 62, 0x100000000ull + LOAD,
                    &(struct seg){LOAD, 0x100000000ull + LOAD, 0x100, 0x100}, 1);
    CHECK(load(size, &boot) && boot.entry == LOAD); /* a high vaddr is fine ... */
    size = make_elf(64, 62, 0x200000000ull, &ok, 1);
    CHECK(!load(size, &boot) && strstr(why, "32-bit")); /* ... an entry beyond 4 GiB is not */
    struct seg bad[] = {
        {LOAD, LOAD, 0x200, 0x100},                       /* filesz > memsz */
        {RAM_SIZE - 0x80, RAM_SIZE - 0x80, 0x100, 0x100}, /* past RAM */
        {HOLE, HOLE, 0x100, 0x100},                       /* in the legacy hole */
        {LOAD, LOAD, 0x100000, 0x100000},                 /* bytes past the end of the file */
    };
    const char *needles[] = {"exceeds", "outside", "reserved", "past the end"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size = make_elf(32, 3, LOAD, &bad[i], 1);
        CHECK_MSG(!load(size, &boot) && strstr(why, needles[i]), "case %u: %s", i, why);
    }
    size = make_elf(32, 3, LOAD, &ok, 1);
    put16(file + 44, 200); /* program headers past the end of the file */
    CHECK(!load(size, &boot) && strstr(why, "program headers"));
    make_elf(32, 3, LOAD, &ok, 1);
    put32(file + 52, 6); /* not PT_LOAD: nothing to load */
    CHECK(!load(size, &boot) && strstr(why, "without a loadable"));
    make_elf(32, 3, LOAD, &ok, 1);
    put16(file + 16, 3); /* ET_DYN */
    CHECK(!load(size, &boot) && strstr(why, "type"));
    make_elf(32, 3, LOAD, &ok, 1);
    file[0] = 0; /* neither ELF nor address fields */
    CHECK(!load(size, &boot) && strstr(why, "not an ELF"));
    make_elf(64, 62, LOAD, &ok, 1);
    CHECK(!load(60, &boot)); /* ELF64 header cut short (and no header in 60 bytes) */
}

/* The module list, memory map and strings the guest gets. */
static void boot_information(void)
{
    struct mb_boot boot;
    fresh_ram(RAM_SIZE);
    memset(file, 0, sizeof(file));
    header(0, MB_FLAG_ADDRESS, (uint32_t[]){LOAD, LOAD, LOAD + 0x100, LOAD + 0x1234, LOAD});
    static const uint8_t mod_a[] = "KEELMOD1 first";
    struct mb_module mods[] = {
        {mod_a, sizeof(mod_a), "first"}, {NULL, 0, "empty"}, {file, 0x1001, "third"}};
    CHECK(mb_load(&ram, file, sizeof(file), "prog -v", mods, 3, &boot, why));
    const uint8_t *mbi = ram_bytes + boot.info;
    CHECK_EQ(boot.info % MB_PAGE_SIZE, 0);
    CHECK_EQ(le32(mbi), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    CHECK_EQ(le32(mbi + 4), 640);
    CHECK_EQ(le32(mbi + 8), (RAM_SIZE - 0x100000) / 1024);
    CHECK_STR((const char *)ram_bytes + le32(mbi + 16), "prog -v");
    CHECK_STR((const char *)ram_bytes + le32(mbi + 64), "Keel");
    CHECK_EQ(le32(mbi + 20), 3);
    const uint8_t *list = ram_bytes + le32(mbi + 24);
    uint32_t first = le32(list);
    CHECK_EQ(first, LOAD + 0x2000); /* the next page after the bss */
    CHECK_EQ(le32(list + 4), first + sizeof(mod_a));
    CHECK(memcmp(ram_bytes + first, mod_a, sizeof(mod_a)) == 0);
    CHECK_STR((const char *)ram_bytes + le32(list + 8), "first");
    CHECK_EQ(le32(list + 16), LOAD + 0x3000);
    CHECK_EQ(le32(list + 20), LOAD + 0x3000); /* empty: start == end */
    CHECK_STR((const char *)ram_bytes + le32(list + 24), "empty");
    CHECK_EQ(le32(list + 32), LOAD + 0x3000);
    CHECK_EQ(le32(list + 36), LOAD + 0x4001);
    CHECK(boot.modules_end == LOAD + 0x4001 && boot.info == LOAD + 0x5000);
    /* memory map: low RAM, the hole, RAM from 1 MiB */
    CHECK_EQ(le32(mbi + 44), 3 * 24);
    const uint8_t *e = ram_bytes + le32(mbi + 48);
    CHECK(le32(e) == 20 && le64(e + 4) == 0 && le64(e + 12) == 0xa0000 && le32(e + 20) == 1);
    CHECK(le64(e + 28) == 0xa0000 && le64(e + 36) == 0x60000 && le32(e + 44) == 2);
    CHECK(le64(e + 52) == 0x100000 && le64(e + 60) == RAM_SIZE - 0x100000 && le32(e + 68) == 1);
}

static void boot_information_refused(void)
{
    struct mb_boot boot;
    memset(file, 0, sizeof(file));
    header(0, MB_FLAG_ADDRESS, (uint32_t[]){LOAD, LOAD, LOAD + 0x100, 0, LOAD});
    fresh_ram(LOAD + 0x2000); /* room for the image and the info page, not for a module */
    struct mb_module big = {file, 0x1001, "big"};
    CHECK(!mb_load(&ram, file, sizeof(file), "", &big, 1, &boot, why) && strstr(why, "module 0"));
    CHECK(mb_load(&ram, file, sizeof(file), "", NULL, 0, &boot, why));
    fresh_ram(LOAD + 0x1000); /* no room for the info page */
    CHECK(!mb_load(&ram, file, sizeof(file), "", NULL, 0, &boot, why) && strstr(why, "no room"));
    fresh_ram(RAM_SIZE);
    struct mb_module many[MB_MAX_MODULES + 1];
    for (unsigned i = 0; i <= MB_MAX_MODULES; i++)
        many[i] = (struct mb_module){file, 1, "m"};
    CHECK(!mb_load(&ram, file, sizeof(file), "", many, MB_MAX_MODULES + 1, &boot, why));
    char longline[400];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    CHECK(mb_load(&ram, file, sizeof(file), longline, many, MB_MAX_MODULES, &boot, why));
    CHECK_EQ(strlen((const char *)ram_bytes + le32(ram_bytes + boot.info + 16)), 255);
}

static void arguments(void)
{
    struct vmm_args a;
    char err[VMM_ARGS_ERROR_MAX];
    CHECK(vmm_parse_args("", &a, err) && a.memory == 64ull << 20 && a.cpus == 1 && !a.cmdline[0]);
    CHECK(vmm_parse_args("  cpus=2 memory=16M cmdline=hello  -v x=y ", &a, err));
    CHECK(a.memory == 16ull << 20 && a.cpus == 2);
    CHECK_STR(a.cmdline, "hello  -v x=y ");
    CHECK(vmm_parse_args("memory=3G cmdline=", &a, err) && a.memory == 3ull << 30);
    CHECK(!vmm_parse_args("memory=4G", &a, err) && strstr(err, "3G"));
    CHECK(!vmm_parse_args("memory=1000K", &a, err)); /* below 1M */
    CHECK(!vmm_parse_args("memory=1026K", &a, err)); /* not a multiple of 4K */
    CHECK(!vmm_parse_args("memory=64M memory=64M", &a, err) && strstr(err, "twice"));
    CHECK(!vmm_parse_args("cpus=0", &a, err) && !vmm_parse_args("cpus=65", &a, err));
    CHECK(!vmm_parse_args("cpus=1x", &a, err));
    CHECK(!vmm_parse_args("color=blue", &a, err) && strstr(err, "unknown"));
    CHECK(!vmm_parse_args("cmdlinex=1", &a, err));
    char longargs[600];
    memset(longargs, 'y', sizeof(longargs) - 1);
    longargs[sizeof(longargs) - 1] = '\0';
    memcpy(longargs, "cmdline=", 8);
    CHECK(vmm_parse_args(longargs, &a, err) && strlen(a.cmdline) == KEEL_START_ARGS_MAX - 1 - 8);
}

static void affinity_argument(void)
{
    struct vmm_args a;
    char err[VMM_ARGS_ERROR_MAX];
    CHECK(vmm_parse_args("cpus=2", &a, err) && a.affinity_count == 0);
    CHECK(vmm_parse_args("affinity=1 cpus=2 cmdline=x", &a, err));
    CHECK(a.affinity_count == 1 && a.affinity[0] == 1 && a.cpus == 2);
    CHECK_STR(a.cmdline, "x");
    CHECK(vmm_parse_args("affinity=0,3,63,3", &a, err));
    CHECK(a.affinity_count == 4 && a.affinity[0] == 0 && a.affinity[1] == 3);
    CHECK(a.affinity[2] == 63 && a.affinity[3] == 3);
    static const char *const bad[] = {
        "affinity=",   "affinity=64",   "affinity=1,",
        "affinity=,1", "affinity=1,,2", "affinity=a",
        "affinity=-1", "affinity=0x1",  "affinity=99999999999999999999"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK_MSG(!vmm_parse_args(bad[i], &a, err) && strstr(err, "CPU numbers below 64"),
                  "'%s' accepted, or '%s'", bad[i], err);
    }
    CHECK(!vmm_parse_args("affinity=1 affinity=2", &a, err) && strstr(err, "affinity given twice"));
    /* 64 entries are fine, 65 are not */
    char list[KEEL_START_ARGS_MAX] = "affinity=0";
    for (unsigned i = 1; i < 64; i++)
        strcat(list, ",1");
    CHECK(vmm_parse_args(list, &a, err) && a.affinity_count == 64 && a.affinity[63] == 1);
    strcat(list, ",2");
    CHECK(!vmm_parse_args(list, &a, err) && strstr(err, "at most 64"));
}

/* ns <-> TSC (clock.h): exact where the rates divide, rounded the safe way
 * elsewhere, no overflow after years of uptime. */
static void clock_conversions(void)
{
    const uint64_t khz = 2500000, boot = 1000; /* 2.5 GHz */
    CHECK_EQ(clock_tsc_to_ns(boot, boot, khz), 0);
    CHECK_EQ(clock_tsc_to_ns(boot - 1, boot, khz), 0);
    CHECK_EQ(clock_tsc_to_ns(boot + 2500000, boot, khz), 1000000);
    CHECK_EQ(clock_tsc_to_ns(boot + 5, boot, khz), 2);
    CHECK_EQ(clock_ns_to_tsc(2, boot, khz), boot + 5);
    CHECK_EQ(clock_ns_to_tsc(0, boot, khz), boot);
    const uint64_t year_ns = 365ull * 24 * 3600 * 1000000000ull;
    uint64_t tsc = clock_ns_to_tsc(3 * year_ns, boot, khz);
    CHECK_EQ(tsc, boot + 3 * year_ns / 2 * 5);
    CHECK_EQ(clock_tsc_to_ns(tsc, boot, khz), 3 * year_ns);
    CHECK_EQ(clock_ns_to_tsc(UINT64_MAX, boot, khz), UINT64_MAX);
    /* An odd rate: the deadline is never early, and at most a tick late. */
    const uint64_t odd = 2893411;
    for (uint64_t ns = 0; ns < 5000000; ns += 999983) {
        uint64_t t = clock_ns_to_tsc(ns + 123456789012ull, boot, odd);
        CHECK(clock_tsc_to_ns(t, boot, odd) >= ns + 123456789012ull);
        CHECK(clock_tsc_to_ns(t - 1, boot, odd) < ns + 123456789012ull);
    }
}

static char lines[8][UART_LINE_MAX + 1];
static unsigned line_count;

static void collect(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (line_count < 8) {
        memcpy(lines[line_count], line, len);
        lines[line_count][len] = '\0';
    }
    line_count++;
}

static void uart_model(void)
{
    struct uart u;
    uart_init(&u, collect, NULL);
    line_count = 0;
    for (const char *s = "hi\tthere\r\n\nend"; *s; s++)
        uart_write(&u, UART_RBR_THR_DLL, (uint8_t)*s);
    CHECK_EQ(line_count, 2);
    CHECK_STR(lines[0], "hi there");
    CHECK_STR(lines[1], "");
    uart_flush(&u);
    CHECK(line_count == 3 && strcmp(lines[2], "end") == 0);
    for (unsigned i = 0; i < UART_LINE_MAX + 5; i++)
        uart_write(&u, UART_RBR_THR_DLL, 'z');
    CHECK_EQ(line_count, 4); /* a full line is emitted as it is */
    CHECK_EQ(strlen(lines[3]), UART_LINE_MAX);
    CHECK_EQ(uart_read(&u, UART_LSR), 0x60);
    CHECK_EQ(uart_read(&u, UART_IIR_FCR), 0x01);
    uart_write(&u, UART_IIR_FCR, 0x07);
    CHECK_EQ(uart_read(&u, UART_IIR_FCR), 0xc1);
    uart_write(&u, UART_SCR, 0x42);
    CHECK_EQ(uart_read(&u, UART_SCR), 0x42);
    uart_write(&u, UART_LCR, 0x83); /* DLAB */
    uart_write(&u, UART_RBR_THR_DLL, 0x0c);
    uart_write(&u, UART_IER_DLM, 0x01);
    CHECK(uart_read(&u, UART_RBR_THR_DLL) == 0x0c && uart_read(&u, UART_IER_DLM) == 0x01);
    uart_write(&u, UART_LCR, 0x03);
    CHECK_EQ(uart_read(&u, UART_IER_DLM), 0); /* IER untouched by the DLM write */
    uart_write(&u, UART_MCR, 0x1a);           /* loopback, RTS, OUT2 */
    CHECK_EQ(uart_read(&u, UART_MSR), 0x90);  /* CTS, DCD */
    uart_write(&u, UART_RBR_THR_DLL, 0x55);
    CHECK_EQ(uart_read(&u, UART_LSR), 0x61);
    CHECK_EQ(uart_read(&u, UART_RBR_THR_DLL), 0x55);
    CHECK_EQ(uart_read(&u, UART_LSR), 0x60);
    CHECK_EQ(line_count, 4); /* loopback bytes are not output */
    uart_write(&u, UART_MCR, 0);
    CHECK_EQ(uart_read(&u, UART_MSR), 0xb0);
    CHECK_EQ(uart_read(&u, 9), 0xff);
}

int main(void)
{
    check_begin("vmm");
    RUN(header_search);
    RUN(address_fields);
    RUN(address_fields_refused);
    RUN(elf_both_classes);
    RUN(elf_refused);
    RUN(boot_information);
    RUN(boot_information_refused);
    RUN(arguments);
    RUN(affinity_argument);
    RUN(clock_conversions);
    RUN(uart_model);
    free(ram_bytes);
    return check_finish();
}
