// One helper thread that shares the parts of a split piece of work.
//
// GateLab's passes alternate many short parallel sections (two halves of a matrix product,
// two row ranges of a gate's activation) with short serial gaps; a section lasts from a few
// microseconds to a millisecond. A thread pool that sleeps between sections pays a wake-up
// (tens of microseconds) each time, so the helper *polls* for a while after each part and only
// then sleeps on a condition variable. Hand-off: the caller publishes the section (its number
// and part count in `ticket`); the caller and the helper then claim its parts one by one from
// `ticket` until none is left. So a helper that is not running (a busy machine) never holds the
// caller up (the caller takes every part, as without a helper), and a section of more parts
// than two balances itself when one core runs slower than the other.
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
// The current section and its next unclaimed part, in one word so that a part is claimed for
// one section only: bits 32–63 the section's number, 16–31 its part count, 0–15 the next part.
static _Atomic unsigned long long ticket = 0;
static unsigned long sections = 0;                   // sections published (the caller's count)
static _Atomic int finished = 0;                     // parts of the current section done
static _Atomic int sleeping = 0;
// How long the helper keeps polling after a part before it sleeps: long enough to span the
// serial gaps between the parts of a time step.
static const long long spin_ns = 300000;
static gatelab_part_fn task_fn;
static void *task_context;
static int started = 0;

static inline unsigned long section_of(unsigned long long t) { return (unsigned long)(t >> 32); }

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

/// Claims and runs the unclaimed parts of section `section`, one at a time, until none is
/// left (or the section is no longer the current one).
static void run_claimed_parts(unsigned long section) {
    unsigned long long t = atomic_load(&ticket);
    for (;;) {
        unsigned parts = (unsigned)((t >> 16) & 0xFFFF), next = (unsigned)(t & 0xFFFF);
        if (section_of(t) != section || next >= parts) return;
        if (atomic_compare_exchange_weak(&ticket, &t, t + 1)) {
            task_fn(task_context, (int)next);
            atomic_fetch_add_explicit(&finished, 1, memory_order_release);
            t = atomic_load(&ticket);
        }
    }
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
        while (section_of(atomic_load_explicit(&ticket, memory_order_acquire)) == seen) {
            if ((++spins & 63) != 0) { cpu_relax(); continue; }
            long long now = now_ns();
            if (now > deadline) {
                pthread_mutex_lock(&mutex);
                atomic_store(&sleeping, 1);   // seq_cst: paired with the caller's store of ticket
                while (section_of(atomic_load(&ticket)) == seen) pthread_cond_wait(&wake, &mutex);
                atomic_store(&sleeping, 0);
                pthread_mutex_unlock(&mutex);
            } else if (now - start > 20000) {
                sched_yield();
            }
        }
        seen = section_of(atomic_load_explicit(&ticket, memory_order_acquire));
        run_claimed_parts(seen);
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

int gatelab_run_parts(gatelab_part_fn fn, void *context, int parts) {
    pthread_once(&once, start);
    if (parts < 2 || parts > 0xFFFF || !started || atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
        for (int part = 0; part < parts; part++) fn(context, part);
        return 0;
    }
    task_fn = fn;
    task_context = context;
    atomic_store(&finished, 0);
    unsigned long section = (unsigned long)(++sections & 0xFFFFFFFFul);
    if (section == 0) section = (unsigned long)(++sections & 0xFFFFFFFFul);   // 0 is "none yet"
    atomic_store(&ticket, ((unsigned long long)section << 32) | ((unsigned long long)parts << 16));   // seq_cst: paired with the helper's store of sleeping
    if (atomic_load(&sleeping)) {
        pthread_mutex_lock(&mutex);
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&mutex);
    }
    // Take parts until none is left; a helper that is not running (a busy machine) leaves
    // them all to this thread rather than hold it up. Then wait for the helper's part in hand.
    run_claimed_parts(section);
    unsigned spins = 0;
    while (atomic_load_explicit(&finished, memory_order_acquire) != parts) {
        if ((++spins & 1023) == 0) sched_yield(); else cpu_relax();
    }
    atomic_flag_clear_explicit(&busy, memory_order_release);
    return 1;
}

int gatelab_run_two(gatelab_part_fn fn, void *context) { return gatelab_run_parts(fn, context, 2); }


int gatelab_available_cpus(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return 0;
}
