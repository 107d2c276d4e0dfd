/*
 * Writes the seed corpus of the fuzz targets: gen_seeds DIR creates
 * DIR/<target>/<name> files. The seeds are well-formed inputs in each
 * target's input format (see fuzz_*.c), from which libFuzzer mutates; the
 * output is checked in under tests/fuzz/corpus/ (`make fuzz-seeds` rewrites
 * it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/elf_sample.h"
#include <sys/stat.h>

static const char *out_dir;
static uint8_t blob[8192];
static size_t blob_len;

static void put8(size_t at, uint8_t v)
{
    blob[at] = v;
    if (at + 1 > blob_len)
        blob_len = at + 1;
}

static void put32(size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(at + i, (uint8_t)(v >> (8 * i)));
}

static void put64(size_t at, uint64_t v)
{
    put32(at, (uint32_t)v);
    put32(at + 4, (uint32_t)(v >> 32));
}

static void put_bytes(size_t at, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(at + i, ((const uint8_t *)p)[i]);
}

static void reset(void)
{
    memset(blob, 0, sizeof(blob));
    blob_len = 0;
}

static void save(const char *target, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void save_blob(const char *target, const char *name)
{
    save(target, name, blob, blob_len);
}

static void seeds_cmdline(void)
{
    static const char *lines[] = {
        "console=com2 loglevel=7",
        "/boot/keel.elf console=none keel.test=fault,bad-memmap",
        "keel.elf keel.test=acpi-bad-checksum,acpi-truncated,madt-extra-cpus loglevel=0",
        "console=com1 \x01\x02\x1b[2J\x7f\xfe\xff frobnicate=1 loglevel=99 console=com7 =",
    };
    for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "line%u", i);
        save("cmdline", name, lines[i], strlen(lines[i]));
    }
}

/* Multiboot1 info at 0 (spec 0.6.96 section 3.3), pointers into the blob. */
static void seeds_multiboot1(void)
{
    reset();
    put32(0, 0x1 | 0x4 | 0x8 | 0x40 | 0x200);
    put32(4, 639);
    put32(8, 130048);
    put32(16, 0x100);
    put_bytes(0x100, "/boot/keel.elf console=com2", 28);
    put32(20, 2);
    put32(24, 0x200);
    put32(0x200, 0x400), put32(0x204, 0x440), put32(0x208, 0x140);
    put32(0x210, 0x440), put32(0x214, 0x440), put32(0x218, 0x160);
    put_bytes(0x140, "/boot/init.elf init", 20);
    put_bytes(0x160, "vmm", 4);
    put32(44, 3 * 24);
    put32(48, 0x300);
    const uint64_t map[3][3] = {{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0x100000, 0x7ee0000, 1}};
    for (int i = 0; i < 3; i++) {
        put32(0x300 + 24 * i, 20);
        put64(0x304 + 24 * i, map[i][0]);
        put64(0x30c + 24 * i, map[i][1]);
        put32(0x314 + 24 * i, (uint32_t)map[i][2]);
    }
    put32(64, 0x180);
    put_bytes(0x180, "GRUB 2.06", 10);
    put8(0x4ff, 0);
    save_blob("multiboot1", "full");
    put32(0, 0x1);
    save_blob("multiboot1", "meminfo-only");
}

static size_t mb2_at;

static void mb2_tag(uint32_t type, const void *payload, uint32_t len)
{
    put32(mb2_at, type);
    put32(mb2_at + 4, 8 + len);
    put_bytes(mb2_at + 8, payload, len);
    mb2_at += (8 + len + 7) & ~7u;
}

