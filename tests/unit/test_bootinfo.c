/*
 * Host unit tests of kernel/bootinfo.c, multiboot1.c and multiboot2.c: info
 * structures built in fake physical memory (low memory at LOW, module
 * contents at MODS), well-formed and malformed.
 */
#include "bootinfo.h"
#include "check.h"
#include "fake_phys.h"

#define LOW     0x10000ull
#define MODS    0x200000ull
#define INFO    (LOW + 0x100)
#define STRINGS (LOW + 0x1000)
#define MODLIST (LOW + 0x2000)
#define MMAP    (LOW + 0x3000)

#define MB1_MEM     (1u << 0)
#define MB1_CMDLINE (1u << 2)
#define MB1_MODS    (1u << 3)
#define MB1_MMAP    (1u << 6)
#define MB1_LOADER  (1u << 9)

static uint8_t low[0x10000], mods[0x10000];
static struct fake_phys fp;
static struct boot_info bi;
static uint64_t str_next;

static void mem_reset(void)
{
    memset(low, 0, sizeof(low));
    memset(mods, 0x5a, sizeof(mods));
    fake_phys_fini(&fp);
    fake_phys_init(&fp);
    fake_phys_map(&fp, LOW, low, sizeof(low));
    fake_phys_map(&fp, MODS, mods, sizeof(mods));
    str_next = STRINGS;
}

static void put8(uint64_t phys, uint8_t v)
{
    low[phys - LOW] = v;
}

static void put32(uint64_t phys, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(phys + i, (uint8_t)(v >> (8 * i)));
}

static void put64(uint64_t phys, uint64_t v)
{
    put32(phys, (uint32_t)v);
    put32(phys + 4, (uint32_t)(v >> 32));
}

/* Places a string (with its NUL) in the string area; returns its address. */
static uint32_t str(const char *s)
{
    uint64_t at = str_next;
    memcpy(low + (at - LOW), s, strlen(s) + 1);
    str_next += strlen(s) + 1;
    return (uint32_t)at;
}

static int parse(uint32_t magic, uint64_t info)
{
    int rc = bootinfo_parse(magic, info, &fp.reader, &bi);
    diag_print("bootinfo", &bi.diag);
    return rc;
}

/* ---- multiboot1 ---- */

static void mb1_module(unsigned i, uint32_t start, uint32_t end, uint32_t string)
{
    put32(MODLIST + 16 * i, start);
    put32(MODLIST + 16 * i + 4, end);
    put32(MODLIST + 16 * i + 8, string);
}

static void mb1_mmap_entry(unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
    put32(MMAP + 24 * i, 20);
    put64(MMAP + 24 * i + 4, base);
    put64(MMAP + 24 * i + 12, len);
    put32(MMAP + 24 * i + 20, type);
}

static void mb1_info(uint32_t flags, unsigned nmods, unsigned nmmap)
{
    put32(INFO, flags);
    put32(INFO + 4, 639);
    put32(INFO + 8, 130048);
    put32(INFO + 20, nmods);
    put32(INFO + 24, (uint32_t)MODLIST);
    put32(INFO + 44, 24 * nmmap);
    put32(INFO + 48, (uint32_t)MMAP);
}

