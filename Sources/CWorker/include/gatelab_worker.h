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

/// The CPUs this process may run on (its affinity mask, which Slurm and taskset narrow), or 0
/// when the system cannot say.
int gatelab_available_cpus(void);
#endif
