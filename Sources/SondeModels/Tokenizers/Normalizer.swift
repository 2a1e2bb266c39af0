import Foundation

/// One step of a tokenizer's normalizer (`tokenizer.json` → `normalizer`), on aligned text.
enum Normalizer {
    /// BERT's: clean control characters, space out CJK ideographs, strip accents, lowercase.
    case bert(cleanText: Bool, chineseCharacters: Bool, stripAccents: Bool, lowercase: Bool)
    case lowercase
    case nfd, nfkd, nfc, nfkc
    case stripAccents
    case strip(left: Bool, right: Bool)
    /// Every match of the pattern replaced by the content (SentencePiece's " " → "▁").
    case replace(TextPattern, content: [Unicode.Scalar])
    /// The content before non-empty text (SentencePiece's "▁").
    case prepend([Unicode.Scalar])

    static let supported = "BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Replace, Prepend, Sequence"

    /// The steps of `value` (at JSON path `path` of `file`).
    static func parse(_ value: Any?, at path: String, file: String) throws -> [Normalizer] {
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
        case "Replace":
            guard let content = json["content"] as? String else { throw ModelError(.malformed, file, "\(path).content: missing") }
            return [.replace(try TextPattern(json: json["pattern"], at: path + ".pattern", file: file), content: Array(content.unicodeScalars))]
        case "Prepend":
            guard let content = json["prepend"] as? String else { throw ModelError(.malformed, file, "\(path).prepend: missing") }
            return [.prepend(Array(content.unicodeScalars))]
        case "Sequence":
            return try ((json["normalizers"] as? [Any]) ?? []).enumerated().flatMap { try parse($1, at: path + ".normalizers[\($0)]", file: file) }
        case let other:
            throw ModelError(.unsupported, file, "\(path).type: '\(other ?? "?")' is not supported (\(supported))")
        }
    }

    func apply(_ text: AlignedText) -> AlignedText {
        switch self {
        case .bert(let cleanText, let chinese, let stripAccents, let lowercase):
            var result = text.mappingScalars { s in
                if cleanText {
                    if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { return nil }
                    if s.properties.isWhitespace { return [" "] }
                }
                return chinese && Self.isCJK(s) ? [" ", s, " "] : [s]
            }
            // BERT's accent stripping decomposes first and drops nonspacing marks only.
            if stripAccents { result = Normalizer.nfd.apply(result).mappingScalars { $0.properties.generalCategory == .nonspacingMark ? nil : [$0] } }
            return lowercase ? Normalizer.lowercase.apply(result) : result
        // ASCII is its own normal form in all four; below U+0300 every character is NFC already.
        case .lowercase:
            if text.scalars.allSatisfy(\.isASCII) {
                return text.mappingScalars { s in [(0x41...0x5A).contains(s.value) ? Unicode.Scalar(s.value + 32)! : s] }
            }
            return text.mappingCharacters { $0.lowercased() }
        case .nfd: return text.scalars.allSatisfy(\.isASCII) ? text : text.mappingCharacters { $0.decomposedStringWithCanonicalMapping }
        case .nfkd: return text.scalars.allSatisfy(\.isASCII) ? text : text.mappingCharacters { $0.decomposedStringWithCompatibilityMapping }
        case .nfc: return text.scalars.allSatisfy({ $0.value < 0x300 }) ? text : text.mappingCharacters { $0.precomposedStringWithCanonicalMapping }
        case .nfkc: return text.scalars.allSatisfy(\.isASCII) ? text : text.mappingCharacters { $0.precomposedStringWithCompatibilityMapping }
        case .stripAccents:
            // tokenizers' StripAccents removes every mark (Mn, Mc, Me) as it stands, without NFD.
            return text.mappingScalars { s in
                switch s.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: return nil
                default: return [s]
                }
            }
        case .strip(let left, let right):
            var (start, end) = (0, text.scalars.count)
            if right { while end > start, text.scalars[end - 1].properties.isWhitespace { end -= 1 } }
            if left { while start < end, text.scalars[start].properties.isWhitespace { start += 1 } }
            return text[start..<end]
        case .replace(let pattern, let content): return text.replacing(pattern, with: content)
        case .prepend(let content):
            // As tokenizers aligns it: with the first character.
            guard let first = text.origins.first else { return text }
            return AlignedText(scalars: content + text.scalars, origins: content.map { _ in first } + text.origins)
        }
    }

    /// BERT's control test: categories Cc, Cf and Co (private use), except tab, newline and
    /// carriage return.
    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse: return true
        default: return false
        }
    }

    private static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}
