import Foundation
import SondeBase

/// One minimal pair: an acceptable sentence and an unacceptable one that differ in one place.
/// Real sets have flaws: BLiMP holds 7 pairs whose two sentences are the same (passive_1,
/// principle_A_case_2); they are read, and scoring leaves them out and counts them.
/// Sentences are text as a model reads it; word-level models split it with `MinimalPairs.words`.
public struct MinimalPair: Sendable, Equatable, Codable {
    public var good: String
    public var bad: String
    /// The words before the critical one, when the source gives them (BLiMP's
    /// `one_prefix_prefix`); scoring finds the differing span itself either way.
    public var prefix: String?

    public init(good: String, bad: String, prefix: String? = nil) {
        (self.good, self.bad, self.prefix) = (good, bad, prefix)
    }
}

/// The pairs of one phenomenon (a BLiMP paradigm, a generated task) and the group a linguist
/// puts it in (BLiMP's `linguistics_term`), which the task-space hypotheses are made of.
public struct PairTask: Sendable, Equatable, Codable {
    public var id: String
    public var group: String
    public var pairs: [MinimalPair]

    public init(id: String, group: String, pairs: [MinimalPair]) {
        (self.id, self.group, self.pairs) = (id, group, pairs)
    }

    /// A seeded split into train and test pairs: the first `testShare` of a seeded shuffle is the
    /// test split (at least one pair each when there are two or more).
    public func split(testShare: Double = 0.5, seed: UInt64) -> (train: [MinimalPair], test: [MinimalPair]) {
        var hash = FNV1a()
        hash.mix(id.utf8)
        var generator = SplitMix64(seed: seed ^ hash.value)
        let order = generator.shuffled(Array(pairs.indices))
        var testCount = Int((Double(pairs.count) * testShare).rounded())
        if pairs.count >= 2 { testCount = min(max(testCount, 1), pairs.count - 1) }
        return (order.dropFirst(testCount).map { pairs[$0] }, order.prefix(testCount).map { pairs[$0] })
    }
}

/// Sets of minimal pairs: BLiMP's jsonl files and a plain TSV, read with the line of anything
/// malformed; and the word splitting that word-level models read them with.
public enum MinimalPairs {
    /// Reads `path`: a BLiMP `.jsonl` file, a folder of them (one task per file, in name order),
    /// or a `.tsv` with the columns task, group, good, bad (and an optional prefix). Tasks keep
    /// the order they first appear in.
    public static func read(_ path: String) throws -> [PairTask] {
        if let entries = try listFolder(path) {
            let files = entries.filter { !$0.hasPrefix(".") && ($0.hasSuffix(".jsonl") || $0.hasSuffix(".tsv")) }.sorted(by: naturalOrder)
                .map { path + "/" + $0 }.filter(isRegularFile)
            guard !files.isEmpty else { throw FileError(.cannotOpen, path, "the folder holds no .jsonl or .tsv files of minimal pairs") }
            return merge(try files.flatMap { try readFile($0) })
        }
        return try readFile(path)
    }

