import Foundation

/// One step of a tokenizer's normalizer (`tokenizer.json` → `normalizer`).
enum Normalizer {
    /// BERT's: clean control characters, space out CJK ideographs, strip accents, lowercase.
    case bert(cleanText: Bool, chineseCharacters: Bool, stripAccents: Bool, lowercase: Bool)
    case lowercase
    case nfd, nfkd, nfc, nfkc
    case stripAccents
    case strip(left: Bool, right: Bool)

    static func parse(_ value: Any?, path: String) throws -> [Normalizer] {
        guard let json = value as? [String: Any] else { return [] }
        switch json["type"] as? String {
        case "BertNormalizer":
            let lowercase = (json["lowercase"] as? Bool) ?? true
            return [
                .bert(
                    cleanText: (json["clean_text"] as? Bool) ?? true,
                    chineseCharacters: (json["handle_chinese_chars"] as? Bool) ?? true,
                    stripAccents: (json["strip_accents"] as? Bool) ?? lowercase, lowercase: lowercase)
            ]
        case "Lowercase": return [.lowercase]
        case "NFD": return [.nfd]
        case "NFKD": return [.nfkd]
        case "NFC": return [.nfc]
        case "NFKC": return [.nfkc]
        case "StripAccents": return [.stripAccents]
        case "Strip": return [.strip(left: (json["strip_left"] as? Bool) ?? true, right: (json["strip_right"] as? Bool) ?? true)]
        case "Sequence":
            return try ((json["normalizers"] as? [Any]) ?? []).flatMap { try parse($0, path: path) }
        case let other:
            throw ModelError(
                .unsupported, path,
                "normalizer '\(other ?? "?")' is not supported (BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Sequence)")
        }
    }

    func apply(_ text: String) -> String {
        switch self {
        case .bert(let cleanText, let chinese, let stripAccents, let lowercase):
            var scalars = String.UnicodeScalarView()
            for s in text.unicodeScalars {
                if cleanText {
                    if s.value == 0 || s.value == 0xFFFD || isControl(s) { continue }
                    if s.properties.isWhitespace { scalars.append(" "); continue }
                }
                if chinese && isCJK(s) {
                    scalars.append(" "); scalars.append(s); scalars.append(" ")
                } else {
                    scalars.append(s)
                }
            }
            var result = String(scalars)
            if stripAccents { result = Normalizer.stripAccents.apply(result) }
            if lowercase { result = result.lowercased() }
            return result
        case .lowercase: return text.lowercased()
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .stripAccents:
            var scalars = String.UnicodeScalarView()
            for s in text.decomposedStringWithCanonicalMapping.unicodeScalars where s.properties.generalCategory != .nonspacingMark {
                scalars.append(s)
            }
            return String(scalars)
        case .strip(let left, let right):
            var scalars = Array(text.unicodeScalars)
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
            return String(String.UnicodeScalarView(scalars))
        }
    }

    /// BERT's control test: categories Cc and Cf, except tab, newline and carriage return.
    private func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }

    private func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}

/// One step of a tokenizer's pre-tokenizer: splits text into the pieces the subword model sees.
enum PreTokenizer {
    /// GPT-2's: optional prefix space, the GPT-2 split pattern, bytes mapped to printable characters.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// BERT's: split on whitespace, every punctuation character a piece of its own.
    case bert
    /// `\w+|[^\w\s]+`.
    case whitespace
    case whitespaceSplit

    static func parse(_ value: Any?, path: String) throws -> [PreTokenizer] {
        guard let json = value as? [String: Any] else { return [] }
        switch json["type"] as? String {
        case "ByteLevel":
            return [.byteLevel(addPrefixSpace: (json["add_prefix_space"] as? Bool) ?? true, useRegex: (json["use_regex"] as? Bool) ?? true)]
        case "BertPreTokenizer": return [.bert]
        case "Whitespace": return [.whitespace]
        case "WhitespaceSplit": return [.whitespaceSplit]
        case "Sequence":
            return try ((json["pretokenizers"] as? [Any]) ?? []).flatMap { try parse($0, path: path) }
        case let other:
            throw ModelError(
                .unsupported, path,
                "pre-tokenizer '\(other ?? "?")' is not supported (ByteLevel, BertPreTokenizer, Whitespace, WhitespaceSplit, Sequence)")
        }
    }

