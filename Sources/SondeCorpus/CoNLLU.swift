import SondeBase

/// Reads CoNLL-U (https://universaldependencies.org/format.html) sentence by sentence.
///
/// Validated as it reads: ten tab-separated columns; word IDs 1, 2, 3, … in order; ranges `a-b`
/// announced before word a, within the sentence; empty nodes `a.1, a.2, …` after word a; HEAD an
/// integer in 0…(words) and not the word itself; exactly one root (when every head is given);
/// FEATS items of the form `Key=Value`; valid UTF-8. A problem throws `path:line:column: …`.
public struct ConlluReader: SentenceReader {
    let file: TextFile
    private var lines: [(number: Int, range: Range<Int>)] = []
    private var position = 0

    public init(path: String) throws {
        file = try TextFile(path: path)
        var collected: [(Int, Range<Int>)] = []
        file.forEachLine { collected.append(($0, $1)) }
        lines = collected
    }

    /// The next sentence, or nil at the end.
    public mutating func next() throws -> Sentence? {
        while position < lines.count && isBlank(lines[position].range) { position += 1 }  // empty or spaces and tabs only
        guard position < lines.count else { return nil }
        let start = position
        while position < lines.count && !isBlank(lines[position].range) { position += 1 }
        return try parseSentence(lines[start..<position])
    }

    /// Skips the rest of the sentence that just failed (after `next()` threw).
    public mutating func skipSentence() -> Bool {
        while position < lines.count && !isBlank(lines[position].range) { position += 1 }
        return true
    }

