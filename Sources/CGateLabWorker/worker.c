// One helper thread that takes half of a split piece of work.
//
// GateLab's passes alternate many short parallel sections (two halves of a matrix product,
// two row ranges of a gate's activation) with short serial gaps; a section lasts from a few
// microseconds to a millisecond. A thread pool that sleeps between sections pays a wake-up
// (tens of microseconds) each time, so the helper *polls* for a while after each part and only
// then sleeps on a condition variable. Hand-off: the caller publishes the task and bumps
// `generation`; whoever claims the section first (`claimed`), the helper or, once done with
// part 0, the caller itself, runs part 1. So a helper that is not running (a busy machine)
// never holds the caller up: the caller does both parts, as without a helper.
#define _GNU_SOURCE
#include "gatelab_worker.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_flag busy = ATOMIC_FLAG_INIT;          // held by the caller of a split section
static _Atomic unsigned long generation = 0;         // sections published
static _Atomic unsigned long claimed = 0;            // sections whose part 1 someone took
static _Atomic unsigned long done = 0;               // sections the helper finished
static _Atomic int sleeping = 0;
// How long the helper keeps polling after a part before it sleeps: long enough to span the
// serial gaps between the parts of a time step.
static const long long spin_ns = 300000;
static gatelab_part_fn task_fn;
static void *task_context;
static int started = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *helper(void *unused) {
    (void)unused;
    unsigned long seen = 0;
    for (;;) {
        // Poll for the next section (pausing, then yielding the core to anyone who needs it),
        // then sleep.
        long long start = now_ns();
        long long deadline = start + spin_ns;
        unsigned spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            if ((++spins & 63) != 0) { cpu_relax(); continue; }
            long long now = now_ns();
            if (now > deadline) {
                pthread_mutex_lock(&mutex);
                atomic_store(&sleeping, 1);   // seq_cst: paired with the caller's store of generation
                while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &mutex);
                atomic_store(&sleeping, 0);
                pthread_mutex_unlock(&mutex);
            } else if (now - start > 20000) {
                sched_yield();
            }
        }
        seen = atomic_load_explicit(&generation, memory_order_acquire);
        // Claim the section's part 1, unless the caller already took it back.
        unsigned long expected = seen - 1;
        if (atomic_compare_exchange_strong(&claimed, &expected, seen)) {
            task_fn(task_context, 1);
            atomic_store_explicit(&done, seen, memory_order_release);
        }
    }
    return NULL;
}

static void start(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&thread, &attributes, helper, NULL) == 0;
    pthread_attr_destroy(&attributes);
}

int gatelab_run_two(gatelab_part_fn fn, void *context) {
    pthread_once(&once, start);
    if (!started || atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
        fn(context, 0);
        fn(context, 1);
        return 0;
    }
    task_fn = fn;
    task_context = context;
    unsigned long g = atomic_load_explicit(&generation, memory_order_relaxed) + 1;
    atomic_store(&generation, g);   // seq_cst: paired with the helper's store of sleeping
    if (atomic_load(&sleeping)) {
        pthread_mutex_lock(&mutex);
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&mutex);
    }
    fn(context, 0);
    // If the helper has not started part 1 (it is not running: the machine is busy), take it
    // back and run it here rather than wait for the helper to be scheduled.
    unsigned long expected = g - 1;
    if (atomic_compare_exchange_strong(&claimed, &expected, g)) {
        fn(context, 1);
    } else {
        unsigned spins = 0;
        while (atomic_load_explicit(&done, memory_order_acquire) != g) {
            if ((++spins & 1023) == 0) sched_yield(); else cpu_relax();
        }
    }
    atomic_flag_clear_explicit(&busy, memory_order_release);
    return 1;
}

void gatelab_flag_raise(unsigned long *flag, unsigned long value) {
    atomic_store_explicit((_Atomic unsigned long *)flag, value, memory_order_release);
}

void gatelab_flag_wait(const unsigned long *flag, unsigned long value) {
    unsigned spins = 0;
    while (atomic_load_explicit((_Atomic const unsigned long *)flag, memory_order_acquire) != value) {
        if ((++spins & 1023) == 0) sched_yield(); else cpu_relax();
    }
}

#ifdef __linux__
struct round_trip { _Atomic long counter; long iterations; cpu_set_t cpu; };

static void *round_trip_partner(void *argument) {
    struct round_trip *r = argument;
    pthread_setaffinity_np(pthread_self(), sizeof r->cpu, &r->cpu);
    for (long i = 0; i < r->iterations; i++) {
        while (atomic_load_explicit(&r->counter, memory_order_acquire) != 2 * i + 1) cpu_relax();
        atomic_store_explicit(&r->counter, 2 * i + 2, memory_order_release);
    }
    return NULL;
}
#endif

double gatelab_core_round_trip_ns(long iterations) {
#ifdef __linux__
    cpu_set_t mask;
    if (iterations < 1 || sched_getaffinity(0, sizeof mask, &mask) != 0 || CPU_COUNT(&mask) < 2) return -1;
    int first = -1, second = -1;
    for (int c = 0; c < CPU_SETSIZE && second < 0; c++) {
        if (!CPU_ISSET(c, &mask)) continue;
        if (first < 0) first = c; else second = c;
    }
    cpu_set_t saved, mine;
    if (pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) != 0) return -1;
    struct round_trip r __attribute__((aligned(64)));   // joined before this returns
    atomic_store(&r.counter, 0);
    r.iterations = iterations;
    CPU_ZERO(&r.cpu); CPU_SET(second, &r.cpu);
    CPU_ZERO(&mine); CPU_SET(first, &mine);
    pthread_setaffinity_np(pthread_self(), sizeof mine, &mine);
    pthread_t partner;
    if (pthread_create(&partner, NULL, round_trip_partner, &r) != 0) {
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
        return -1;
    }
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) {
        atomic_store_explicit(&r.counter, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&r.counter, memory_order_acquire) != 2 * i + 2) cpu_relax();
    }
    long long elapsed = now_ns() - start;
    pthread_join(partner, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return (double)elapsed / (double)iterations;
#else
    (void)iterations;
    return -1;
#endif
}

