/* QEMU's fw_cfg device, traditional I/O interface (fw_cfg.h). */
#include "fw_cfg.h"
#include "kstring.h"

static const uint8_t signature[FW_CFG_SIG_SIZE] = {'Q', 'E', 'M', 'U'};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * (n - 1 - i));
}

void fw_cfg_init(struct fw_cfg *f, uint16_t cpus, uint64_t ram_size)
{
    memset(f, 0, sizeof(*f));
    put_le(f->id, FW_CFG_ID_TRADITIONAL, sizeof(f->id));
    put_le(f->ram_size, ram_size, sizeof(f->ram_size));
    put_le(f->cpus, cpus, sizeof(f->cpus));
    /* an empty directory: count 0 */
}

/* The selected item's bytes, or NULL (an unknown key: reads give 0). */
static const uint8_t *item(const struct fw_cfg *f, uint32_t *size)
{
    if (f->selector & FW_CFG_ARCH_LOCAL)
        return NULL;
    unsigned key = f->selector & ~FW_CFG_WRITE_CHANNEL;
    switch (key) {
    case FW_CFG_SIGNATURE:
        *size = sizeof(signature);
        return signature;
    case FW_CFG_ID:
        *size = sizeof(f->id);
        return f->id;
    case FW_CFG_RAM_SIZE:
        *size = sizeof(f->ram_size);
        return f->ram_size;
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS:
        *size = sizeof(f->cpus);
        return f->cpus;
    case FW_CFG_FILE_DIR:
        *size = 4 + FW_CFG_DIR_ENTRY * f->file_count;
        return f->dir;
    default:
        if (key < FW_CFG_FILE_FIRST || key - FW_CFG_FILE_FIRST >= f->file_count)
            return NULL;
        *size = f->files[key - FW_CFG_FILE_FIRST].size;
        return f->files[key - FW_CFG_FILE_FIRST].data;
    }
}

static uint8_t next_byte(struct fw_cfg *f)
{
    uint32_t size = 0;
    const uint8_t *data = item(f, &size);
    if (data == NULL || f->offset >= size)
        return 0;
    return data[f->offset++];
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t size)
{
    size_t len = strnlen(name, FW_CFG_NAME_SIZE);
    if (f->file_count == FW_CFG_MAX_FILES || len == 0 || len >= FW_CFG_NAME_SIZE)
        return -1;
    for (unsigned i = 0; i < f->file_count; i++) {
        if (strcmp(f->files[i].name, name) == 0)
            return -1;
    }
    unsigned n = f->file_count++;
    struct fw_cfg_file *file = &f->files[n];
    memcpy(file->name, name, len + 1);
    file->data = data;
    file->size = size;

    uint16_t select = (uint16_t)(FW_CFG_FILE_FIRST + n);
    uint8_t *e = f->dir + 4 + FW_CFG_DIR_ENTRY * n;
    put_be(f->dir, f->file_count, 4);
    put_be(e, size, 4);
    put_be(e + 4, select, 2);
    memcpy(e + 8, file->name, FW_CFG_NAME_SIZE); /* NUL-padded: name[] was zeroed */
    return select;
}

bool fw_cfg_io(struct fw_cfg *f, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    if (port == FW_CFG_PORT_SEL) {
        if (in) {
            *value = 0;
        } else if (size == 2) {
            f->selector = (uint16_t)*value;
            f->offset = 0;
        }
        return true;
    }
    if (port != FW_CFG_PORT_DATA)
        return false;
    if (in) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size && i < 4; i++)
            v |= (uint32_t)next_byte(f) << 8 * i;
        *value = v;
    }
    return true;
}