static void mb1_full(void)
{
    mem_reset();
    mb1_info(MB1_MEM | MB1_CMDLINE | MB1_MODS | MB1_MMAP | MB1_LOADER, 2, 3);
    put32(INFO + 16, str("/boot/keel.elf console=com2"));
    put32(INFO + 64, str("GRUB 2.06"));
    mb1_module(0, MODS, MODS + 0x1000, str("/boot/init.elf init"));
    mb1_module(1, MODS + 0x1000, MODS + 0x3000, str("build/vmm.elf  vmm\t"));
    mb1_mmap_entry(0, 0, 0x9fc00, 1);
    mb1_mmap_entry(1, 0xf0000, 0x10000, 2);
    mb1_mmap_entry(2, 0x100000, 0x7ee0000, 1);
    CHECK_EQ(parse(MULTIBOOT1_BOOT_MAGIC, INFO), 0);
    CHECK_NO_DIAG(&bi.diag);
    CHECK_EQ(bi.protocol, 1);
    CHECK_STR(bi.cmdline, "/boot/keel.elf console=com2");
    CHECK_STR(bi.loader_name, "GRUB 2.06");
    CHECK_EQ(bi.module_count, 2);
    CHECK_STR(bi.modules[0].name, "init");
    CHECK_EQ(bi.modules[0].start, MODS);
    CHECK_EQ(bi.modules[0].end, MODS + 0x1000);
    CHECK_STR(bi.modules[1].name, "vmm");
    CHECK_EQ(bi.memmap.count, 3);
    CHECK_EQ(bi.memmap.entries[2].base, 0x100000);
    CHECK_EQ(bi.memmap.entries[2].length, 0x7ee0000);
    CHECK_EQ(bi.memmap.entries[1].type, MEMMAP_RESERVED);
    CHECK_EQ(bi.info_start, INFO);
    CHECK(bi.info_end >= INFO + 88 && bi.info_end <= INFO + 4096);
    CHECK_EQ(bi.rsdp_length, 0);
    CHECK(bootinfo_find_module(&bi, "vmm") == &bi.modules[1]);
    CHECK(bootinfo_find_module(&bi, "init") == &bi.modules[0]);
    CHECK(bootinfo_find_module(&bi, "vm") == NULL);
    CHECK(bootinfo_find_module(&bi, NULL) == NULL);
    CHECK(bootinfo_find_module(NULL, "vmm") == NULL);
}

static void mb1_basic_memory(void)
{
    mem_reset();
    mb1_info(MB1_MEM, 0, 0);
    CHECK_EQ(parse(MULTIBOOT1_BOOT_MAGIC, INFO), 0);
    CHECK_NO_DIAG(&bi.diag);
    CHECK_EQ(bi.memmap.count, 2);
    CHECK_EQ(bi.memmap.entries[0].length, 639 * 1024);
    CHECK_EQ(bi.memmap.entries[1].base, 0x100000);
    CHECK_EQ(bi.memmap.entries[1].length, 130048ull * 1024);
    CHECK_EQ(bi.module_count, 0);
    CHECK_STR(bi.cmdline, "");
    put32(INFO + 4, 4000000);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "multiboot: mem_lower is 4000000 KiB (more than 640); taken as 640");
    CHECK_EQ(bi.memmap.entries[0].length, 640 * 1024);
    put32(INFO, 0);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "multiboot: no memory information (flags 0x0)");
    CHECK_EQ(bi.memmap.count, 0);
}

static void mb1_bad_mmap(void)
{
    mem_reset();
    mb1_info(MB1_MEM | MB1_MMAP, 0, 3);
    mb1_mmap_entry(0, 0, 0x9fc00, 1);
    mb1_mmap_entry(1, 0x100000, 0x100000, 1);
    mb1_mmap_entry(2, 0x200000, 0x100000, 1);
    put32(MMAP + 24, 12); /* entry 1 claims 12 bytes */
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "memory map entry 1 has size 12 (below 20); the rest is ignored");
    CHECK_EQ(bi.memmap.count, 1);
    put32(MMAP + 24, 0xffffffffu); /* absurd */
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "has size 4294967295 (past the map's end)");
    CHECK_EQ(bi.memmap.count, 1);
    put32(MMAP, 0); /* the first entry is bad: fall back to mem_lower/upper */
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "no usable memory map; using mem_lower/mem_upper");
    CHECK_EQ(bi.memmap.count, 2);
    /* A 24-byte stride with a larger size field: entries of size 28. */
    mem_reset();
    mb1_info(MB1_MMAP, 0, 0);
    put32(INFO + 44, 2 * 32 + 3);
    for (int i = 0; i < 2; i++) {
        put32(MMAP + 32 * i, 28);
        put64(MMAP + 32 * i + 4, 0x100000ull * (i + 1));
        put64(MMAP + 32 * i + 12, 0x1000);
        put32(MMAP + 32 * i + 20, 1);
    }
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.memmap.count, 2);
    CHECK_EQ(bi.memmap.entries[1].base, 0x200000);
    CHECK_DIAG(&bi.diag, "3 stray bytes after the memory map's last entry ignored");
}

static void mb1_mmap_huge_or_outside(void)
{
    mem_reset();
    mb1_info(MB1_MMAP, 0, 0);
    put32(INFO + 44, 0x10000000);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "memory map is 268435456 bytes; only the first 65536 are used");
    CHECK_DIAG(&bi.diag, "is not readable");
    CHECK_DIAG(&bi.diag, "no memory information");
    put32(INFO + 44, 24);
    put32(INFO + 48, 0xfffffff0u); /* runs off the top of 4 GiB */
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "memory map at 0xfffffff0 (24 bytes) is not readable");
    put32(INFO + 44, 0);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "multiboot: memory map is empty");
}

