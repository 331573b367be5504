import Foundation
import GateLabGSL
import GateLabInterchange
import GateLabSupport

/// Polyphonic music: Bach's four-part chorales as 88-key piano rolls at quarter-note steps, the
/// JSB Chorales of Boulanger-Lewandowski, Bengio & Vincent (2012) as Greff et al. (2017)
/// compare LSTM variants on, remade from the chorales bundled with music21
/// (`Data/chorales/chorales.npz`; how, in `Data/chorales/README.md`). The input at step t is
/// the roll of frame t (88 zeros and ones, MIDI 21 … 108), the target the roll of frame t + 1;
/// the readout's 88 outputs are read as σ(y), the probability that each key sounds. Loss:
/// the Bernoulli negative log-likelihood summed over the 88 keys and averaged over every
/// (sequence, step) target — the NLL per time step Greff et al. report. Second metric: the
/// frame-level accuracy of Bay, Ehmann & Downie (2009), ΣTP / Σ(TP + FP + FN) over every
/// held-out frame, a key predicted on when σ(y) > 0.5. No criterion: a run trains for its
/// whole budget.
///
/// The training batches are pieces drawn uniformly, with replacement, from the train split
/// by the run's data source; the held-out set is the whole validation split and the test
/// result the whole test split, never random draws. The length parameter T is the most steps
/// one sequence is unrolled for: a chorale of n frames has n − 1 steps, and one longer than T
/// is cut into consecutive pieces of T steps (the last shorter), every step predicted once.
/// T at least the longest chorale (`longestChorale`) gives whole chorales, as the papers
/// train and score them. Shorter pieces are padded with zero inputs and carry no targets
/// past their end.
public struct Chorales: ForgettingTask {
    public let name = "chorales"
    public let length: Int
    public let inputSize = 88
    public let loss = TaskLoss.bernoulli(outputs: 88)
    /// The longest piece's steps: min(T, the longest chorale's steps).
    public let steps: Int
    public let baseline: Double
    public let baselineDescription = "NLL per step on the validation split of predicting each key's frequency in the training split "
        + "(add-one smoothed), remembering nothing; predicting 1/2 for every key scores 88 ln 2 ≈ 61.0"
    public let criterion = "none: trained for the whole budget, scored by the held-out NLL per step (and frame accuracy)"
    public var hasCriterion: Bool { false }
    public var dataFiles: [String] { [data.path] }

    /// The data file's place in a GateLab clone, searched for from the working folder up.
    public static let dataFile = "Data/chorales/chorales.npz"
    /// MIDI number of the roll's first key (A0); the 88 keys are MIDI 21 … 108.
    public static let lowestMIDI = 21

    /// The data set.
    public let data: ChoraleData
    /// Every split's pieces, in the file's order.
    let pieces: [ChoraleData.Split: [Piece]]

    /// Steps `start ..< start + count` of chorale `chorale`: inputs frames `start ..< start +
    /// count`, targets frames `start + 1 ... start + count`.
    struct Piece: Equatable {
        let chorale: Int, start: Int, count: Int
    }

    /// The task with pieces of at most `length` ≥ 1 steps, reading `dataFile` (nil: found
    /// from the working folder up, `dataFile`).
    /// - Throws: `TaskError.badParameter` for a length below 1, a data file not found, or
    ///   one that is not a chorale data set (naming the file and the key).
    public init(length: Int, dataFile path: String? = nil) throws {
        guard length >= 1 else { throw TaskError.badParameter(task: "chorales", message: "length must be ≥ 1, got \(length)") }
        self.length = length
        data = try ChoraleData.load(path ?? Self.locate())
        var pieces = [ChoraleData.Split: [Piece]]()
        for (i, frames) in data.chorales.enumerated() {
            var start = 0
            while start < frames.count - 1 {
                let count = min(length, frames.count - 1 - start)
                pieces[data.splits[i], default: []].append(Piece(chorale: i, start: start, count: count))
                start += count
            }
        }
        self.pieces = pieces
        steps = pieces.values.joined().map(\.count).max()!
        baseline = data.frequencyBaseline
    }

    /// The longest chorale's steps (frames − 1): a length at least this trains on whole chorales.
    public var longestChorale: Int { data.chorales.map { $0.count - 1 }.max()! }

    /// The number of pieces in `split`.
    public func pieceCount(_ split: ChoraleData.Split) -> Int { pieces[split]?.count ?? 0 }