    func split(_ text: String) -> [String] {
        switch self {
        case .byteLevel(let addPrefixSpace, let useRegex):
            var text = text
            if addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
            let pieces = useRegex ? gpt2Split(text) : [text]
            return pieces.map { piece in String(String.UnicodeScalarView(piece.utf8.map { byteAlphabet[Int($0)] })) }
        case .bert:
            var pieces: [String] = []
            var current = String.UnicodeScalarView()
            func flush() { if !current.isEmpty { pieces.append(String(current)); current = String.UnicodeScalarView() } }
            for s in text.unicodeScalars {
                if s.properties.isWhitespace { flush() } else if isPunctuation(s) { flush(); pieces.append(String(s)) } else { current.append(s) }
            }
            flush()
            return pieces
        case .whitespace:
            var pieces: [String] = []
            var current = String.UnicodeScalarView()
            var currentIsWord = false
            for s in text.unicodeScalars {
                if s.properties.isWhitespace {
                    if !current.isEmpty { pieces.append(String(current)); current = String.UnicodeScalarView() }
                    continue
                }
                let word = isWordCharacter(s)
                if !current.isEmpty && word != currentIsWord { pieces.append(String(current)); current = String.UnicodeScalarView() }
                current.append(s)
                currentIsWord = word
            }
            if !current.isEmpty { pieces.append(String(current)) }
            return pieces
        case .whitespaceSplit:
            return text.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
        }
    }
}

/// GPT-2's split pattern, written out:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
func gpt2Split(_ text: String) -> [String] {
    enum Class { case letter, number, space, other }
    func kind(_ s: Unicode.Scalar) -> Class {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
    let s = Array(text.unicodeScalars)
    let kinds = s.map(kind)
    var pieces: [String] = []
    var i = 0
    func take(_ end: Int) { pieces.append(String(String.UnicodeScalarView(s[i..<end]))); i = end }
    while i < s.count {
        if s[i] == "'" && i + 1 < s.count {
            let next = s[i + 1]
            if next == "s" || next == "t" || next == "m" || next == "d" { take(i + 2); continue }
            if i + 2 < s.count {
                let pair = String(String.UnicodeScalarView([next, s[i + 2]]))
                if pair == "re" || pair == "ve" || pair == "ll" { take(i + 3); continue }
            }
        }
        let start = s[i] == " " && i + 1 < s.count && kinds[i + 1] != .space ? i + 1 : i
        if kinds[start] != .space {
            let k = kinds[start]
            var end = start + 1
            while end < s.count && kinds[end] == k { end += 1 }
            take(end)
            continue
        }
        var end = i
        while end < s.count && kinds[end] == .space { end += 1 }
        // `\s+(?!\S)` leaves the last space to the next piece when a non-space follows.
        if end < s.count && end - i >= 2 { end -= 1 }
        take(end)
    }
    return pieces
}

/// GPT-2's byte → printable character table (`bytes_to_unicode`).
private let byteAlphabet: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
        let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
        if printable { table[b] = Unicode.Scalar(UInt32(b))! } else { table[b] = Unicode.Scalar(next)!; next += 1 }
    }
    return table
}()

private func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII { return (33...47).contains(s.value) || (58...64).contains(s.value) || (91...96).contains(s.value) || (123...126).contains(s.value) }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return true
    default: return false
    }
}

private func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    if s == "_" { return true }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
        .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation:
        return true
    default: return false
    }
}