/* Overlapping entries are passed on raw; memmap_normalize() repairs them. */
static void mb1_overlapping_mmap(void)
{
    mem_reset();
    mb1_info(MB1_MMAP, 0, 3);
    mb1_mmap_entry(0, 0, 0x1000000, 1);
    mb1_mmap_entry(1, 0x800000, 0x1000, 2);
    mb1_mmap_entry(2, 0x400000, 0, 1);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.memmap.count, 2);
    CHECK_DIAG(&bi.diag, "memory map: empty entry at 0x400000 dropped");
    struct diag d = {0};
    memmap_normalize(&bi.memmap, &d);
    CHECK_EQ(bi.memmap.count, 3);
    CHECK_DIAG(&d, "2 overlapping entries");
}

static void mb1_bad_pointers(void)
{
    mem_reset();
    mb1_info(MB1_CMDLINE | MB1_MODS | MB1_LOADER | MB1_MEM, 1, 0);
    put32(INFO + 16, 0xdead0000u);
    put32(INFO + 64, (uint32_t)(LOW + sizeof(low) - 3)); /* runs off the region */
    put8(LOW + sizeof(low) - 3, 'a');
    put8(LOW + sizeof(low) - 2, 'b');
    put8(LOW + sizeof(low) - 1, 'c');
    put32(INFO + 24, 0xfffffff8u);
    CHECK_EQ(parse(MULTIBOOT1_BOOT_MAGIC, INFO), 0);
    CHECK_DIAG(&bi.diag, "multiboot: command line is not readable; ignored");
    CHECK_DIAG(&bi.diag, "multiboot: boot loader name is not readable; ignored");
    CHECK_DIAG(&bi.diag, "multiboot: module list at 0xfffffff8 (1 entries) is not readable");
    CHECK_STR(bi.cmdline, "");
    CHECK_STR(bi.loader_name, "");
    CHECK_EQ(bi.module_count, 0);
    CHECK_EQ(bi.memmap.count, 2);
}

static void mb1_info_unreadable(void)
{
    mem_reset();
    CHECK_EQ(parse(MULTIBOOT1_BOOT_MAGIC, 0x5000000), 0);
    CHECK_DIAG(&bi.diag, "multiboot: info structure at 0x5000000 (12 bytes) is not readable");
    CHECK_EQ(bi.memmap.count, 0);
    /* Flags readable, but the fields they need run off the region. */
    uint64_t at = LOW + sizeof(low) - 20;
    put32(at, MB1_LOADER | MB1_MEM);
    parse(MULTIBOOT1_BOOT_MAGIC, at);
    CHECK_DIAG(&bi.diag, "(68 bytes) is not readable");
    CHECK_EQ(bi.memmap.count, 0);
    CHECK_EQ(parse(MULTIBOOT1_BOOT_MAGIC, UINT64_MAX - 2), 0);
    CHECK(bi.info_end >= bi.info_start);
}

static void mb1_modules(void)
{
    mem_reset();
    mb1_info(MB1_MODS, 7, 0);
    mb1_module(0, MODS, MODS + 0x100, str("/boot/a.elf a"));
    mb1_module(1, MODS + 0x100, MODS + 0x100, str("/boot/init.elf init")); /* empty */
    mb1_module(2, MODS + 0x200, MODS + 0x100, str("b"));                   /* ends first */
    mb1_module(3, 0x7000000, 0x7001000, str("c"));                         /* not in memory */
    mb1_module(4, MODS, MODS + 0x10, 0);                                   /* no string */
    mb1_module(5, MODS, MODS + 0x10, str("  \t "));                        /* no words */
    mb1_module(6, MODS, MODS + 0x10, str("x a_very_long_module_name_beyond_31_chars"));
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.module_count, 5);
    CHECK_STR(bi.modules[0].name, "a");
    CHECK_STR(bi.modules[1].name, "init");
    CHECK_EQ(bi.modules[1].start, bi.modules[1].end);
    CHECK_DIAG(&bi.diag, "multiboot: module 1 ('init') is empty (0 bytes)");
    CHECK_DIAG(&bi.diag, "module 2 ('b') ends at 0x200100, before its start 0x200200; dropped");
    CHECK_DIAG(&bi.diag, "module 3 ('c') at 0x7000000-0x7001000 is unreadable; dropped");
    CHECK_STR(bi.modules[2].name, "module4");
    CHECK_STR(bi.modules[3].name, "module5");
    CHECK_STR(bi.modules[4].name, "a_very_long_module_name_beyond_");
    CHECK_DIAG(&bi.diag, "module 6's command line is longer than 31 bytes; truncated");
    CHECK(bootinfo_find_module(&bi, "b") == NULL);
    CHECK(bootinfo_find_module(&bi, "module4") == &bi.modules[2]);
}

