/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) for symphony._core.checksum.
 *
 * Header-only; shipped in symphony.get_include() so that `cimport symphony._core.checksum`
 * compiles in other extensions (sy_crc32c_init() once before sy_crc32c).
 *
 * Two paths, same results: SSE4.2's crc32 instruction when the CPU has it (checked once at
 * run time), else slicing-by-8 tables. `sy_crc32c(crc, p, n)` continues a running CRC: the
 * caller passes the previous *finalized* value (0 to start), like zlib.crc32.
 */
#ifndef SYMPHONY_CRC32C_H
#define SYMPHONY_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint32_t sy_crc32c_table[8][256];
static int sy_crc32c_hw = -1;

static void sy_crc32c_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        sy_crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = sy_crc32c_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = sy_crc32c_table[0][c & 0xff] ^ (c >> 8);
            sy_crc32c_table[t][i] = c;
        }
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    sy_crc32c_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    sy_crc32c_hw = 0;
#endif
}

static uint32_t sy_crc32c_sw(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n && ((uintptr_t)p & 7)) { crc = sy_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8); n--; }
    while (n >= 8) {
        uint64_t w; memcpy(&w, p, 8);
        w ^= crc;
        crc = sy_crc32c_table[7][w & 0xff] ^ sy_crc32c_table[6][(w >> 8) & 0xff] ^
              sy_crc32c_table[5][(w >> 16) & 0xff] ^ sy_crc32c_table[4][(w >> 24) & 0xff] ^
              sy_crc32c_table[3][(w >> 32) & 0xff] ^ sy_crc32c_table[2][(w >> 40) & 0xff] ^
              sy_crc32c_table[1][(w >> 48) & 0xff] ^ sy_crc32c_table[0][w >> 56];
        p += 8; n -= 8;
    }
    while (n--) crc = sy_crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2")))
static uint32_t sy_crc32c_hw_impl(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) { c = __builtin_ia32_crc32qi((uint32_t)c, *p++); n--; }
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c = __builtin_ia32_crc32di(c, w); p += 8; n -= 8; }
    while (n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

static inline uint32_t sy_crc32c(uint32_t crc, const uint8_t *p, size_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (sy_crc32c_hw == 1) return sy_crc32c_hw_impl(crc, p, n);
#endif
    return sy_crc32c_sw(crc, p, n);
}

static inline int sy_crc32c_uses_hardware(void) { return sy_crc32c_hw == 1; }

#endif
