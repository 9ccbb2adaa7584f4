/* ring_peer: a plain C program that talks to a Python process through two Symphony rings.
 *
 *   ring_peer REQUESTS REPLIES COUNT
 *
 * attaches (by name, POSIX shm) to the ring REQUESTS, which Python fills, and to the ring
 * REPLIES, which Python drains. For each of COUNT requests it checks every byte and answers
 * with every byte transformed, so the exchange is verified in both directions:
 *
 *   request  = u32 seq | u32 n | n bytes, byte i = (seq * 31 + i * 7) & 0xFF
 *   reply    = u32 seq | u32 n | n bytes, byte i = ~request_byte[n - 1 - i]   (little-endian)
 *
 * Build:  cc -O2 -I"$(python -c 'import symphony; print(symphony.get_include())')" \
 *             -o ring_peer ring_peer.c
 * Exit status: 0 done, 2 a ring was refused (bad segment, version or layout), 3 a byte was
 * wrong, 4 timed out waiting. Messages go to stderr, one line each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symphony/ring.h"

#define MAX_MSG (1u << 16)
#define TIMEOUT_NS (20LL * 1000 * 1000 * 1000)
#define SPIN_NS 20000LL

static uint8_t pattern(uint32_t seq, uint32_t i) { return (uint8_t)(seq * 31u + i * 7u); }

/* Say why `name` was refused; for a version mismatch, read the version that is there. */
static void refuse(const char *name, int rc) {
    if (rc == SY_RING_E_VERSION) {
        char path[300];
        uint32_t found = 0;
        snprintf(path, sizeof path, "/dev/shm/%s", name[0] == '/' ? name + 1 : name);
        FILE *f = fopen(path, "rb");
        if (f) {
            if (fseek(f, SY_RING_OFF_VERSION, SEEK_SET) != 0 || fread(&found, 4, 1, f) != 1)
                found = 0;
            fclose(f);
        }
        fprintf(stderr,
                "ring_peer: refusing ring '%s': format version %u, this program was built for "
                "version %u (symphony/ring.h)\n",
                name, found, SY_RING_VERSION);
    } else if (rc == SY_RING_E_MAGIC) {
        fprintf(stderr, "ring_peer: refusing ring '%s': bad magic, not a Symphony ring\n", name);
    } else if (rc == SY_RING_E_GEOMETRY) {
        fprintf(stderr,
                "ring_peer: refusing ring '%s': layout mismatch (capacity, producer slots, "
                "data offset or segment size disagree with ring format version %u)\n",
                name, SY_RING_VERSION);
    } else if (rc == SY_RING_E_SIZE) {
        fprintf(stderr, "ring_peer: refusing ring '%s': smaller than a ring header\n", name);
    } else {
        fprintf(stderr, "ring_peer: cannot open ring '%s': %s\n", name, strerror(-rc));
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s REQUESTS REPLIES COUNT\n", argv[0]);
        return 64;
    }
    sy_ring in, out;
    int rc = sy_ring_attach_shm(&in, argv[1]);
    if (rc != 0) { refuse(argv[1], rc); return 2; }
    rc = sy_ring_attach_shm(&out, argv[2]);
    if (rc != 0) { refuse(argv[2], rc); sy_ring_detach_shm(&in); return 2; }
    long count = strtol(argv[3], NULL, 10);
    static uint8_t req[MAX_MSG + 8], rep[MAX_MSG + 8];
    int status = 0;
    for (long k = 0; k < count && status == 0; k++) {
        int64_t n;
        while ((n = sy_ring_pop_copy(&in, req, sizeof req)) == -1) {
            if (!sy_ring_wait_readable(&in, TIMEOUT_NS, SPIN_NS)) {
                fprintf(stderr, "ring_peer: timed out waiting for request %ld\n", k);
                status = 4;
                break;
            }
        }
        if (status) break;
        if (n < 8) {
            fprintf(stderr, "ring_peer: request %ld: bad record (pop returned %lld)\n", k,
                    (long long)n);
            status = 3;
            break;
        }
        uint32_t seq, len;
        memcpy(&seq, req, 4);
        memcpy(&len, req + 4, 4);
        if (seq != (uint32_t)k || (int64_t)len + 8 != n) {
            fprintf(stderr, "ring_peer: request %ld: header seq=%u len=%u, record %lld bytes\n",
                    k, seq, len, (long long)n);
            status = 3;
            break;
        }
        for (uint32_t i = 0; i < len; i++) {
            if (req[8 + i] != pattern(seq, i)) {
                fprintf(stderr, "ring_peer: request %u byte %u is 0x%02x, expected 0x%02x\n",
                        seq, i, req[8 + i], pattern(seq, i));
                status = 3;
                break;
            }
            rep[8 + (len - 1 - i)] = (uint8_t)~req[8 + i];
        }
        if (status) break;
        memcpy(rep, &seq, 4);
        memcpy(rep + 4, &len, 4);
        while (sy_ring_push(&out, rep, len + 8, 0) != SY_RING_PUSHED) {
            if (!sy_ring_wait_writable(&out, SY_REC_SIZE(len + 8), TIMEOUT_NS, SPIN_NS)) {
                fprintf(stderr, "ring_peer: timed out waiting for room for reply %u\n", seq);
                status = 4;
                break;
            }
        }
    }
    sy_ring_detach_shm(&in);
    sy_ring_detach_shm(&out);
    return status;
}