static void mb1_module_names_odd(void)
{
    mem_reset();
    mb1_info(MB1_MODS, 3, 0);
    mb1_module(0, MODS, MODS + 1, str("dup"));
    mb1_module(1, MODS, MODS + 1, str("/x dup"));
    mb1_module(2, MODS, MODS + 1, (uint32_t)(LOW + sizeof(low) - 2)); /* "zz" runs off */
    put8(LOW + sizeof(low) - 2, 'z');
    put8(LOW + sizeof(low) - 1, 'z');
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.module_count, 3);
    CHECK_DIAG(&bi.diag, "modules 0 and 1 are both named 'dup'; lookups find the first");
    CHECK_DIAG(&bi.diag, "module 2's command line is not readable; ignored");
    CHECK_STR(bi.modules[2].name, "module2");
    CHECK(bootinfo_find_module(&bi, "dup") == &bi.modules[0]);
}

static void mb1_too_many_modules(void)
{
    mem_reset();
    mb1_info(MB1_MODS, 40, 0);
    for (unsigned i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%u", i);
        mb1_module(i, MODS, MODS + 0x100, str(name));
    }
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.module_count, BOOT_MODULES_MAX);
    CHECK_STR(bi.modules[31].name, "m31");
    CHECK_DIAG(&bi.diag, "multiboot: 40 modules; Keel keeps the first 32");
    put32(INFO + 20, 0xffffffffu);
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.module_count, BOOT_MODULES_MAX);
}

static void mb1_long_strings(void)
{
    mem_reset();
    mb1_info(MB1_CMDLINE | MB1_LOADER, 0, 0);
    memset(low + (STRINGS - LOW), 'k', 5000);
    put32(INFO + 16, (uint32_t)STRINGS);
    put8(STRINGS + 5000, 0);
    str_next = STRINGS + 5001;
    put32(INFO + 64, str("loader\x01\x7f"));
    parse(MULTIBOOT1_BOOT_MAGIC, INFO);
    CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    CHECK_DIAG(&bi.diag, "multiboot: command line is longer than 1023 bytes; truncated");
    CHECK_STR(bi.loader_name, "loader??");
}

static void unknown_magic(void)
{
    mem_reset();
    CHECK_EQ(parse(0x12345678, INFO), -1);
    CHECK_DIAG(&bi.diag, "boot: unknown boot loader magic 0x12345678; no boot information");
    CHECK_EQ(bi.protocol, 0);
}

/* ---- multiboot2 ---- */

static uint64_t tag_at;

static void mb2_begin(void)
{
    mem_reset();
    tag_at = INFO + 8;
}

/* A tag whose size field is size (normally 8 + len), then 8-byte padding. */
static void mb2_tag_sized(uint32_t type, uint32_t size, const void *payload, uint32_t len)
{
    put32(tag_at, type);
    put32(tag_at + 4, size);
    if (len > 0)
        memcpy(low + (tag_at + 8 - LOW), payload, len);
    tag_at += (8 + len + 7) & ~7u;
}

static void mb2_tag(uint32_t type, const void *payload, uint32_t len)
{
    mb2_tag_sized(type, 8 + len, payload, len);
}

static void mb2_end(void)
{
    mb2_tag(0, NULL, 0);
    put32(INFO, (uint32_t)(tag_at - INFO));
}

static void mb2_module(uint32_t start, uint32_t end, const char *cmd)
{
    uint8_t p[256];
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    memcpy(p + 8, cmd, strlen(cmd) + 1);
    mb2_tag(3, p, 8 + (uint32_t)strlen(cmd) + 1);
}