    /// `dataFile` in the working folder or the nearest folder above it that has it; else in
    /// the source tree GateLab was built from.
    static func locate() throws -> String {
        let fm = FileManager.default
        var folder = URL(fileURLWithPath: fm.currentDirectoryPath).standardizedFileURL
        var relative = ""
        while true {
            if fm.fileExists(atPath: folder.appendingPathComponent(dataFile).path) { return relative + dataFile }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
            relative += "../"
        }
        let built = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(dataFile).path
        if fm.fileExists(atPath: built) { return built }
        throw TaskError.badParameter(task: "chorales", message: "data file \(dataFile) not found in the working folder or a folder above it; run gatelab inside the GateLab clone")
    }

    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        let train = pieces[.train]!
        return batch(of: (0..<size).map { _ in train[rng.integer(below: train.count)] }, size: size)
    }

    public func heldOut(_ split: HeldOutSplit, batchSize size: Int) -> [TaskBatch]? {
        let all = pieces[split == .validation ? .validation : .test]!
        return stride(from: 0, to: all.count, by: size).map { batch(of: Array(all[$0..<min($0 + size, all.count)]), size: size) }
    }

    /// A batch of `chosen` pieces, one per row; rows past them are empty (length 0, no targets).
    func batch(of chosen: [Piece], size: Int) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: steps, inputSize: inputSize)
        for b in 0..<size { batch.lengths[b] = b < chosen.count ? chosen[b].count : 0 }
        for (b, piece) in chosen.enumerated() {
            let frames = data.chorales[piece.chorale]
            for t in 0..<piece.count { for key in frames[piece.start + t] { batch[t, b, key] = 1 } }
        }
        batch.targets = (0..<steps).compactMap { t in
            let rows = chosen.indices.filter { chosen[$0].count > t }
            guard !rows.isEmpty else { return nil }
            var values = [Double](repeating: 0, count: rows.count * inputSize)
            for (j, b) in rows.enumerated() {
                for key in data.chorales[chosen[b].chorale][chosen[b].start + t + 1] { values[j * inputSize + key] = 1 }
            }
            return StepTargets(step: t, rows: rows, values: values)
        }
        return batch
    }

    /// Frame-level accuracy's counts for one frame (Bay et al. 2009): right = TP, of =
    /// TP + FP + FN, a key predicted on when σ(y) > 0.5, i.e. its output y > 0.
    public func score(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> (right: Int, of: Int) {
        var tp = 0, fp = 0, fn = 0
        for (y, z) in zip(prediction, value) {
            switch (y > 0, z > 0.5) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            case (false, false): break
            }
        }
        return (tp, tp + fp + fn)
    }

    /// Whether every one of the 88 keys of the frame is predicted right.
    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        let s = score(prediction: prediction, value: value, label: label)
        return s.right == s.of
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { false }
}

/// The chorale data file's contents: every chorale as a list of frames, each frame the keys
/// (0 … 87, MIDI − 21) sounding, and each chorale's split.
///
/// The file (`make_chorales.py`): a numpy `.npz` with `pitches` [frames, W] (the MIDI numbers
/// sounding in each frame, ascending, 0-padded), `offsets` [n + 1] (chorale i is frames
/// offsets[i] ..< offsets[i + 1]) and `split` [n] (0 train, 1 validation, 2 test), plus
/// metadata with `names`, the chorales' file stems.
public struct ChoraleData: Sendable {
    /// A split of the data set.
    public enum Split: Int, Sendable, CaseIterable { case train = 0, validation = 1, test = 2 }

    /// The file read, as given.
    public let path: String
    /// Chorale → frame → the keys (0 … 87) sounding, ascending.
    public let chorales: [[[Int]]]
    /// Each chorale's split.
    public let splits: [Split]
    /// Each chorale's name (its music21 file stem, e.g. `bwv1.6`); empty when the file has none.
    public let names: [String]
    /// The metadata strings of the file (music21's version, the rules it was made by).
    public let metadata: [String: String]

    /// The chorales of `split`, by index.
    public func indices(_ split: Split) -> [Int] { splits.indices.filter { splits[$0] == split } }

