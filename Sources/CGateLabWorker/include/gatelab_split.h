#ifndef GATELAB_SPLIT_H
#define GATELAB_SPLIT_H
// When work is split over the two threads: the sizes below which one thread is faster. Held per
// thread, so that a program's run sets them for itself (`ProgramOptions`) without changing
// them for programs that run at the same time on other threads.

typedef struct {
    long elements;      // elementwise work: at least this many elements
    long productWork;   // a matrix product: at least this many multiply-adds (m·n·k)
} gatelab_split_thresholds;

extern _Thread_local gatelab_split_thresholds gatelab_split_current;

static inline long gatelab_split_elements(void) { return gatelab_split_current.elements; }
static inline long gatelab_split_product_work(void) { return gatelab_split_current.productWork; }
/// Sets this thread's thresholds and returns the ones it had.
static inline gatelab_split_thresholds gatelab_split_set(long elements, long productWork) {
    gatelab_split_thresholds old = gatelab_split_current;
    gatelab_split_current.elements = elements;
    gatelab_split_current.productWork = productWork;
    return old;
}
#endif
