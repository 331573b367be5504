import Foundation
import Probe

extension TrainingGridRunner {
    /// The record files checked against the grid (see `PointInventory`).
    public func inventory() -> PointInventory<TrainingRecord> {
        let points = self.points
        let grid = Dictionary(uniqueKeysWithValues: points.map { ($0.id, $0) })
        return PointInventory(ids: points.map(\.id), folder: directory + "/results") { stored($0, grid: grid) }
    }

    /// Writes what a whole run writes at its end (`points.csv`, figures, `report.md`) from
    /// the records the shards wrote, byte for byte, training nothing.
    /// - Parameter partial: report on the usable runs when some are missing or unusable (the
    ///   report says so at its top).
    /// - Throws: `MergeError` (nothing written) when a run is missing, duplicated, stale or
    ///   foreign, unless `partial` (and then only when no run is usable).
    public func merge(partial: Bool = false) throws -> MergeOutcome {
        let points = self.points
        let found = inventory()
        let blocking = found.blocking
        if !blocking.isEmpty && (!partial || found.unusable.count == points.count) {
            throw MergeError(name: experiment.name, summary: found.counts(noun: "training run") + (partial ? ", no run to report on" : ""),
                             problems: blocking)
        }
        let records = found.records.compactMap { $0 }
        let results = directory + "/results"
        for r in records where Files.read("\(results)/\(r.id).csv") != r.curveCSV {
            try Files.write(r.curveCSV, to: "\(results)/\(r.id).csv")
        }
        let missing = found.unusable.map { points[$0].id }
        let notice = missing.isEmpty ? nil : partialNotice(
            covered: records.count, total: points.count, missing: missing, noun: "training run",
            command: ReportCommand.merge(file: experiment.file, quick: quick, output: outputDirectory,
                                         defaultOutput: Self.defaultDirectory(experiment, quick: quick)))
        try writeReport(records, notice: notice)
        return MergeOutcome(directory: directory, total: points.count, merged: records.count, missing: missing,
                            strays: found.strays, figureProblems: [])
    }
}
