/* A plain-C user of symphony/include/symphony/arena.h (no Python, no Cython): attaches to an
 * arena in a POSIX shared-memory segment by name and answers commands on stdin, one a line:
 *
 *   check HANDLE SEED   -> "ok" if the block holds bytes (SEED + k) % 256, then frees it
 *   fill N SEED         -> allocates N bytes, fills them with (SEED + k) % 256, prints the handle
 *   free HANDLE         -> prints the result code of sy_arena_free
 *   hammer ITERS        -> ITERS alloc/free pairs (64 B), prints how many succeeded
 *
 * Built and driven by tests/kernels/test_alloc_c.py. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symphony/arena.h"

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: arena_peer /name\n"); return 2; }
    int fd = shm_open(argv[1], O_RDWR, 0);
    if (fd < 0) { perror("shm_open"); return 2; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 2; }
    void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) { perror("mmap"); return 2; }
    sy_arena a;
    int rc = sy_arena_open(&a, base, (uint64_t)st.st_size);
    if (rc != SY_ARENA_OK) { printf("open-error %d\n", rc); fflush(stdout); return 3; }
    printf("ready %u %u\n", a.nclasses, a.nblocks);
    fflush(stdout);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        uint64_t h, n, seed;
        if (sscanf(line, "check %" SCNu64 " %" SCNu64, &h, &seed) == 2) {
            uint32_t len;
            uint8_t *p = sy_arena_ptr(&a, h, &len);
            int ok = p != NULL;
            for (uint32_t k = 0; ok && k < len; k++) ok = p[k] == (uint8_t)((seed + k) % 256);
            printf("%s %u %d\n", ok ? "ok" : "bad", len, sy_arena_free(&a, h));
        } else if (sscanf(line, "fill %" SCNu64 " %" SCNu64, &n, &seed) == 2) {
            rc = sy_arena_alloc(&a, n, &h);
            if (rc != SY_ARENA_OK) { printf("error %d\n", rc); fflush(stdout); continue; }
            uint32_t len;
            uint8_t *p = sy_arena_ptr(&a, h, &len);
            for (uint32_t k = 0; k < len; k++) p[k] = (uint8_t)((seed + k) % 256);
            printf("%" PRIu64 "\n", h);
        } else if (sscanf(line, "free %" SCNu64, &h) == 1) {
            printf("%d\n", sy_arena_free(&a, h));
        } else if (sscanf(line, "hammer %" SCNu64, &n) == 1) {
            uint64_t ok = 0;
            for (uint64_t i = 0; i < n; i++)
                if (sy_arena_alloc(&a, 64, &h) == SY_ARENA_OK) ok += sy_arena_free(&a, h) == 0;
            printf("%" PRIu64 "\n", ok);
        } else {
            break;
        }
        fflush(stdout);
    }
    munmap(base, (size_t)st.st_size);
    return 0;
}
