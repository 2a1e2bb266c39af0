import SondeStudy

extension Claim {
    /// Reads `[[claims]]` tables and checks each against what the experiment computes; errors
    /// name the file, the line and `claims[i].key`.
    static func read(_ value: TOMLValue, lines: [String], path: String, experiment e: Experiment) throws -> [Claim] {
        /// The line of the i-th `[[claims]]` header's `key` (the header when the key is missing).
        func line(_ i: Int, _ key: String) -> Int {
            let headers = lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("[[claims]]") }
            guard i < headers.count else { return 1 }
            let end = lines.indices.first { $0 > headers[i] && lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("[") } ?? lines.count
            let at = (headers[i]..<end).first { n in
                let l = lines[n].trimmingCharacters(in: .whitespaces)
                return l.hasPrefix(key + " ") || l.hasPrefix(key + "=")
            }
            return (at ?? headers[i]) + 1
        }
        guard let array = value.array else { throw StudyError("\(path):\(line(0, "")): claims: expected tables ([[claims]])") }
        return try array.enumerated().map { i, entry in
            func fail(_ key: String, _ message: String) -> StudyError { StudyError("\(path):\(line(i, key)): claims[\(i)].\(key): \(message)") }
            guard let t = entry.table else { throw fail("", "expected a table ([[claims]])") }
            let keys = ["claim", "kind", "quantities", "tolerance"]
            if let unknown = t.keys.first(where: { !keys.contains($0) }) {
                throw fail(unknown, "unknown key; [[claims]] has \(keys.joined(separator: ", "))")
            }
            guard let words = t["claim"]?.string, !words.isEmpty else { throw fail("claim", "expected the claim in words") }
            guard let kindName = t["kind"]?.string, let kind = Kind(rawValue: kindName) else {
                throw fail("kind", "expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let list = t["quantities"]?.array, case let quantities = list.compactMap(\.string), quantities.count == list.count,
                quantities.count == kind.arity
            else { throw fail("quantities", "'\(kind.rawValue)' takes a list of \(kind.arity) quantit\(kind.arity == 1 ? "y" : "ies")") }
            for text in quantities {
                do { try Quantity(text).check(against: e) } catch let error as QuantityError { throw fail("quantities", error.description) }
            }
            if kind.arity == 1 || kind == .earlier {
                if let one = try quantities.first(where: { !(try Quantity($0).isSeries) }) {
                    throw fail("quantities", "'\(one)' is one number; '\(kind.rawValue)' compares series over training")
                }
            }
            if kind == .lowerThan || kind == .higherThan,
                let stable = try quantities.first(where: { if case .taskSpaceStability = try Quantity($0) { true } else { false } })
            {
                throw fail(
                    "quantities", "'\(stable)' is 1 at the last checkpoint (the last against itself): name a checkpoint, '\(stable) at step-N'")
            }
            var claim = Claim(claim: words, kind: kind, quantities: quantities)
            if let value = t["tolerance"] {
                guard let tolerance = value.double ?? value.int.map(Double.init), tolerance.isFinite, tolerance >= 0 else {
                    throw fail("tolerance", "expected a number ≥ 0")
                }
                claim.tolerance = tolerance
            }
            return claim
        }
    }
}
