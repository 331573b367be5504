#ifndef GATELAB_WORKER_H
#define GATELAB_WORKER_H
// One helper thread for splitting a piece of work in two (see worker.c).

/// A part of a split piece of work: called with the caller's context and the part's index.
typedef void (*gatelab_part_fn)(void *context, int part);

/// Runs `fn(context, 1)` on the helper thread and `fn(context, 0)` on the calling thread,
/// and returns when both are done. When the helper is already in use (a call from another
/// thread, or from inside a part), runs both parts on the calling thread, part 0 first.
/// Returns 1 when the parts ran in parallel, 0 when they ran one after the other.
int gatelab_run_two(gatelab_part_fn fn, void *context);

/// A flag that part 0 of a split section raises for part 1 to wait on, when part 1 must run a
/// step after part 0's (the rows of a running sum). `gatelab_run_two` runs part 0 first
/// whenever the parts run one after the other, so the wait cannot block.
void gatelab_flag_raise(unsigned long *flag, unsigned long value);
void gatelab_flag_wait(const unsigned long *flag, unsigned long value);

/// The mean time, in nanoseconds, of one round trip of a cache line between the calling thread
/// and a thread on another CPU (the first two CPUs of the affinity mask; the calling thread is
/// pinned to the first for the measurement, then given its mask back): what every hand-off
/// to the helper thread and every row that crosses between the cores pays. On a virtual
/// machine it tells whether the two vCPUs share an L3 cache (tens of ns) or not (hundreds).
/// Returns -1 when the process may run on one CPU only or a thread cannot be made.
double gatelab_core_round_trip_ns(long iterations);
#endif
