import Foundation
import SondeBase
import SondeCorpus

extension TaskSpace {
    /// A hypothesis matrix over `tasks` from a TSV file of `task, task, value` lines (symmetric;
    /// the diagonal 1 and unlisted pairs 0; `#` lines are comments). A line that is not three
    /// fields naming two of the tasks and a finite value is a `CorpusError` at its line.
    public static func readHypothesis(_ path: String, tasks: [String]) throws -> [[Double]] {
        let index = Dictionary(uniqueKeysWithValues: tasks.enumerated().map { ($1, $0) })
        var m = tasks.indices.map { i in tasks.indices.map { i == $0 ? 1.0 : 0 } }
        let text = try String(decoding: MappedFile.data(path), as: UTF8.self)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            let c = line.split(separator: "\t").map(String.init)
            guard c.count == 3, let a = index[c[0]], let b = index[c[1]], let v = Double(c[2]), v.isFinite else {
                throw CorpusError(path, line: n + 1, "expected task, task, value (tab-separated) with tasks of the pairs")
            }
            (m[a][b], m[b][a]) = (v, v)
        }
        return m
    }
}
