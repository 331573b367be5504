// Where each value and gradient of a program lives.
//
// For a recurrence the graph is one step. Parameters and constants are *shared* by all steps
// (their gradients accumulate); per-step input leaves and every row-wise node that depends
// only on them and on shared values are *hoisted* (`sequence`: stored for all steps, computed
// by one kernel call per block of steps); the other nodes run step by step, *kept* for every
// step when a reverse pass reads them, else in one *scratch* frame.

/// A storage class of a program's arenas (indexing them by raw value).
enum Storage: Int, CaseIterable { case shared, sequence, kept, scratch }

/// Where one node's value and gradient live.
struct Placement {
    var storage: Storage
    var offset = 0, stride = 0
    var hasGradient = false
    var gradOffset = 0, gradStride = 0
    /// Steps a hoisted value (gradient) is stored for: 0 for every step, else one block's
    /// worth, reused block after block (step t at t mod window).
    var window = 0, gradWindow = 0
}

/// The placement of every node of a program, and the arenas' sizes.
struct StorageLayout {
    /// Per node.
    let placement: [Placement]
    /// Per node: used as an operand the op differentiates.
    let differentiableUse: [Bool]
    /// Numbers of each arena, values and gradients, in `Storage` raw-value order.
    let valueSizes: [Int], gradientSizes: [Int]
    /// Bytes per step, as if every hoisted value were stored for every step: an upper bound
    /// (what a program of one block, as `Unrolled` measures it, stores) that does not depend
    /// on the length.
    let bytesPerStep: Int

