/// Approximate equality for tests: |a − b| ≤ tolerance, element-wise for arrays.
func isClose(_ a: Double, _ b: Double, tolerance: Double) -> Bool { abs(a - b) <= tolerance }

/// Element-wise `isClose` for equally long arrays.
func isClose(_ a: [Double], _ b: [Double], tolerance: Double) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { isClose($0, $1, tolerance: tolerance) }
}

/// Row-major (rows × cols)ᵀ(rows × cols) or (rows × cols)(rows × cols)ᵀ, naively.
func gram(rows: Int, cols: Int, _ m: [Double], ofColumns: Bool) -> [Double] {
    let size = ofColumns ? cols : rows
    var result = [Double](repeating: 0, count: size * size)
    for i in 0..<size {
        for j in 0..<size {
            result[i * size + j] = ofColumns
                ? (0..<rows).reduce(0) { $0 + m[$1 * cols + i] * m[$1 * cols + j] }
                : (0..<cols).reduce(0) { $0 + m[i * cols + $1] * m[j * cols + $1] }
        }
    }
    return result
}

/// The n × n identity times `scale`, row-major.
func identity(_ n: Int, scale: Double = 1) -> [Double] {
    (0..<n * n).map { $0 / n == $0 % n ? scale : 0 }
}
