import Foundation

/// The CPUs this process may run on.
public enum AvailableCPUs {
    /// The CPUs in this process's affinity mask (`Cpus_allowed` in `/proc/self/status`, what
    /// `sched_getaffinity` returns), which `taskset` and a Slurm task's `--cpus-per-task`
    /// narrow; Foundation's `activeProcessorCount` (which ignores the mask) where it cannot be
    /// read.
    public static var count: Int {
        if let bytes = try? InputFile.bytes("/proc/self/status", limit: 1 << 20), let status = String(validating: bytes, as: UTF8.self),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let mask = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
            let n = mask.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
            if n > 0 { return n }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