/* Multiboot2 info at 0 (Multiboot2 spec section 3.6). */
static void seeds_multiboot2(void)
{
    reset();
    mb2_at = 8;
    mb2_tag(1, "console=com2 keel.test=fault", 29);
    mb2_tag(2, "GRUB 2.06", 10);
    uint8_t mod[28] = {0};
    uint32_t start = 0x400, end = 0x480;
    memcpy(mod, &start, 4);
    memcpy(mod + 4, &end, 4);
    memcpy(mod + 8, "/boot/init.elf init", 20);
    mb2_tag(3, mod, 28);
    uint32_t meminfo[2] = {639, 130048};
    mb2_tag(4, meminfo, 8);
    uint8_t mmap[8 + 3 * 24] = {24};
    const uint64_t map[3][3] = {{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0x100000, 0x7ee0000, 1}};
    for (int i = 0; i < 3; i++) {
        memcpy(mmap + 8 + 24 * i, &map[i][0], 8);
        memcpy(mmap + 16 + 24 * i, &map[i][1], 8);
        uint32_t t = (uint32_t)map[i][2];
        memcpy(mmap + 24 + 24 * i, &t, 4);
    }
    mb2_tag(6, mmap, sizeof(mmap));
    uint8_t rsdp[36] = "RSD PTR ";
    mb2_tag(14, rsdp, 20);
    mb2_tag(15, rsdp, 36);
    mb2_tag(0, NULL, 0);
    put32(0, (uint32_t)mb2_at);
    if (blob_len < 0x480)
        put8(0x47f, 0);
    save_blob("multiboot2", "full");
}

static uint8_t sum_at(size_t at, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + blob[at + i]);
    return s;
}

static void table_header(size_t at, const char *sig, uint32_t len, uint8_t revision)
{
    put8(at + len - 1, 0); /* the whole table lies in the blob */
    put_bytes(at, sig, 4);
    put32(at + 4, len);
    put8(at + 8, revision);
    put_bytes(at + 10, "KEELOE", 6);
}

static void table_checksum(size_t at, uint32_t len)
{
    put8(at + 9, 0);
    put8(at + 9, (uint8_t)-sum_at(at, len));
}

/* RSDP at 16 -> RSDT (and XSDT) -> MADT, FADT, HPET (ACPI 6.5 chapter 5). */
static void seeds_acpi(void)
{
    reset();
    const size_t rsdt = 0x40, xsdt = 0x80, madt = 0x100, fadt = 0x200, hpet = 0x300;
    table_header(madt, "APIC", 44 + 3 * 8 + 12 + 10 + 16, 4);
    put32(madt + 36, 0xfee00000u);
    put32(madt + 40, 1);
    size_t e = madt + 44;
    for (int i = 0; i < 3; i++, e += 8) {
        uint8_t lapic[8] = {0, 8, (uint8_t)i, (uint8_t)i, i < 2, 0, 0, 0};
        put_bytes(e, lapic, 8);
    }
    uint8_t ioapic[12] = {1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0};
    put_bytes(e, ioapic, 12), e += 12;
    uint8_t iso[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};
    put_bytes(e, iso, 10), e += 10;
    uint8_t x2[16] = {9, 16, 0, 0, 0x2c, 1, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0};
    put_bytes(e, x2, 16);
    table_checksum(madt, 44 + 3 * 8 + 12 + 10 + 16);
    table_header(fadt, "FACP", 244, 3);
    put32(fadt + 76, 0x608);
    put8(fadt + 91, 4);
    put32(fadt + 112, 1u << 8);
    uint8_t gas[12] = {1, 32, 0, 3, 0x08, 0x06};
    put_bytes(fadt + 208, gas, 12);
    table_checksum(fadt, 244);
    table_header(hpet, "HPET", 56, 1);
    put64(hpet + 44, 0xfed00000u);
    put8(hpet + 53, 0x80);
    table_checksum(hpet, 56);
    table_header(rsdt, "RSDT", 36 + 12, 1);
    put32(rsdt + 36, madt), put32(rsdt + 40, fadt), put32(rsdt + 44, hpet);
    table_checksum(rsdt, 48);
    table_header(xsdt, "XSDT", 36 + 24, 1);
    put64(xsdt + 36, madt), put64(xsdt + 44, fadt), put64(xsdt + 52, hpet);
    table_checksum(xsdt, 60);

    put_bytes(16, "RSD PTR ", 8);
    put_bytes(16 + 9, "KEELOE", 6);
    put32(16 + 16, rsdt);
    put8(16 + 8, (uint8_t)-sum_at(16, 20));
    save_blob("acpi", "rsdt");
    put8(16 + 15, 2);
    put32(16 + 20, 36);
    put64(16 + 24, xsdt);
    put8(16 + 8, 0);
    put8(16 + 8, (uint8_t)-sum_at(16, 20));
    put8(16 + 32, (uint8_t)-sum_at(16, 36));
    save_blob("acpi", "xsdt");
}

struct mm_record {
    uint64_t base, length;
    uint8_t control;
};

