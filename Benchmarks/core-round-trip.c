// Prints the cores' round trip in ns: `gatelab_core_round_trip_ns` (Sources/CGateLabWorker/worker.c,
// the measurement `gatelab bench` records as core_round_trip_ns), 2 000 000 hand-offs, as a
// standalone program to bracket any run (Benchmarks/float32-rounds.sh). On this project's VM
// it reads 52–65 ns when the two vCPUs share an L3 cache and 330–360 ns when they do not.
// Build from the repository root:
//   cc -O2 -pthread -I Sources/CGateLabWorker/include Benchmarks/core-round-trip.c Sources/CGateLabWorker/worker.c -o core-round-trip
#include <stdio.h>
#include "gatelab_worker.h"

int main(void) {
    double ns = gatelab_core_round_trip_ns(2000000);
    if (ns < 0) { fprintf(stderr, "core-round-trip: this process may run on one CPU only\n"); return 1; }
    printf("%.1f\n", ns);
    return 0;
}