    init(graph: Graph, steps: Int, block: Int, recurrence: [(state: Int, next: Int)], keep: [Int], gradientless: Set<Int>,
         bytesPerScalar: Int) {
        let nodes = graph.nodes
        let stateLeaves = Set(recurrence.map(\.state))
        // Placement: shared, hoisted (sequence), or per step.
        var place = [Placement]()
        for (id, node) in nodes.enumerated() {
            switch node.op {
            case .parameter, .constant: place.append(Placement(storage: .shared))
            case .input: place.append(Placement(storage: stateLeaves.contains(id) ? .kept : .sequence))
            default:
                let canHoist = steps > 1 && StorageLayout.hoistable(node, nodes, place)
                place.append(Placement(storage: canHoist ? .sequence : .scratch))
            }
        }
        // A hoisted `x • W + b` (a bias added to an input product) whose consumers all run step
        // by step stays in the step: the step's fused gate sum then adds the bias itself, which
        // saves a pass over all steps' gate values and its gradient (a copy) per block.
        for (id, node) in nodes.enumerated() where place[id].storage == .sequence && node.op == .add {
            let consumers = nodes.indices.filter { nodes[$0].operands.contains(id) }
            let biasAdded = node.operands.contains { place[$0].storage == .shared && nodes[$0].shape.rows == 1 }
            if biasAdded, consumers.count == 1, consumers.allSatisfy({ place[$0].storage != .sequence && nodes[$0].op == .add }),
               !keep.contains(id) {
                place[id].storage = .scratch
            }
        }
        // Keep the step values some VJP reads, and those asked for; with one step keep all.
        for (id, node) in nodes.enumerated() where !node.op.isLeaf {
            let needs = node.op.vjpReads
            if needs.operands { for o in node.operands where place[o].storage == .scratch { place[o].storage = .kept } }
            if needs.output && place[id].storage == .scratch { place[id].storage = .kept }
        }
        for id in keep where place[id].storage == .scratch { place[id].storage = .kept }
        if steps == 1 { for i in place.indices where place[i].storage == .scratch { place[i].storage = .kept } }

        // Which nodes carry a gradient: those reached from a parameter or input through
        // operands the op differentiates.
        var differentiableUse = Array(repeating: false, count: nodes.count)
        for (id, node) in nodes.enumerated() {
            switch node.op {
            case .parameter, .input: place[id].hasGradient = !gradientless.contains(id)
            case .constant: break
            default:
                for (i, o) in node.operands.enumerated() where node.op.isDifferentiable(operand: i) {
                    differentiableUse[o] = true
                    if place[o].hasGradient { place[id].hasGradient = true }
                }
            }
        }

        // Hoisted values that no reverse pass reads (an input projection: its VJP reads x and W,
        // not x W), and hoisted gradients (consumed by the hoisted VJPs at the end of their
        // block), are stored for one block, not for every step: far less memory and memory
        // traffic (Notes/performance.md). Input leaves, and values kept or read by a VJP, are
        // stored for every step.
        var readInReverse = Set(keep + recurrence.map(\.next))
        for (id, node) in nodes.enumerated() where !node.op.isLeaf {
            let reads = node.op.vjpReads
            if reads.operands { readInReverse.formUnion(node.operands) }
            if reads.output { readInReverse.insert(id) }
        }
        for (id, node) in nodes.enumerated() where place[id].storage == .sequence && !node.op.isLeaf && steps > block {
            if !readInReverse.contains(id) { place[id].window = block }
            if place[id].hasGradient { place[id].gradWindow = block }
        }

        // Offsets and strides.
        var size: [Storage: Int] = [:], gradSize: [Storage: Int] = [:]
        var sequenceEveryStep = 0   // what the sequence arenas would hold for every step
        var frame = 0
        for (id, node) in nodes.enumerated() {
            let n = node.shape.count
            var p = place[id]
            switch p.storage {
            case .shared: p.offset = size[.shared, default: 0]; size[.shared, default: 0] += n
            case .sequence:
                p.offset = size[.sequence, default: 0]; p.stride = n
                size[.sequence, default: 0] += n * (p.window > 0 ? p.window : steps)
                sequenceEveryStep += n * steps
            case .kept: p.offset = frame; frame += n
            case .scratch: p.offset = size[.scratch, default: 0]; size[.scratch, default: 0] += n
            }
            if p.hasGradient {
                let g: Storage = p.storage == .kept ? .scratch : p.storage   // step gradients share one frame
                p.gradOffset = gradSize[g, default: 0]
                p.gradStride = g == .sequence ? n : 0
                gradSize[g, default: 0] += g == .sequence ? n * (p.gradWindow > 0 ? p.gradWindow : steps) : n
                if g == .sequence { sequenceEveryStep += n * steps }
            }
            place[id] = p
        }
        for i in place.indices where place[i].storage == .kept { place[i].stride = frame }
        // As if every hoisted value were stored for every step: an upper bound (what a program of
        // one block, as `Unrolled` measures it, stores) that does not depend on the length.
        size[.kept] = frame * steps
        placement = place
        self.differentiableUse = differentiableUse
        valueSizes = Storage.allCases.map { size[$0, default: 0] }
        gradientSizes = Storage.allCases.map { gradSize[$0, default: 0] }
        bytesPerStep = bytesPerScalar * (frame + sequenceEveryStep / steps)
    }

    /// Whether `node` can run once over all steps: a row-wise op whose per-step operands are
    /// all hoisted with the node's own row count, and whose shared operands only broadcast
    /// (1-row) or are the weight side of a product.
    static func hoistable(_ node: Graph.Node, _ nodes: [Graph.Node], _ place: [Placement]) -> Bool {
        guard node.op.rowsAreIndependent else { return false }
        var anySequence = false
        for (i, o) in node.operands.enumerated() {
            switch place[o].storage {
            case .sequence:
                guard nodes[o].shape.rows == node.shape.rows else { return false }
                if case .matmul = node.op, i == 1 { return false }
                anySequence = true
            case .shared:
                switch node.op {
                case .matmul: if i == 0 { return false }
                case .add, .subtract, .multiply, .divide: if nodes[o].shape.rows != 1 { return false }
                default: return false
                }
            default: return false
            }
        }
        return anySequence
    }
}