static void seeds_memmap(void)
{
    static const struct mm_record recs[] = {
        {0, 0x9fc00, 1},          {0x9fc00, 0x400, 2},    {0xf0000, 0x10000, 2},
        {0x100000, 0x7ee0000, 1}, {0x9f800, 0x1000, 2},   {0x300800, 0x2000, 4},
        {0x100234, 0x3456, 1},    {0x100000, 0x80000, 6}, /* reservations from here */
        {0x200000, 0x1234, 7},    {0x20, 0x30, 0x80 | 5},
    };
    uint8_t buf[1 + sizeof(recs) / sizeof(recs[0]) * 17];
    buf[0] = 7;
    for (unsigned i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        memcpy(buf + 1 + 17 * i, &recs[i].base, 8);
        memcpy(buf + 9 + 17 * i, &recs[i].length, 8);
        buf[17 + 17 * i] = recs[i].control;
    }
    save("memmap", "qemu-bad", buf, sizeof(buf));
    buf[0] = 4;
    save("memmap", "qemu", buf, 1 + 4 * 17);
}

/* guest_walk: header (fuzz_guest_walk.c) then guest RAM at GPA 0. Tables
 * share the frames 0 and 0x1000 (distinct indices at each level); the leaf
 * page 0x1000 holds instruction bytes at 0x800. */
#define GW_RAM      44
#define GW_P_RW_US  0x7ull
#define GW_PS       0x80ull
#define GW_CR0_PG   ((1ull << 31) | (1ull << 16) | 1)
#define GW_EFER_LMA ((1ull << 10) | (1ull << 8) | (1ull << 11))

static void gw_header(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer, uint64_t linear,
                      uint8_t access, uint8_t mode)
{
    reset();
    put64(0, cr0);
    put64(8, cr3);
    put64(16, cr4);
    put64(24, efer);
    put64(32, linear);
    put8(40, 40); /* MAXPHYADDR */
    put8(41, access);
    put8(42, 15); /* fetch length */
    put8(43, mode);
    put_bytes(GW_RAM + 0x1800, "\x48\x89\x18\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90", 15);
}

static void seeds_guest_walk(void)
{
    uint64_t lin4 = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x800;
    gw_header(GW_CR0_PG, 0, 0x20, GW_EFER_LMA, lin4, 0x14, 4);
    put64(GW_RAM + 1 * 8, 0x1000 | GW_P_RW_US);
    put64(GW_RAM + 0x1000 + 2 * 8, GW_P_RW_US) /* frame 0 */;
    put64(GW_RAM + 3 * 8, 0x1000 | GW_P_RW_US);
    put64(GW_RAM + 0x1000 + 4 * 8, 0x1000 | GW_P_RW_US);
    save_blob("guest_walk", "long4");
    /* The same with a PML5 at 0x1000 (index 6) in front. */
    put64(32, lin4 | (6ull << 48));
    put64(8, 0x1000);
    put64(16, 0x20 | (1ull << 12));
    put64(GW_RAM + 0x1000 + 6 * 8, GW_P_RW_US) /* frame 0 */;
    put8(43, 5);
    save_blob("guest_walk", "long5");
    /* 1 GiB page at 1 GiB, read through the RAM alias. */
    gw_header(GW_CR0_PG, 0, 0x20, GW_EFER_LMA, (2ull << 30) | 0x1800, 0x12, 4 | 8);
    put64(GW_RAM, 0x1000 | GW_P_RW_US);
    put64(GW_RAM + 0x1000 + 2 * 8, 0x40000000 | GW_PS | GW_P_RW_US);
    save_blob("guest_walk", "long4-1g-alias");
    /* PAE: PDPT at 0x20, PD at 0, PT at 0x1000, XD on the PTE. */
    gw_header(GW_CR0_PG, 0x20, 0x20, 1ull << 11, (3u << 30) | (1u << 21) | (5u << 12) | 0x800, 0x10,
              3);
    put64(GW_RAM + 0x20 + 3 * 8, 1); /* frame 0, present */
    put64(GW_RAM + 1 * 8, 0x1000 | GW_P_RW_US);
    put64(GW_RAM + 0x1000 + 5 * 8, 0x1000 | GW_P_RW_US | (1ull << 63));
    save_blob("guest_walk", "pae-xd");
    /* 32-bit paging: a 4 KiB page, and a 4 MiB page with CR4.PSE. */
    gw_header(GW_CR0_PG, 0, 0x10, 0, (3u << 22) | (1u << 12) | 0x800, 0x06, 2);
    put32(GW_RAM + 3 * 4, 0x1000 | 7);
    put32(GW_RAM + 0x1000 + 1 * 4, 0x1000 | 7);
    save_blob("guest_walk", "paging32");
    gw_header(GW_CR0_PG, 0, 0x10, 0, (2u << 22) | 0x1800, 0x14, 2 | 8);
    put32(GW_RAM + 2 * 4, 0x00400000 | (0x3u << 13) | 0x80 | 7);
    save_blob("guest_walk", "pse36-alias");
    gw_header(1, 0, 0, 0, 0xffff1800, 0x10, 1 | 8);
    save_blob("guest_walk", "paging-off");
}

