import SondeBase

/// The treebank formats Sonde reads.
public enum CorpusFormat: String, Sendable, CaseIterable, Codable {
    case conllu
    case ptb
    case tiger
    case alpino
    /// NeuroX's plain text: one sentence per line, tokens separated by spaces.
    case text

    /// Recognises a file's format from its first bytes: `<corpus` TIGER, `<alpino_ds` Alpino,
    /// `(` brackets, tab-separated columns or `#` comments CoNLL-U, anything else plain text.
    public static func detect(path: String) throws -> CorpusFormat {
        let file = try MappedFile(path: path)
        defer { withExtendedLifetime(file) {} }  // the mapping lives as long as the object
        let b = file.bytes
        var i = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
        while i < b.count && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D) { i += 1 }
        guard i < b.count else { throw CorpusError(path, line: 1, "the file is empty") }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: b[i..<min(b.count, i + 8192)]), as: UTF8.self)
        switch b[i] {
        case UInt8(ascii: "<"):
            if head.contains("<alpino_ds") { return .alpino }
            if head.contains("<corpus") { return .tiger }
            throw CorpusError(path, line: 1, "an XML file that is neither TIGER-XML (<corpus>) nor Alpino (<alpino_ds>)")
        case UInt8(ascii: "("): return .ptb
        case UInt8(ascii: "#"): return .conllu
        default:
            // The whole first line, however long (a long word must not make CoNLL-U plain text).
            var tabs = 0
            var j = i
            while j < b.count && b[j] != 0x0A {
                if b[j] == 0x09 { tabs += 1 }
                j += 1
            }
            return tabs == 9 ? .conllu : .text
        }
    }

    /// The format `path` is read as: the one its extension names (`.conllu` `.conll` CoNLL-U,
    /// `.mrg` `.ptb` `.penn` `.psd` brackets, `.tiger` TIGER-XML, `.txt` NeuroX text; `.xml`
    /// TIGER-XML or Alpino by its root element), so a malformed file gets its own format's
    /// errors; the contents decide (`detect`) only for other extensions.
    public static func of(path: String) throws -> CorpusFormat {
        let ext = (path.split(separator: "/").last ?? "").split(separator: ".", omittingEmptySubsequences: false).dropFirst().last?.lowercased()
        switch ext {
        case "conllu", "conll": return .conllu
        case "mrg", "ptb", "penn", "psd": return .ptb
        case "tiger": return .tiger
        case "txt": return .text
        case "xml":
            let format = try detect(path: path)
            guard format == .tiger || format == .alpino else {
                throw CorpusError(path, line: 1, "a .xml file must be TIGER-XML (<corpus>) or Alpino (<alpino_ds>); it does not start with '<'")
            }
            return format
        default: return try detect(path: path)
        }
    }

    /// File name endings read when a folder is given.
    static let endings = [".conllu", ".conll", ".mrg", ".ptb", ".penn", ".psd", ".xml", ".tiger"]
}

/// A streaming reader of one file, sentence by sentence.
public protocol SentenceReader {
    /// The next sentence, or nil at the end of the file.
    mutating func next() throws -> Sentence?
    /// After `next()` threw: moves past the bad sentence. False when the rest of the file
    /// cannot be read (an XML syntax error stops libxml2).
    mutating func skipSentence() throws -> Bool
}

/// Reads treebank files and folders into one corpus.
public enum CorpusReader {
    /// Reads `paths` (files, or folders whose treebank files are read in natural name order),
    /// each in `format` or in the format its extension names (`CorpusFormat.of`).
    /// - Parameter skipInvalid: go on past a bad sentence (recording the error) instead of
    ///   stopping at the first. An XML syntax error still ends that file (libxml2 cannot resume).
    public static func read(_ paths: [String], format: CorpusFormat? = nil, skipInvalid: Bool = false) throws -> ReadResult {
        var result = ReadResult(corpus: Corpus(), skipped: [])
        (result.files, result.skippedFiles) = try expand(paths)
        for path in result.files {
            let fileFormat = try format ?? CorpusFormat.of(path: path)
            try readFile(path, format: fileFormat, skipInvalid: skipInvalid, into: &result)
        }
        return result
    }