/* A memory map tag with entries of entry_size bytes. */
static void mb2_mmap(uint32_t entry_size, uint32_t version, unsigned n, const uint64_t (*e)[3])
{
    uint8_t p[1024] = {0};
    memcpy(p, &entry_size, 4);
    memcpy(p + 4, &version, 4);
    for (unsigned i = 0; i < n; i++) {
        uint32_t type = (uint32_t)e[i][2];
        memcpy(p + 8 + i * entry_size, &e[i][0], 8);
        memcpy(p + 8 + i * entry_size + 8, &e[i][1], 8);
        memcpy(p + 8 + i * entry_size + 16, &type, 4);
    }
    mb2_tag(6, p, 8 + n * entry_size);
}

static const uint64_t qemu_map[3][3] = {
    {0, 0x9fc00, 1}, {0xf0000, 0x10000, 2}, {0x100000, 0x7ee0000, 1}};

static void mb2_full(void)
{
    mb2_begin();
    mb2_tag(1, "console=com2 keel.test=fault", 29);
    mb2_tag(2, "GRUB 2.06", 10);
    mb2_module(MODS, MODS + 0x1000, "/boot/init.elf init");
    mb2_module(MODS + 0x1000, MODS + 0x1800, "vmm");
    uint32_t meminfo[2] = {639, 1024};
    mb2_tag(4, meminfo, 8);
    mb2_mmap(24, 0, 3, qemu_map);
    uint8_t rsdp_old[20], rsdp_new[36];
    memset(rsdp_old, 1, sizeof(rsdp_old));
    memset(rsdp_new, 2, sizeof(rsdp_new));
    mb2_tag(15, rsdp_new, 36);
    mb2_tag(14, rsdp_old, 20);          /* the new one is preferred whatever the order */
    mb2_tag(21, "\x00\x00\x00\x00", 4); /* unknown tags are skipped */
    mb2_end();
    CHECK_EQ(parse(MULTIBOOT2_BOOT_MAGIC, INFO), 0);
    CHECK_NO_DIAG(&bi.diag);
    CHECK_EQ(bi.protocol, 2);
    CHECK_STR(bi.cmdline, "console=com2 keel.test=fault");
    CHECK_STR(bi.loader_name, "GRUB 2.06");
    CHECK_EQ(bi.module_count, 2);
    CHECK_STR(bi.modules[0].name, "init");
    CHECK_EQ(bi.modules[1].end, MODS + 0x1800);
    CHECK_EQ(bi.memmap.count, 3); /* the mmap wins over basic meminfo */
    CHECK_EQ(bi.memmap.entries[2].length, 0x7ee0000);
    CHECK_EQ(bi.rsdp_length, 36);
    CHECK_EQ(bi.rsdp[0], 2);
    CHECK_EQ(bi.info_start, INFO);
    CHECK_EQ(bi.info_end, tag_at);
}

static void mb2_rsdp_and_meminfo(void)
{
    mb2_begin();
    uint8_t rsdp_old[20];
    memset(rsdp_old, 1, sizeof(rsdp_old));
    mb2_tag(14, rsdp_old, 20);
    mb2_tag(15, rsdp_old, 20); /* too short for a new RSDP */
    uint32_t meminfo[2] = {639, 1024};
    mb2_tag(4, meminfo, 8);
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.rsdp_length, 20);
    CHECK_DIAG(&bi.diag, "ACPI new RSDP tag holds 20 bytes (< 36); ignored");
    CHECK_EQ(bi.memmap.count, 2);
    CHECK_EQ(bi.memmap.entries[1].length, 1024 * 1024);
}

static void mb2_bad_total_size(void)
{
    mb2_begin();
    mb2_end();
    put32(INFO, 4);
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "info total_size 4 is below its 8-byte header; nothing parsed");
    put32(INFO, 0x7fffffff);
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "info total_size 2147483647 exceeds 1048576");
    CHECK_DIAG(&bi.diag, "(1048576 bytes) is not readable");
    CHECK_EQ(bi.info_end, INFO + (1u << 20));
    parse(MULTIBOOT2_BOOT_MAGIC, 0x9000000);
    CHECK_DIAG(&bi.diag, "multiboot2: info structure at 0x9000000 is not readable");
    put32(INFO, 8); /* header only: no end tag */
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "no end tag within total_size 8");
    CHECK_DIAG(&bi.diag, "multiboot2: no memory information");
}

