import Foundation

/// ` (did you mean 'hc'?)` naming the entry of `known` fewest edits away from `name`, when
/// that is one edit for names of up to 3 characters and two for longer ones (the first such
/// entry on ties); "" when none is that close. The one suggester: unknown names in cell files,
/// unknown cell names, task names, and the keys of every kind's experiment files.
/// - Parameters:
///   - name: the unknown name.
///   - known: the valid names.
public func didYouMean(_ name: String, among known: [String]) -> String {
    let limit = name.count <= 3 ? 1 : 2
    let best = known.map { ($0, editDistance($0, name)) }.filter { $0.1 <= limit }.min { $0.1 < $1.1 }
    return best.map { " (did you mean '\($0.0)'?)" } ?? ""
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count), current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