    /// Files already read, by path, size and modification time: a grid's runs read the file once.
    private static let cache = Cache()
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var read = [String: ChoraleData]()
    }

    /// Reads and checks `path`.
    /// - Throws: `TaskError.badParameter` naming the file and, where one is at fault, the key.
    public static func load(_ path: String) throws -> ChoraleData {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let attributes else {
            throw TaskError.badParameter(task: "chorales", message: "data file \(path) not found")
        }
        let key = "\(path)\u{0}\(attributes[.size] ?? 0)\u{0}\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        cache.lock.lock()
        let known = cache.read[key]
        cache.lock.unlock()
        if let known { return known }
        let data = try decode(path)
        cache.lock.lock()
        cache.read[key] = data
        cache.lock.unlock()
        return data
    }

    static func decode(_ path: String) throws -> ChoraleData {
        func fail(_ key: String?, _ message: String) -> TaskError {
            .badParameter(task: "chorales", message: CaseFileError(file: path, key: key, message: message).description)
        }
        let archive: ArrayArchive
        do { archive = try ArrayArchive.read(path) } catch {
            throw TaskError.badParameter(task: "chorales", message: "\(error)")
        }
        func array(_ name: String, rank: Int) throws -> NamedArray {
            guard let a = archive[name] else { throw fail(name, "missing") }
            guard a.shape.count == rank else { throw fail(name, "expected \(rank) dimension\(rank == 1 ? "" : "s"), got shape \(a.shape)") }
            return a
        }
        let pitches = try array("pitches", rank: 2), offsets = try array("offsets", rank: 1), split = try array("split", rank: 1)
        let (frames, width) = (pitches.shape[0], pitches.shape[1])
        let n = split.shape[0]
        guard n >= 1 else { throw fail("split", "no chorales") }
        guard offsets.shape[0] == n + 1 else { throw fail("offsets", "expected \(n + 1) offsets for \(n) chorales, got \(offsets.shape[0])") }
        guard width >= 1 else { throw fail("pitches", "no pitch columns") }
        var bounds = [Int]()
        for (i, o) in offsets.values.enumerated() {
            guard o.isFinite, o == o.rounded(), o >= 0, o <= Double(frames) else { throw fail("offsets", "offsets[\(i)] = \(o) is not a frame index in 0 … \(frames)") }
            if i > 0 && Int(o) < bounds[i - 1] + 2 { throw fail("offsets", "chorale \(i - 1) has fewer than 2 frames (offsets \(bounds[i - 1]) … \(Int(o)))") }
            bounds.append(Int(o))
        }
        guard bounds.first == 0, bounds.last == frames else { throw fail("offsets", "must run from 0 to the \(frames) frames of 'pitches'") }
        var splits = [Split]()
        for (i, s) in split.values.enumerated() {
            guard let v = Split(rawValue: s.isFinite && s == s.rounded() && abs(s) < 10 ? Int(s) : -1) else {
                throw fail("split", "split[\(i)] = \(s) is not 0 (train), 1 (validation) or 2 (test)")
            }
            splits.append(v)
        }
        for s in Split.allCases where !splits.contains(s) { throw fail("split", "no chorale in the \(s) split") }
        var rows = [[Int]]()
        rows.reserveCapacity(frames)
        for f in 0..<frames {
            var keys = [Int]()
            for m in pitches.values[(f * width)..<((f + 1) * width)] where m != 0 {
                guard m == m.rounded(), (21...108).contains(m) else {
                    throw fail("pitches", "frame \(f) holds \(m), not a MIDI number of the 88 keys (21 … 108) or 0")
                }
                keys.append(Int(m) - Chorales.lowestMIDI)
            }
            rows.append(Array(Set(keys)).sorted())
        }
        let names = archive.metadata["names"].map { $0.split(separator: " ").map(String.init) } ?? []
        guard names.isEmpty || names.count == n else { throw fail("__metadata__.names", "\(names.count) names for \(n) chorales") }
        return ChoraleData(path: path, chorales: (0..<n).map { Array(rows[bounds[$0]..<bounds[$0 + 1]]) }, splits: splits,
                           names: names, metadata: archive.metadata)
    }

    /// The targets (frames after the first) of `split`: how many, and how often each key sounds.
    func keyCounts(_ split: Split) -> (targets: Int, on: [Int]) {
        var on = [Int](repeating: 0, count: 88), targets = 0
        for i in indices(split) {
            for frame in chorales[i].dropFirst() {
                targets += 1
                for k in frame { on[k] += 1 }
            }
        }
        return (targets, on)
    }

    /// The NLL per step on the validation targets of the constant prediction q_k = (c_k + 1)
    /// / (N + 2), key k's add-one smoothed frequency in the N training targets.
    var frequencyBaseline: Double {
        let (n, c) = keyCounts(.train), (m, v) = keyCounts(.validation)
        var nll = 0.0
        for k in 0..<88 {
            let q = Double(c[k] + 1) / Double(n + 2)
            nll -= Double(v[k]) * Foundation.log(q) + Double(m - v[k]) * Foundation.log(1 - q)
        }
        return nll / Double(m)
    }
}