    private func isBlank(_ r: Range<Int>) -> Bool {
        file.bytes[r].allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    private func parseSentence(_ block: ArraySlice<(number: Int, range: Range<Int>)>) throws -> Sentence {
        let path = file.path
        var sentence = Sentence(location: TextLocation(path: path, line: block.first!.number))
        var pendingRangeEnd = 0  // last word covered by the latest multiword range
        var roots = 0
        var headsComplete = true
        var headChecks: [(head: Int, line: Int, lineStart: Int, fieldStart: Int)] = []
        let b = file.bytes
        // Column boundaries of the current line, reused across lines (no allocation per word).
        var starts = [Int](repeating: 0, count: 11)
        var ends = [Int](repeating: 0, count: 11)
        for (number, range) in block {
            if b[range.lowerBound] == UInt8(ascii: "#") {
                var s = range.lowerBound + 1
                if s < range.upperBound && b[s] == 0x20 { s += 1 }
                sentence.comments.append(file.string(s..<range.upperBound))
                continue
            }
            // Split into columns.
            var count = 1
            starts[0] = range.lowerBound
            for i in range where b[i] == 0x09 {
                if count < 10 {
                    ends[count - 1] = i
                    starts[count] = i + 1
                }
                count += 1
            }
            ends[min(count, 10) - 1] = range.upperBound
            func fail(_ k: Int, _ message: String) -> CorpusError {
                CorpusError(path, line: number, column: column(range.lowerBound, starts[k]), message)
            }
            guard count == 10 else {
                throw CorpusError(path, line: number, column: 1, "expected 10 tab-separated columns, found \(count)")
            }
            for k in 0..<10 where starts[k] == ends[k] {
                throw fail(k, "column \(k + 1) (\(Self.columnNames[k])) is empty; write _ for a missing value")
            }
            func field(_ k: Int) -> String { file.string(starts[k]..<ends[k]) }
            func optional(_ k: Int) -> String? {
                ends[k] - starts[k] == 1 && b[starts[k]] == UInt8(ascii: "_") ? nil : field(k)
            }
            let id = try parseID(starts[0]..<ends[0]) ?? { throw fail(0, "ID '\(field(0))' is not an integer, a range a-b or a decimal a.b") }()
            let words = sentence.words.count
            switch id {
            case .range(let first, let last):
                guard first == words + 1 else {
                    throw fail(0, "multiword token \(first)-\(last) must come right before word \(first), but the next word is \(words + 1)")
                }
                guard last > first else { throw fail(0, "multiword token range \(first)-\(last) must span at least two words") }
                guard first > pendingRangeEnd else { throw fail(0, "multiword token \(first)-\(last) overlaps the previous one") }
                for k in 2..<9 where optional(k) != nil {
                    throw fail(k, "a multiword token has _ in column \(k + 1) (\(Self.columnNames[k]))")
                }
                pendingRangeEnd = last
                sentence.multiwordTokens.append(MultiwordToken(first: first, last: last, form: field(1), misc: optional(9)))
            case .empty(let major, let minor):
                guard major == words else {
                    throw fail(0, "empty node \(major).\(minor) must follow word \(major), but the last word is \(words)")
                }
                let expected = (sentence.emptyNodes.last.map { $0.major == major ? $0.minor + 1 : 1 }) ?? 1
                guard minor == expected else { throw fail(0, "empty node \(major).\(minor) should be \(major).\(expected)") }
                let word = Word(
                    form: field(1), lemma: lemma(optional(2), form: field(1)), upos: optional(3), xpos: optional(4),
                    feats: try feats(starts[5]..<ends[5], fail: { fail(5, $0) }), head: nil, deprel: optional(7),
                    deps: optional(8), misc: optional(9))
                sentence.emptyNodes.append(EmptyNode(major: major, minor: minor, word: word))
            case .word(let n):
                guard n == words + 1 else { throw fail(0, "word ID \(n) out of sequence: expected \(words + 1)") }
                guard sentence.emptyNodes.last.map({ $0.major < n }) ?? true else { throw fail(0, "word \(n) after empty node") }
                var head: Int? = nil
                if let headText = optional(6) {
                    guard let h = Int(headText), h >= 0 else { throw fail(6, "HEAD '\(headText)' is not a word number") }
                    guard h != n else { throw fail(6, "word \(n) is its own head") }
                    head = h
                    headChecks.append((h, number, range.lowerBound, starts[6]))
                    if h == 0 { roots += 1 }
                } else {
                    headsComplete = false
                }
                sentence.words.append(
                    Word(
                        form: field(1), lemma: lemma(optional(2), form: field(1)), upos: optional(3), xpos: optional(4),
                        feats: try feats(starts[5]..<ends[5], fail: { fail(5, $0) }), head: head, deprel: optional(7), deps: optional(8),
                        misc: optional(9)))
            }
        }
        let location = sentence.location!
        guard !sentence.words.isEmpty else {
            throw CorpusError(path, line: location.line, "sentence has no words")
        }
        if pendingRangeEnd > sentence.words.count {
            throw CorpusError(
                path, line: location.line, "a multiword token runs to word \(pendingRangeEnd) but the sentence has \(sentence.words.count) words")
        }
        for check in headChecks where check.head > sentence.words.count {
            throw CorpusError(
                path, line: check.line, column: column(check.lineStart, check.fieldStart),
                "HEAD \(check.head) is beyond the last word (\(sentence.words.count))")
        }
        if headsComplete && roots != 1 {
            throw CorpusError(path, line: location.line, "sentence has \(roots) roots (words with HEAD 0); it must have exactly one")
        }
        if headsComplete, let cycle = firstCycle(sentence.words) {
            throw CorpusError(path, line: location.line, "the heads of word \(cycle) form a cycle")
        }
        return sentence
    }

    static let columnNames = ["ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC"]

    /// LEMMA `_` means "no lemma", except for the word `_` itself.
    private func lemma(_ value: String?, form: String) -> String? {
        value == nil && form == "_" ? "_" : value
    }

    /// The 1-based character column of byte `offset` on the line starting at `lineStart`
    /// (computed only for messages).
    private func column(_ lineStart: Int, _ offset: Int) -> Int {
        file.string(lineStart..<offset).unicodeScalars.count + 1
    }

    /// FEATS, checked byte by byte: `_`, or `Key=Value` items separated by `|`.
    private func feats(_ r: Range<Int>, fail: (String) -> CorpusError) throws -> String? {
        let b = file.bytes
        if r.count == 1 && b[r.lowerBound] == UInt8(ascii: "_") { return nil }
        var itemStart = r.lowerBound
        var equals = -1
        for i in r.lowerBound...r.upperBound {
            if i == r.upperBound || b[i] == UInt8(ascii: "|") {
                guard equals > itemStart && equals < i - 1 else {
                    throw fail("FEATS item '\(file.string(itemStart..<i))' is not Key=Value")
                }
                itemStart = i + 1
                equals = -1
            } else if b[i] == UInt8(ascii: "=") && equals < 0 {
                equals = i
            }
        }
        return file.string(r)
    }

    private enum ID {
        case word(Int)
        case range(Int, Int)
        case empty(Int, Int)
    }

    private func parseID(_ r: Range<Int>) -> ID? {
        let b = file.bytes
        var first = 0
        var i = r.lowerBound
        func number() -> Int? {
            let start = i
            var v = 0
            while i < r.upperBound, b[i] >= 0x30 && b[i] <= 0x39 {
                v = v * 10 + Int(b[i] - 0x30)
                i += 1
                if v > 1_000_000 { return nil }
            }
            return i > start ? v : nil
        }
        guard let a = number() else { return nil }
        first = a
        if i == r.upperBound { return first >= 1 ? .word(first) : nil }
        let separator = b[i]
        i += 1
        guard let second = number(), i == r.upperBound else { return nil }
        switch separator {
        case UInt8(ascii: "-"): return first >= 1 ? .range(first, second) : nil
        case UInt8(ascii: "."): return second >= 1 ? .empty(first, second) : nil
        default: return nil
        }
    }
}

/// The first word (1-based) whose chain of heads never reaches the root, if any.
func firstCycle(_ words: [Word]) -> Int? {
    var state = [UInt8](repeating: 0, count: words.count + 1)  // 0 unknown, 1 visiting, 2 reaches root
    state[0] = 2
    for start in 1...max(1, words.count) where start <= words.count {
        var path: [Int] = []
        var n = start
        while state[n] == 0 {
            state[n] = 1
            path.append(n)
            guard let h = words[n - 1].head else { break }
            n = h
        }
        if state[n] == 1 { return start }
        for p in path { state[p] = 2 }
    }
    return nil
}

/// Writes sentences as CoNLL-U: comments, then ranges, words and empty nodes in ID order,
/// then a blank line. Fields that are nil are written as `_`.
public enum ConlluWriter {
    public static func text(_ sentence: Sentence) -> String {
        var out = ""
        for c in sentence.comments { out += "# \(c)\n" }
        var ranges = sentence.multiwordTokens[...]
        var empties = sentence.emptyNodes[...]
        func emitEmpties(after n: Int) {
            while let e = empties.first, e.major == n {
                out += "\(e.major).\(e.minor)\t" + columns(e.word, head: "_") + "\n"
                empties = empties.dropFirst()
            }
        }
        emitEmpties(after: 0)
        for (i, word) in sentence.words.enumerated() {
            let n = i + 1
            while let r = ranges.first, r.first == n {
                out += "\(r.first)-\(r.last)\t\(r.form)\t_\t_\t_\t_\t_\t_\t_\t\(r.misc ?? "_")\n"
                ranges = ranges.dropFirst()
            }
            out += "\(n)\t" + columns(word, head: word.head.map(String.init) ?? "_") + "\n"
            emitEmpties(after: n)
        }
        return out + "\n"
    }

    private static func columns(_ w: Word, head: String) -> String {
        [w.form, w.lemma ?? "_", w.upos ?? "_", w.xpos ?? "_", w.feats ?? "_", head, w.deprel ?? "_", w.deps ?? "_", w.misc ?? "_"]
            .joined(separator: "\t")
    }

    /// Writes the corpus to `path` atomically.
    public static func write(_ corpus: Corpus, to path: String) throws {
        try AtomicFile.write(to: path) { writer in
            for s in corpus.sentences { try writer.write(Array(text(s).utf8)) }
        }
    }
}