    /// Files in the order they are read: folders expanded to their treebank files, of which
    /// only regular files are kept (the others are returned as `skipped`). A path given
    /// explicitly is kept as it is: opening it says what is wrong.
    static func expand(_ paths: [String]) throws -> (files: [String], skipped: [String]) {
        var files: [String] = [], skipped: [String] = []
        for path in paths {
            guard let entries = try listFolder(path) else {
                files.append(path)
                continue
            }
            let chosen = entries.filter { name in !name.hasPrefix(".") && CorpusFormat.endings.contains { name.hasSuffix($0) } }
            for full in chosen.sorted(by: naturalOrder).map({ path.hasSuffix("/") ? path + $0 : path + "/" + $0 }) {
                if isRegularFile(full) { files.append(full) } else { skipped.append(full) }
            }
            if chosen.isEmpty || files.isEmpty {
                throw FileError(.cannotOpen, path, "the folder holds no treebank files (\(CorpusFormat.endings.joined(separator: " ")))")
            }
        }
        return (files, skipped)
    }

    /// Reads every sentence of `reader`; with `skipInvalid`, records each error and goes on.
    static func readAll<R: SentenceReader>(_ reader: inout R, skipInvalid: Bool, into result: inout ReadResult) throws {
        while true {
            do {
                guard let s = try reader.next() else { return }
                result.corpus.sentences.append(s)
            } catch let error as CorpusError where skipInvalid {
                result.skipped.append(error)
                guard try reader.skipSentence() else { return }
            }
        }
    }

    static func readFile(_ path: String, format: CorpusFormat, skipInvalid: Bool, into result: inout ReadResult) throws {
        func add(_ sentence: Sentence) { result.corpus.sentences.append(sentence) }
        switch format {
        case .conllu:
            var reader = try ConlluReader(path: path)
            try readAll(&reader, skipInvalid: skipInvalid, into: &result)
        case .ptb:
            var reader = try PennTreebankReader(path: path)
            try readAll(&reader, skipInvalid: skipInvalid, into: &result)
        case .tiger:
            var reader = try TigerReader(path: path)
            try readAll(&reader, skipInvalid: skipInvalid, into: &result)
            if result.corpus.tigerHeader == nil { result.corpus.tigerHeader = reader.header }
        case .alpino:
            do {
                add(try AlpinoReader.read(path: path))
            } catch let error as CorpusError where skipInvalid {
                result.skipped.append(error)
            }
        case .text:
            let file = try TextFile(path: path)
            try file.forEachLine { number, range in
                let tokens = file.string(range).split(separator: " ").map(String.init)
                guard !tokens.isEmpty else {
                    let error = CorpusError(path, line: number, "empty line: every line must be a sentence of space-separated tokens")
                    if skipInvalid { result.skipped.append(error); return }
                    throw error
                }
                add(Sentence(words: tokens.map { Word(form: $0) }, location: TextLocation(path: path, line: number)))
            }
        }
    }
}

/// Orders names as a person would: `2.xml` before `10.xml`. Runs of digits compare as numbers
/// (by length without leading zeros, then digit by digit, so no length overflows), the rest
/// scalar by scalar.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    func chunks(_ s: String) -> [(digits: Bool, text: [Unicode.Scalar])] {
        var result: [(digits: Bool, text: [Unicode.Scalar])] = []
        for c in s.unicodeScalars {
            let digit = ("0"..."9").contains(c)
            if let last = result.last, last.digits == digit, digit {
                result[result.count - 1].text.append(c)
            } else {
                result.append((digit, [c]))
            }
        }
        return result
    }
    for (x, y) in zip(chunks(a), chunks(b)) {
        if x.digits && y.digits {
            let m = Array(x.text.drop { $0 == "0" })
            let n = Array(y.text.drop { $0 == "0" })
            if m.count != n.count { return m.count < n.count }
            if m != n { return m.lexicographicallyPrecedes(n) { $0.value < $1.value } }
        } else if x.text != y.text {
            return x.text.lexicographicallyPrecedes(y.text) { $0.value < $1.value }
        }
    }
    let (m, n) = (chunks(a).count, chunks(b).count)
    if m != n { return m < n }
    return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }  // "a2" vs "a02"
}

