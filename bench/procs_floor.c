/*
 * The floor for watched processes: the least reading /proc/<pid>/{stat,status,io} of N processes
 * can cost. It opens the three files of each PID once and re-reads each with pread() at offset 0
 * into a buffer kept for the life of the program, one read per file when the text fits (these
 * are single_open seq_files: a short read is the end), exactly the I/O the hostseries core does
 * for a watched process and nothing else (no listing of /proc, no parsing).
 *
 * Built at bench time: gcc -O2 -o bench/.build/procs_floor bench/procs_floor.c
 *
 *   procs_floor paced HZ SECONDS PHASE_NS PID...
 *                  read every PID's files HZ times a second (absolute CLOCK_MONOTONIC
 *                  deadlines PHASE_NS past each multiple of the interval) for SECONDS, then
 *                  print one JSON line. A PID whose files no longer read is left out from then on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const FILES[] = {"stat", "status", "io"};
static const size_t CAP[] = {512, 2048, 256}; /* the core's initial buffer sizes */
#define NF 3

struct file {
    int fd;
    char *buf;
    size_t cap;
};

static uint64_t clock_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Read one file whole; -1 once it no longer reads. */
static ssize_t read_file(struct file *f) {
    size_t len = 0;
    for (;;) {
        size_t room = f->cap - len;
        ssize_t n = pread(f->fd, f->buf + len, room, (off_t)len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        len += (size_t)n;
        if ((size_t)n < room) return (ssize_t)len;
        f->cap *= 2;
        f->buf = realloc(f->buf, f->cap);
        if (!f->buf) {
            perror("realloc");
            exit(1);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[1], "paced") != 0) {
        fprintf(stderr, "usage: procs_floor paced HZ SECONDS PHASE_NS PID...\n");
        return 2;
    }
    double hz = atof(argv[2]), secs = atof(argv[3]);
    uint64_t phase = strtoull(argv[4], NULL, 10);
    int np = argc - 5;
    struct file *files = calloc((size_t)np * NF, sizeof *files);
    int live = 0;
    for (int p = 0; p < np; p++) {
        char path[64];
        for (int k = 0; k < NF; k++) {
            struct file *f = &files[p * NF + k];
            snprintf(path, sizeof path, "/proc/%s/%s", argv[5 + p], FILES[k]);
            f->fd = open(path, O_RDONLY | O_CLOEXEC);
            f->cap = CAP[k];
            f->buf = malloc(f->cap);
            if (f->fd < 0) {
                perror(path);
                return 1;
            }
        }
        live++;
    }
    uint64_t interval = (uint64_t)(1e9 / hz), n = (uint64_t)(hz * secs), bytes = 0, errors = 0;
    uint64_t base = (clock_ns(CLOCK_MONOTONIC) / interval + 1) * interval + phase % interval;
    uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t due = base + i * interval;
        struct timespec d = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR) {
        }
        for (int j = 0; j < np * NF; j++) {
            if (files[j].fd < 0) continue;
            ssize_t r = read_file(&files[j]);
            if (r < 0) {
                close(files[j].fd);
                files[j].fd = -1;
                errors++;
            } else {
                bytes += (uint64_t)r;
            }
        }
    }
    uint64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    printf("{\"iters\":%llu,\"processes\":%d,\"thread_cpu_ns\":%llu,\"bytes_per_tick\":%llu,\"errors\":%llu}\n",
           (unsigned long long)n, live, (unsigned long long)(c1 - c0),
           (unsigned long long)(n ? bytes / n : 0), (unsigned long long)errors);
    return 0;
}
