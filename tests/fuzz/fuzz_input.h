/* The fuzz targets' reader of their input: little-endian values taken from
 * the front of the bytes, zeros once they run out (so every input, however
 * short, decodes to a whole sequence of operations). */
#ifndef KEEL_FUZZ_INPUT_H
#define KEEL_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t get8(struct input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t get16(struct input *in)
{
    uint16_t lo = get8(in);
    return (uint16_t)(lo | get8(in) << 8);
}

static inline uint32_t get32(struct input *in)
{
    uint32_t lo = get16(in);
    return lo | (uint32_t)get16(in) << 16;
}

static inline uint64_t get64(struct input *in)
{
    uint64_t lo = get32(in);
    return lo | (uint64_t)get32(in) << 32;
}

#endif