static void mb2_bad_tag_sizes(void)
{
    mb2_begin();
    mb2_tag(1, "ok", 3);
    mb2_tag_sized(5, 0, NULL, 0); /* size 0 must not loop */
    mb2_tag(2, "never seen", 11);
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_STR(bi.cmdline, "ok");
    CHECK_DIAG(&bi.diag, "tag type 5 at offset 24 has size 0 (below 8); the rest is ignored");
    CHECK_STR(bi.loader_name, "");
    mb2_begin();
    mb2_tag(1, "ok", 3);
    mb2_tag_sized(2, 0x10000, "x", 2); /* past total_size */
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "tag type 2 at offset 24 has size 65536 (past the end)");
    /* A string tag without NUL, cut by its size. */
    mb2_begin();
    mb2_tag_sized(1, 8 + 4, "abcdefgh", 8);
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_STR(bi.cmdline, "abcd");
    CHECK_DIAG(&bi.diag, "multiboot2: command line has no terminating NUL; cut where it ends");
}

static void mb2_bad_mmap(void)
{
    mb2_begin();
    mb2_mmap(16, 0, 2, qemu_map);
    uint32_t meminfo[2] = {100, 200};
    mb2_tag(4, meminfo, 8);
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "memory map entry_size 16 (< 24); map ignored");
    CHECK_EQ(bi.memmap.count, 2); /* from basic meminfo */
    mb2_begin();
    mb2_mmap(40, 1, 3, qemu_map); /* a larger stride, a newer version */
    mb2_mmap(24, 0, 1, qemu_map);
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_EQ(bi.memmap.count, 3);
    CHECK_EQ(bi.memmap.entries[2].base, 0x100000);
    CHECK_DIAG(&bi.diag, "memory map entry_version 1; read as version 0");
    CHECK_DIAG(&bi.diag, "second memory map tag ignored");
    mb2_begin();
    uint8_t p[8 + 24 + 10] = {24};
    mb2_tag(6, p, sizeof(p));
    mb2_tag(6, p, 4); /* shorter than the tag's own fields */
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "memory map tag ends in a partial entry");
    CHECK_DIAG(&bi.diag, "empty entry at 0x0 dropped");
    CHECK_DIAG(&bi.diag, "memory map tag is 12 bytes (< 16); ignored");
}

static void mb2_modules(void)
{
    mb2_begin();
    mb2_module(MODS, MODS, "/boot/init.elf init");
    mb2_module(MODS, MODS + 1, "");
    mb2_tag(3, "\x00\x00\x20\x00", 4); /* too short for mod_end */
    uint8_t p[8 + 4] = {0, 0, 0x20, 0, 0x10, 0, 0x20, 0, 'a', ' ', 'b', 'c'}; /* no NUL */
    mb2_tag(3, p, sizeof(p));
    for (int i = 0; i < 35; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", i);
        mb2_module(MODS, MODS + 2, name);
    }
    mb2_end();
    parse(MULTIBOOT2_BOOT_MAGIC, INFO);
    CHECK_DIAG(&bi.diag, "multiboot2: module 0 ('init') is empty (0 bytes)");
    CHECK_STR(bi.modules[1].name, "module1");
    CHECK_DIAG(&bi.diag, "module tag 2 is 12 bytes (< 16); ignored");
    CHECK_STR(bi.modules[2].name, "bc");
    CHECK_EQ(bi.modules[2].end, MODS + 0x10);
    CHECK_DIAG(&bi.diag, "module 3's command line has no terminating NUL");
    CHECK_EQ(bi.module_count, BOOT_MODULES_MAX);
    CHECK_DIAG(&bi.diag, "multiboot2: 39 modules; Keel keeps the first 32");
}

int main(void)
{
    check_begin("bootinfo");
    RUN(mb1_full);
    RUN(mb1_basic_memory);
    RUN(mb1_bad_mmap);
    RUN(mb1_mmap_huge_or_outside);
    RUN(mb1_overlapping_mmap);
    RUN(mb1_bad_pointers);
    RUN(mb1_info_unreadable);
    RUN(mb1_modules);
    RUN(mb1_module_names_odd);
    RUN(mb1_too_many_modules);
    RUN(mb1_long_strings);
    RUN(unknown_magic);
    RUN(mb2_full);
    RUN(mb2_rsdp_and_meminfo);
    RUN(mb2_bad_total_size);
    RUN(mb2_bad_tag_sizes);
    RUN(mb2_bad_mmap);
    RUN(mb2_modules);
    fake_phys_fini(&fp);
    return check_finish();
}
