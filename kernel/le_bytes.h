/*
 * Little-endian field readers for firmware and boot-loader structures, which
 * are byte-packed and may sit at any alignment. Built from single bytes, so
 * they are defined behaviour at any address (the compiler folds each into one
 * load on x86). Private to the pure-logic parsers.
 */
#ifndef KEEL_LE_BYTES_H
#define KEEL_LE_BYTES_H

#include <stdint.h>

static inline uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

#endif
