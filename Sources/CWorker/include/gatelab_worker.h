#ifndef GATELAB_WORKER_H
#define GATELAB_WORKER_H
// One helper thread for splitting a piece of work over two cores (see worker.c).

/// A part of a split piece of work: called with the caller's context and the part's index.
typedef void (*gatelab_part_fn)(void *context, int part);

/// Runs `fn(context, 1)` on the helper thread and `fn(context, 0)` on the calling thread,
/// and returns when both are done. When the helper is already in use (a call from another
/// thread, or from inside a part), runs both parts on the calling thread, part 0 first.
/// Returns 1 when the parts ran in parallel, 0 when they ran one after the other.
int gatelab_run_two(gatelab_part_fn fn, void *context);

/// Runs `fn(context, 0)` … `fn(context, parts − 1)`, each once, shared between the calling
/// thread and the helper (each takes the next unclaimed part when it is free), and returns when
/// all are done; the parts must write disjoint outputs. As `gatelab_run_two` when the helper is
/// in use (all parts on the calling thread, in order). Returns 1 when the helper could take
/// parts, 0 otherwise.
int gatelab_run_parts(gatelab_part_fn fn, void *context, int parts);

/// The CPUs this process may run on (its affinity mask, which Slurm and taskset narrow), or 0
/// when the system cannot say.
int gatelab_available_cpus(void);
#endif
