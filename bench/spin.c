/*
 * A CPU-bound workload for the perturbation benchmark: one process per core runs a fixed integer
 * compute chunk (no memory traffic, no syscalls) over and over, and measures its throughput in
 * each phase of a schedule shared with the driver through CLOCK_MONOTONIC.
 *
 *   spin T0_NS PHASE_NS NPHASES GUARD_NS CHUNK
 *
 * Phase k spans [T0 + k*PHASE, T0 + (k+1)*PHASE); only chunks that complete inside
 * [start + GUARD, end - GUARD] count, so the driver's switching at the boundaries is excluded.
 * Prints one JSON line: chunks per second of wall time in each phase ("rates": what a benchmark
 * sees, including cycles taken by anything else on the machine) and chunks per second of this
 * process's own CPU time ("cpu_rates": slowed only by interference such as cache pollution, not by
 * time stolen).
 *
 * Built at bench time: gcc -O2 -o bench/.build/spin bench/spin.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t cputime(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static volatile uint64_t sink;

/* xorshift64*: a dependent chain the compiler cannot shorten. */
static uint64_t chunk(uint64_t x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x *= 0x2545F4914F6CDD1Dull;
    }
    return x;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: spin T0_NS PHASE_NS NPHASES GUARD_NS CHUNK\n");
        return 2;
    }
    uint64_t t0 = strtoull(argv[1], NULL, 10);
    uint64_t phase = strtoull(argv[2], NULL, 10);
    uint64_t nphases = strtoull(argv[3], NULL, 10);
    uint64_t guard = strtoull(argv[4], NULL, 10);
    uint64_t n = strtoull(argv[5], NULL, 10);
    uint64_t *count = calloc(nphases, sizeof *count);
    uint64_t *first = calloc(nphases, sizeof *first);
    uint64_t *last = calloc(nphases, sizeof *last);
    uint64_t *cfirst = calloc(nphases, sizeof *cfirst);
    uint64_t *clast = calloc(nphases, sizeof *clast);
    uint64_t end = t0 + nphases * phase;
    uint64_t x = 88172645463325252ull;

    for (;;) {
        x = chunk(x, n);
        uint64_t now = mono();
        if (now >= end) break;
        if (now < t0) continue;
        uint64_t k = (now - t0) / phase;
        uint64_t off = (now - t0) % phase;
        if (off < guard || off > phase - guard) continue;
        /* rate = chunks completed after the first in-window completion / time since it */
        uint64_t c = cputime();
        if (first[k] == 0) {
            first[k] = now;
            cfirst[k] = c;
        } else {
            count[k]++;
            last[k] = now;
            clast[k] = c;
        }
    }
    sink = x;
    printf("{\"rates\":[");
    for (uint64_t k = 0; k < nphases; k++) {
        double r = last[k] > first[k] ? (double)count[k] * 1e9 / (double)(last[k] - first[k]) : 0;
        printf("%s%.3f", k ? "," : "", r);
    }
    printf("],\"cpu_rates\":[");
    for (uint64_t k = 0; k < nphases; k++) {
        double r = clast[k] > cfirst[k] ? (double)count[k] * 1e9 / (double)(clast[k] - cfirst[k]) : 0;
        printf("%s%.3f", k ? "," : "", r);
    }
    printf("]}\n");
    return 0;
}