/* mmio_decode: a mode byte (0 16-bit, 1 32-bit, 2 64-bit) then the bytes. */
static void seeds_mmio_decode(void)
{
    static const struct {
        const char *name;
        uint8_t mode;
        const char *bytes;
        size_t len;
    } insns[] = {
        {"store-rip", 2, "\x48\x89\x15\xf9\x00\x00\x00", 7},
        {"load-sib", 2, "\x47\x8a\x7c\xff\x80", 5},
        {"imm64", 2, "\x48\xc7\x00\xfe\xff\xff\xff", 7},
        {"moffs64", 2, "\x48\xa3\x88\x77\x66\x55\x44\x33\x22\x11", 10},
        {"movzx", 2, "\x4c\x0f\xb7\x5e\x04", 5},
        {"long15", 2, "\x3e\x26\x2e\x36\x66\x43\xc7\x84\xc8\x78\x56\x34\x12\xcd\xab", 15},
        {"high-byte", 1, "\x8a\x70\x7f", 3},
        {"imm32-abs", 1, "\xc7\x05\x78\x56\x34\x12\xef\xbe\xad\xde", 10},
        {"addr16-in-32", 1, "\x67\x89\x06\x34\x12", 5},
        {"real-bp-si", 0, "\xc7\x82\x00\x40\xff\xff", 6},
        {"real-addr32", 0, "\x67\x89\x54\x2d\x10", 5},
        {"real-moffs", 0, "\x67\xa1\x78\x56\x34\x12", 6},
    };
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        reset();
        put8(0, insns[i].mode);
        put_bytes(1, insns[i].bytes, insns[i].len);
        save_blob("mmio_decode", insns[i].name);
    }
}

/* elf_check: the valid sample image, and the same cut short. */
static void seeds_elf_check(void)
{
    struct image im = {{0}};
    make_valid(&im);
    save("elf_check", "valid", im.bytes, sizeof(im.bytes));
    save("elf_check", "truncated", im.bytes, 200);
}

/* manifest: the documented example, every key, CRLF, and many errors. */
static void seeds_manifest(void)
{
    static const char *texts[] = {
        "# docs/manifest.md\n[vm hello]\nimage = hello   # the guest\ncmdline = \"hello -v\"\n"
        "modules = env\nmemory = 64M\ncpus = 1\nautostart = yes\non_exit = keep\n",
        "\xef\xbb\xbf[vm web]\r\nimage=linux\r\ncmdline = \"console=ttyS0 \\\"#\\\\\"\r\n"
        "modules = initrd, env data\r\nmemory = 512M\r\ncpus = 4\r\non_exit = poweroff\r\n"
        "[vm db]\r\nimage = db\r\nautostart = no\r\n",
        "image = x\n[vm a\n[vm b] junk\n[vm c]\nmemroy = 1\nmemory = 12Q\ncpus = 65\n"
        "cpus = 1\ncmdline = \"open\n[vm c]\n[vm d/e]\n[vm f]\nmodules = a,,b\n",
    };
    for (unsigned i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "text%u", i);
        save("manifest", name, texts[i], strlen(texts[i]));
    }
    static const char nul[] = "[vm a]\nimage = a\nc\0pus = 2\n\0\0";
    save("manifest", "nul", nul, sizeof(nul) - 1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0755);
    seeds_cmdline();
    seeds_multiboot1();
    seeds_multiboot2();
    seeds_acpi();
    seeds_memmap();
    seeds_guest_walk();
    seeds_mmio_decode();
    seeds_elf_check();
    seeds_manifest();
    return 0;
}
