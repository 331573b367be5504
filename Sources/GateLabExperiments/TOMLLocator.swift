import Foundation

/// Finds the line of a key path (`defaults.steps`, `grid[2].cell`) in TOML source text, for
/// error messages: TOMLKit reports positions of syntax errors but not of parsed values.
///
/// It reads lines the way a person does: `[table]` and `[[array]]` headers (arrays of tables
/// counted from 1, as in `grid[2]`), and `key = …` lines (dotted keys included). Keys inside
/// inline tables and elements of multi-line arrays are found at their enclosing key's line.
struct TOMLLocator {
    /// Key path → 1-based line.
    private var lines: [String: Int] = [:]

    init(source: String) {
        var table = ""
        var counts: [String: Int] = [:]
        var depth = 0   // open brackets of a multi-line value: its lines hold no keys
        var inMultiLineString = false
        for (index, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Lines inside a multi-line string (""" … """ or ''' … ''') hold no keys.
            let fences = raw.components(separatedBy: "\"\"\"").count - 1 + raw.components(separatedBy: "'''").count - 1
            let wasInString = inMultiLineString
            if fences % 2 == 1 { inMultiLineString.toggle() }
            if wasInString { continue }
            let line = Self.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            defer { depth = max(0, depth + Self.bracketBalance(line)) }
            guard depth == 0, !line.isEmpty else { continue }
            if line.hasPrefix("[["), let end = line.range(of: "]]") {
                let name = Self.normalize(String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]))
                counts[name, default: 0] += 1
                table = "\(name)[\(counts[name]!)]"
                lines[table] = lines[table] ?? index + 1
                depth = -Self.bracketBalance(line)   // cancel the header's own brackets
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                table = Self.normalize(String(line[line.index(after: line.startIndex)..<end]))
                lines[table] = lines[table] ?? index + 1
                depth = -Self.bracketBalance(line)
            } else if let eq = line.firstIndex(of: "=") {
                let key = Self.normalize(String(line[..<eq]))
                let path = table.isEmpty ? key : "\(table).\(key)"
                lines[path] = lines[path] ?? index + 1
            }
        }
    }

    /// The line of `path`, or of its nearest enclosing key or table that has one.
    func line(of path: String) -> Int? {
        var p = path
        while !p.isEmpty {
            if let l = lines[p] { return l }
            // Drop a trailing element index (`cell[2]` → `cell`), else the last component.
            if p.hasSuffix("]"), let open = p.lastIndex(of: "[") { p = String(p[..<open]); continue }
            guard let dot = p.lastIndex(of: ".") else { return nil }
            p = String(p[..<dot])
        }
        return nil
    }

    /// `a . "b"` → `a.b`.
    private static func normalize(_ key: String) -> String {
        key.split(separator: ".").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
            .joined(separator: ".")
    }

    /// The line without a `#` comment (a `#` inside a string is kept).
    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        for (i, ch) in zip(line.indices, line) {
            if let q = quote { if ch == q { quote = nil } }
            else if ch == "\"" || ch == "'" { quote = ch }
            else if ch == "#" { return String(line[..<i]) }
        }
        return line
    }

    /// Opened minus closed `[` and `{` outside strings.
    private static func bracketBalance(_ line: String) -> Int {
        var quote: Character?, balance = 0
        for ch in line {
            if let q = quote { if ch == q { quote = nil }; continue }
            switch ch {
            case "\"", "'": quote = ch
            case "[", "{": balance += 1
            case "]", "}": balance -= 1
            default: break
            }
        }
        return balance
    }
}
