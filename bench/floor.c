/*
 * The floor: the least a sampler of these six /proc files can cost. It keeps one descriptor per
 * file open and re-reads each with pread() at growing offsets until EOF (seq_file hands out about
 * a page per read), into a buffer kept for the life of the program -- exactly the I/O the
 * hostseries core does, and nothing else (no parsing, no storing).
 *
 * Built at bench time: gcc -O2 -o bench/.build/floor bench/floor.c
 *
 *   floor loop N            read all files N times back to back, print one JSON line
 *   floor paced HZ SECONDS [PHASE_NS [APPEND_PATH LINE_BYTES]]
 *                           read all files HZ times a second (absolute CLOCK_MONOTONIC
 *                           deadlines, like the sampler thread) for SECONDS, print one JSON line;
 *                           with PHASE_NS the ticks fall that long after each multiple of the
 *                           interval (the bench puts the floor half a period away from the
 *                           contender beside it: see bench/sampler.mjs); with APPEND_PATH each
 *                           tick also appends one line of LINE_BYTES to that new file (one
 *                           write(), O_APPEND): the least a stream of samples as JSON Lines
 *                           (`record`'s .partial.jsonl) can cost beside the reads
 *   floor pingpong B        for each byte 'g' read on stdin, take B samples and answer 'k' on
 *                           stdout; on 'q' print one JSON line with the CPU of every burst. The
 *                           bench alternates bursts of two such programs (this and the native
 *                           path) so both see the same machine, burst by burst.
 *
 * CPU time is getrusage(RUSAGE_SELF) user + sys, measured around the loop only (process start-up
 * and the opens are excluded); CLOCK_PROCESS_CPUTIME_ID is printed beside it as a cross-check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *const PATHS[] = {
    "/proc/diskstats", "/proc/vmstat", "/proc/meminfo",
    "/proc/loadavg",   "/proc/net/dev", "/proc/stat",
};
#define NFILES (sizeof PATHS / sizeof PATHS[0])

struct file {
    int fd;
    char *buf;
    size_t cap;
};

static struct file files[NFILES];

static uint64_t ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

static uint64_t tv_ns(struct timeval t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_usec * 1000u; }

static uint64_t rusage_ns(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return tv_ns(r.ru_utime) + tv_ns(r.ru_stime);
}

static uint64_t clock_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return ns(t);
}

/* One sample: every file read whole. Returns bytes read (so nothing can be optimised away). */
static size_t sample(void) {
    size_t total = 0;
    for (size_t i = 0; i < NFILES; i++) {
        struct file *f = &files[i];
        size_t len = 0;
        for (;;) {
            if (len == f->cap) {
                f->cap *= 2;
                f->buf = realloc(f->buf, f->cap);
                if (!f->buf) {
                    perror("realloc");
                    exit(1);
                }
            }
            ssize_t n = pread(f->fd, f->buf + len, f->cap - len, (off_t)len);
            if (n > 0) {
                len += (size_t)n;
            } else if (n == 0) {
                break;
            } else if (errno != EINTR) {
                perror(PATHS[i]);
                exit(1);
            }
        }
        total += len;
    }
    return total;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: floor loop N | floor paced HZ SECONDS [PHASE_NS] | floor pingpong B\n");
        return 2;
    }
    for (size_t i = 0; i < NFILES; i++) {
        files[i].fd = open(PATHS[i], O_RDONLY | O_CLOEXEC);
        if (files[i].fd < 0) {
            perror(PATHS[i]);
            return 1;
        }
        files[i].cap = 16 * 1024; /* the core's initial buffer size */
        files[i].buf = malloc(files[i].cap);
    }
    size_t bytes = sample(); /* warm-up, like the sampler's first tick */

    if (strcmp(argv[1], "pingpong") == 0) {
        uint64_t b = strtoull(argv[2], NULL, 10), cap = 1024, nb = 0;
        uint64_t *cpu = malloc(cap * sizeof *cpu);
        char c;
        while (read(0, &c, 1) == 1 && c == 'g') {
            uint64_t c0 = rusage_ns();
            for (uint64_t i = 0; i < b; i++) bytes += sample();
            uint64_t c1 = rusage_ns();
            if (nb == cap) cpu = realloc(cpu, (cap *= 2) * sizeof *cpu);
            cpu[nb++] = c1 - c0;
            if (write(1, "k", 1) != 1) return 1;
        }
        printf("{\"burst\":%llu,\"bytes\":%llu,\"cpu_ns\":[", (unsigned long long)b, (unsigned long long)bytes);
        for (uint64_t i = 0; i < nb; i++) printf("%s%llu", i ? "," : "", (unsigned long long)cpu[i]);
        printf("]}\n");
        return 0;
    }

    uint64_t iters = 0;
    struct rusage r0, r1;
    uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t w0 = clock_ns(CLOCK_MONOTONIC);
    getrusage(RUSAGE_SELF, &r0);
    if (strcmp(argv[1], "loop") == 0) {
        uint64_t n = strtoull(argv[2], NULL, 10);
        for (iters = 0; iters < n; iters++) bytes += sample();
    } else if (strcmp(argv[1], "paced") == 0 && argc >= 4) {
        double hz = atof(argv[2]), secs = atof(argv[3]);
        uint64_t interval = (uint64_t)(1e9 / hz);
        uint64_t n = (uint64_t)(hz * secs), base = w0;
        int out = -1;
        char *line = NULL;
        size_t line_len = 0;
        if (argc >= 7) {
            out = open(argv[5], O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
            line_len = strtoull(argv[6], NULL, 10);
            if (out < 0 || line_len == 0) {
                perror(argv[5]);
                return 1;
            }
            line = malloc(line_len);
            memset(line, '7', line_len);
            line[line_len - 1] = '\n';
        }
        if (argc >= 5) {
            /* Ticks at PHASE_NS past each multiple of the interval on CLOCK_MONOTONIC. */
            uint64_t phase = strtoull(argv[4], NULL, 10) % interval;
            base = (w0 / interval + 1) * interval + phase;
        }
        for (iters = 0; iters < n; iters++) {
            uint64_t due = base + (iters + 1) * interval;
            struct timespec d = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR) {
            }
            bytes += sample();
            if (out >= 0 && write(out, line, line_len) != (ssize_t)line_len) {
                perror(argv[5]);
                return 1;
            }
        }
    } else {
        fprintf(stderr, "usage: floor loop N | floor paced HZ SECONDS [PHASE_NS] | floor pingpong B\n");
        return 2;
    }
    getrusage(RUSAGE_SELF, &r1);
    uint64_t c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t w1 = clock_ns(CLOCK_MONOTONIC);
    uint64_t user = tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime);
    uint64_t sys = tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime);
    printf("{\"iters\":%llu,\"cpu_ns\":%llu,\"user_ns\":%llu,\"sys_ns\":%llu,\"clock_cpu_ns\":%llu,"
           "\"wall_ns\":%llu,\"bytes_per_sample\":%llu}\n",
           (unsigned long long)iters, (unsigned long long)(user + sys), (unsigned long long)user,
           (unsigned long long)sys, (unsigned long long)(c1 - c0), (unsigned long long)(w1 - w0),
           (unsigned long long)(iters ? bytes / (iters + 1) : bytes));
    return 0;
}
