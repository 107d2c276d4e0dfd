/*
 * Shared body of the multiboot1 and multiboot2 fuzz targets: the input is
 * physical memory from address 0, holding the info structure at 0 and
 * whatever its pointers point to. After parsing, the results must be sound,
 * and the core's next steps (memmap_normalize, cmdline_parse, module
 * lookup) must work on them.
 */
#ifndef KEEL_FUZZ_BOOTINFO_H
#define KEEL_FUZZ_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"
#include "cmdline.h"
#include "fake_phys.h"
#include "fuzz_check.h"
#include "memmap_oracle.h"

static void check_modules(const struct boot_info *bi)
{
    REQUIRE(bi->module_count <= BOOT_MODULES_MAX);
    for (unsigned i = 0; i < bi->module_count; i++) {
        const struct boot_module *m = &bi->modules[i];
        require_terminated(m->name, sizeof(m->name));
        REQUIRE(m->name[0] != '\0');
        REQUIRE(m->start <= m->end);
        const struct boot_module *found = bootinfo_find_module(bi, m->name);
        REQUIRE(found != NULL && found <= m && strcmp(found->name, m->name) == 0);
    }
}

static inline int fuzz_bootinfo(uint32_t magic, const uint8_t *data, size_t size)
{
    static struct boot_info bi;
    static struct cmdline_options opts;
    struct fake_phys fp;
    fake_phys_init(&fp);
    fake_phys_map(&fp, 0, data, size);
    REQUIRE(bootinfo_parse(magic, 0, &fp.reader, &bi) == 0);
    REQUIRE(bi.protocol == (magic == MULTIBOOT1_BOOT_MAGIC ? 1 : 2));
    require_terminated(bi.cmdline, sizeof(bi.cmdline));
    require_terminated(bi.loader_name, sizeof(bi.loader_name));
    for (const char *p = bi.loader_name; *p; p++)
        REQUIRE(*p >= ' ' && *p < 0x7f);
    REQUIRE(bi.rsdp_length <= BOOT_RSDP_MAX);
    REQUIRE(bi.info_start == 0);
    REQUIRE(bi.memmap.count <= MEMMAP_MAX);
    require_diag_sound(&bi.diag);
    check_modules(&bi);

    struct diag d = {0};
    memmap_normalize(&bi.memmap, &d);
    REQUIRE_OK(memmap_check_sound(&bi.memmap));
    cmdline_parse(bi.cmdline, sizeof(bi.cmdline), &opts);
    fake_phys_fini(&fp);
    return 0;
}

#endif