/// Labels from text files (NeuroX's convention) — for a corpus: one label per line, one line per
/// word (a blank line may separate sentences), or with `perSentence` one line per sentence of
/// space-separated labels; the counts must match the corpus exactly. And NeuroX's pair of
/// parallel text files, written.
public enum LabelFile {
    /// Exactly `count` values (labels or words) for rows of activations from a text file in
    /// either of NeuroX's layouts, told apart by the counts: one value per line (blank lines
    /// between sentences allowed), or one sentence per line with space-separated values (what
    /// `sonde corpus labels --labels` writes). LF or CRLF; invalid UTF-8 is an error with its line.
    /// - Parameter what: the values' name in messages ("label", "word").
    public static func values(_ path: String, count: Int, what: String) throws -> [String] {
        let (lines, last) = try filledLines(path)
        if lines.count == count { return lines }
        let values = lines.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
        if values.count == count { return values }
        throw CorpusError(
            path, line: max(last, 1),
            "\(lines.count) \(what) lines (\(values.count) \(what)s) for \(count) rows of activations; give one \(what) per line, or one sentence per line with space-separated \(what)s"
        )
    }

    /// The file's non-blank lines, trimmed, and the number of its last line.
    private static func filledLines(_ path: String) throws -> (lines: [String], last: Int) {
        let file = try TextFile(path: path)
        var lines: [String] = []
        var last = 0
        file.forEachLine { n, range in
            last = n
            let text = file.string(range).trimmingWhitespace()
            if !text.isEmpty { lines.append(text) }
        }
        return (lines, last)
    }

    public static func read(_ path: String, for corpus: Corpus, perSentence: Bool) throws -> [[String]] {
        var labels: [[String]] = []
        if perSentence {
            let file = try TextFile(path: path)
            var number = 0
            try file.forEachLine { n, range in
                number = n
                guard labels.count < corpus.sentences.count else {
                    throw CorpusError(path, line: n, "more label lines than the corpus has sentences (\(corpus.sentences.count))")
                }
                let row = file.string(range).split(separator: " ").map(String.init)
                let expected = corpus.sentences[labels.count].words.count
                guard row.count == expected else {
                    throw CorpusError(path, line: n, "\(row.count) labels for a sentence of \(expected) words")
                }
                labels.append(row)
            }
            guard labels.count == corpus.sentences.count else {
                throw CorpusError(path, line: number, "\(labels.count) label lines for \(corpus.sentences.count) sentences")
            }
        } else {
            let (flat, lastLine) = try filledLines(path)
            guard flat.count == corpus.wordCount else {
                throw CorpusError(path, line: lastLine, "\(flat.count) labels for a corpus of \(corpus.wordCount) words")
            }
            var k = 0
            for s in corpus.sentences {
                labels.append(Array(flat[k..<k + s.words.count]))
                k += s.words.count
            }
        }
        return labels
    }

    /// Writes NeuroX's text format: `tokens` with one sentence per line (its words separated by
    /// spaces) and `labels` parallel to it. A word or label with a space cannot be held.
    public static func writeNeuroX(_ corpus: Corpus, labels rows: [[String]], tokens: String, labels: String) throws {
        for (s, r) in zip(corpus.sentences, rows) where s.words.contains(where: { $0.form.contains(" ") }) || r.contains(where: { $0.contains(" ") })
        {
            throw CorpusError(
                s.location?.path ?? tokens, line: s.location?.line ?? 0, "a word or label contains a space, which the text format cannot hold")
        }
        try AtomicFile.write(to: tokens) { w in
            for s in corpus.sentences { try w.write(Array((s.words.map(\.form).joined(separator: " ") + "\n").utf8)) }
        }
        try AtomicFile.write(to: labels) { w in
            for r in rows { try w.write(Array((r.joined(separator: " ") + "\n").utf8)) }
        }
    }
}