    static func readFile(_ path: String) throws -> [PairTask] {
        let text = try TextFile(path: path)
        var tasks: [PairTask] = []
        var index: [String: Int] = [:]
        func add(_ task: String, _ group: String, _ pair: MinimalPair, line: Int) throws {
            if let i = index[task] {
                guard tasks[i].group == group else {
                    throw CorpusError(path, line: line, "task '\(task)' is in group '\(tasks[i].group)' above and '\(group)' here")
                }
                tasks[i].pairs.append(pair)
            } else {
                index[task] = tasks.count
                tasks.append(PairTask(id: task, group: group, pairs: [pair]))
            }
        }
        let jsonl = path.hasSuffix(".jsonl")
        try text.forEachLine { number, range in
            let line = text.string(range)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || (!jsonl && line.hasPrefix("#")) { return }
            if jsonl {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw CorpusError(path, line: number, "not a JSON object (BLiMP files hold one per line)")
                }
                func field(_ key: String) throws -> String {
                    guard let value = object[key] as? String, !value.isEmpty else {
                        throw CorpusError(path, line: number, "no '\(key)' (a BLiMP line has sentence_good, sentence_bad, UID, linguistics_term)")
                    }
                    return value
                }
                let prefix = (object["one_prefix_method"] as? Bool) == true ? object["one_prefix_prefix"] as? String : nil
                try add(
                    try field("UID"), try field("linguistics_term"),
                    try checked(MinimalPair(good: try field("sentence_good"), bad: try field("sentence_bad"), prefix: prefix), path, number),
                    line: number)
            } else {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard columns.count == 4 || columns.count == 5, columns.prefix(4).allSatisfy({ !$0.isEmpty }) else {
                    throw CorpusError(
                        path, line: number, "expected 4 or 5 tab-separated columns (task, group, good, bad[, prefix]); found \(columns.count)")
                }
                let prefix = columns.count == 5 && !columns[4].isEmpty ? columns[4] : nil
                try add(
                    columns[0], columns[1], try checked(MinimalPair(good: columns[2], bad: columns[3], prefix: prefix), path, number), line: number)
            }
        }
        guard !tasks.isEmpty else { throw CorpusError(path, line: 1, "no minimal pairs in the file") }
        return tasks
    }

    private static func checked(_ pair: MinimalPair, _ path: String, _ line: Int) throws -> MinimalPair {
        for sentence in [pair.good, pair.bad] {
            let words = words(sentence)
            guard words.count <= InputLimits.sentenceWords.value else {
                throw CorpusError(path, line: line, InputLimits.sentenceWords.message("a sentence of the pair has \(words.count) words"))
            }
            if let long = words.first(where: { $0.utf8.count > InputLimits.wordBytes.value }) {
                throw CorpusError(path, line: line, InputLimits.wordBytes.message("a word of the pair is \(long.utf8.count) bytes long"))
            }
        }
        return pair
    }

    /// Tasks with the same id from several files become one (their pairs in file order).
    static func merge(_ tasks: [PairTask]) -> [PairTask] {
        var result: [PairTask] = []
        var index: [String: Int] = [:]
        for task in tasks {
            if let i = index[task.id] { result[i].pairs += task.pairs } else { index[task.id] = result.count; result.append(task) }
        }
        return result
    }

    /// Writes tasks as the TSV `read` reads (task, group, good, bad, prefix), atomically.
    public static func writeTSV(_ tasks: [PairTask], to path: String) throws {
        var text = "# task\tgroup\tgood\tbad\tprefix\n"
        for task in tasks {
            for pair in task.pairs { text += [task.id, task.group, pair.good, pair.bad, pair.prefix ?? ""].joined(separator: "\t") + "\n" }
        }
        try AtomicFile.write(to: path) { try $0.write(Array(text.utf8)) }
    }

    /// The words of a sentence as a treebank tokenises them (Universal Dependencies' English
    /// conventions): split at spaces, punctuation split off the ends of a word, and the clitics
    /// n't, 's, 're, 've, 'll, 'd and 'm split off ("hasn't." → has n't .).
    public static func words(_ text: String) -> [String] {
        let punctuation = Set(".,;:!?\"()[]")
        var result: [String] = []
        for chunk in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            // Characters with integer bounds: Substring's `last`/`dropLast` walked the word again
            // at every step, so a long run of closing brackets took quadratic time.
            let characters = Array(chunk)
            var (start, end) = (0, characters.count)
            while end - start > 1, punctuation.contains(characters[start]) { start += 1 }
            while end - start > 1, punctuation.contains(characters[end - 1]) { end -= 1 }
            let leading = characters[0..<start].map { String($0) }, trailing = characters[end...].map { String($0) }
            var word = String(characters[start..<end])
            var clitic: String?
            for suffix in ["n't", "'s", "'re", "'ve", "'ll", "'d", "'m"] where word.count > suffix.count && word.lowercased().hasSuffix(suffix) {
                clitic = String(word.suffix(suffix.count))
                word = String(word.dropLast(suffix.count))
                break
            }
            result += leading + [word] + (clitic.map { [$0] } ?? []) + trailing
        }
        return result
    }
}
