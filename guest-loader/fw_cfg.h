/*
 * QEMU's firmware configuration device, fw_cfg, through its traditional I/O
 * interface only (QEMU docs/specs/fw_cfg.rst; no DMA): a 16-bit write to
 * the selector port 0x510 selects an item and rewinds it, reads of the data
 * port 0x511 return its bytes in order, and 0 past its end. Items: the
 * signature "QEMU", the feature ID (traditional interface only), the RAM
 * size, the CPU count (current and maximum), and the file directory of up
 * to FW_CFG_MAX_FILES named files at selectors 0x20 upward, whose data the
 * caller owns. Pure.
 *
 * Data-port widths: as the spec says for wide data registers, an N-byte
 * read (N = 1, 2 or 4) returns the next N bytes of the item, the first in
 * the lowest byte of the value, and advances by N. Writes to the data port
 * are ignored (QEMU >= 2.4 ignores them too). The selector port reads 0 and
 * ignores writes that are not 16 bits wide.
 */
#ifndef KEEL_VMM_FW_CFG_H
#define KEEL_VMM_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_MAX_FILES 16

/* Selector keys (fw_cfg.rst, "Firmware Configuration Items"; QEMU's
 * include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE      0x0000 /* "QEMU" */
#define FW_CFG_ID             0x0001 /* u32 LE feature bits */
#define FW_CFG_RAM_SIZE       0x0003 /* u64 LE */
#define FW_CFG_NB_CPUS        0x0005 /* u16 LE */
#define FW_CFG_MAX_CPUS       0x000f /* u16 LE */
#define FW_CFG_FILE_DIR       0x0019 /* big-endian directory */
#define FW_CFG_FILE_FIRST     0x0020
#define FW_CFG_WRITE_CHANNEL  0x4000 /* selector bit 14: ignored */
#define FW_CFG_ARCH_LOCAL     0x8000 /* selector bit 15: architecture items (none here) */
#define FW_CFG_ID_TRADITIONAL 0x1    /* bit 0: the I/O port interface */

#define FW_CFG_SIG_SIZE  4
#define FW_CFG_NAME_SIZE 56 /* a file name with its NUL */
#define FW_CFG_DIR_ENTRY 64 /* u32 size, u16 select, u16 reserved, name[56], big-endian */
#define FW_CFG_DIR_SIZE  (4 + FW_CFG_DIR_ENTRY * FW_CFG_MAX_FILES)

struct fw_cfg_file {
    char name[FW_CFG_NAME_SIZE];
    const void *data;
    uint32_t size;
};

struct fw_cfg {
    uint16_t selector;
    uint32_t offset; /* into the selected item */
    uint8_t id[4], ram_size[8], cpus[2];
    unsigned file_count;
    struct fw_cfg_file files[FW_CFG_MAX_FILES];
    uint8_t dir[FW_CFG_DIR_SIZE];
};

void fw_cfg_init(struct fw_cfg *f, uint16_t cpus, uint64_t ram_size);
/* Adds a file at the next selector (0x20, 0x21, ...) and lists it in the
 * directory. data stays the caller's and must live as long as f. Returns the
 * selector, or -1: the directory is full, the name is empty or longer than
 * 55 characters, or a file of that name exists. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t size);
/* false: not its port. See the top of this file for the access widths. */
bool fw_cfg_io(struct fw_cfg *f, uint16_t port, unsigned size, bool in, uint32_t *value);

#endif
