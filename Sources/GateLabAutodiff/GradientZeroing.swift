// Which gradients the reverse pass zeroes at each step, and zeroing them.
//
// Step gradients live in one frame reused by every step; only the slots the step's remaining
// instructions use need zeroing (fusion leaves the intermediate sums' slots unused), as merged
// ranges. The hoisted values' gradients (all steps: by far the largest arena) are zeroed one
// step at a time, just before the step's VJPs write them, while they are in cache.

/// The gradient ranges a program zeroes at each step.
struct GradientZeroing {
    /// Nodes whose step gradient is zeroed at each step (those a seed may be added to).
    var nodes = Set<Int>()
    /// Merged (offset, count) ranges of the step frame.
    var ranges: [(Int, Int)] = []
    /// The same slots one tensor each (offset, rows, cols), for zeroing split over the cores:
    /// each core zeroes the rows its row-wise sections write (`Parallel.rowHalf`).
    var tensors: [(offset: Int, rows: Int, cols: Int)] = []
    /// Per hoisted value with a gradient: its gradient's offset in the sequence arena, its size
    /// at one step (the gradient at step t starts at offset + t · size), its window and its
    /// rows at one step.
    var slices: [(offset: Int, count: Int, window: Int, rows: Int)] = []
    /// Numbers zeroed per step.
    var count = 0

    init() {}

    /// The ranges `program`'s step instructions (after fusion) use, and the values read after
    /// the pass (states, `keep`).
    init<S>(program: ProgramOf<S>, stepwise: [Instruction<S>], keep: [Int]) {
        let graph = program.graph, placement = program.placement
        var used = Set<Int>(program.recurrence.flatMap { [$0.state, $0.next] } + keep)
        for ins in stepwise {
            used.insert(ins.node)
            switch ins {
            case let f as FusedProducts<S>:
                for (k, m) in f.members.enumerated() where !f.direct[k] { used.insert(m.node) }
                used.insert(graph.nodes[ins.node].operands[0])
            case let f as FusedSum<S>: for (i, a) in f.addends.enumerated() where f.views[i] == nil { used.insert(a) }
            case let f as FusedProductSum<S>: used.formUnion(f.factors)
            default: used.formUnion(graph.nodes[ins.node].operands)
            }
        }
        nodes = used
        for id in used.sorted(by: { placement[$0].gradOffset < placement[$1].gradOffset })
        where placement[id].hasGradient && (placement[id].storage == .kept || placement[id].storage == .scratch) {
            let (o, n) = (placement[id].gradOffset, graph.nodes[id].shape.count)
            tensors.append((o, graph.nodes[id].shape.rows, graph.nodes[id].shape.cols))
            if let last = ranges.last, last.0 + last.1 == o { ranges[ranges.count - 1].1 += n } else { ranges.append((o, n)) }
        }
        slices = placement.indices.filter { placement[$0].storage == .sequence && placement[$0].hasGradient }
            .map { (placement[$0].gradOffset, graph.nodes[$0].shape.count, placement[$0].gradWindow, graph.nodes[$0].shape.rows) }
        count = ranges.reduce(0) { $0 + $1.1 } + slices.reduce(0) { $0 + $1.count }
    }

    /// The same ranges over a program's step-gradient frame and sequence-gradient arena.
    func bound<S>(frame: UnsafeMutablePointer<S>, sequence: UnsafeMutablePointer<S>) -> Bound<S> {
        Bound(frame: frame, sequence: sequence, ranges: ranges, tensors: tensors, slices: slices, count: count)
    }

    /// Zeroing over one program's storage.
    struct Bound<S: Scalar> {
        let frame: UnsafeMutablePointer<S>, sequence: UnsafeMutablePointer<S>
        let ranges: [(Int, Int)]
        let tensors: [(offset: Int, rows: Int, cols: Int)]
        let slices: [(offset: Int, count: Int, window: Int, rows: Int)]
        let count: Int

        /// Whether zeroing a step is worth splitting over the cores.
        var splits: Bool { Parallel.enabled && count / 2 >= Parallel.minimumElements }

        /// Zeroes, before step t's VJPs, the step gradients in use and the hoisted values'
        /// gradients at step t: all of them (`parts` 1) or, of every tensor, the row half
        /// `part` (`Parallel.rowHalf`), the rows that core's row-wise sections then write, so
        /// that no cache line zeroed by one core is written next by the other.
        func zero(step t: Int, part: Int, of parts: Int) {
            guard parts == 2 else {
                for (o, n) in ranges { (frame + o).update(repeating: 0, count: n) }
                for (o, n, window, _) in slices { (sequence + o + (window > 0 ? t % window : t) * n).update(repeating: 0, count: n) }
                return
            }
            for (o, rows, cols) in tensors {
                let rs = Parallel.rowHalf(part, of: rows)
                (frame + o + rs.lowerBound * cols).update(repeating: 0, count: rs.count * cols)
            }
            for (o, n, window, rows) in slices {
                let rs = Parallel.rowHalf(part, of: rows), cols = n / rows
                (sequence + o + (window > 0 ? t % window : t) * n + rs.lowerBound * cols).update(repeating: 0, count: rs.count * cols)
            }
        }

        /// Zeroes the hoisted values' gradients at `steps` (those stored for every step; a
        /// window is zeroed step by step).
        func zeroSequenceGradients(_ steps: Range<Int>) {
            for (o, n, window, _) in slices where window == 0 {
                (sequence + o + steps.lowerBound * n).update(repeating: 0, count: steps.count * n)
            }
        }
    }
}
