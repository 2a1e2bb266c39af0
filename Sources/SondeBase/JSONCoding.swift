import Foundation

/// Sonde's one JSON policy, for every file it writes (results, cells, configs, trainer states,
/// probe and activation metadata) and every `--json`: keys sorted, so the same value gives the
/// same bytes; slashes unescaped; and the numbers JSON lacks written as the strings "nan",
/// "inf" and "-inf", which `decoder()` reads back (a `null` could not be told from a missing
/// value, and would not decode as a Double).
public enum JSONCoding {
    /// The spelling of each non-finite number.
    public static let nan = "nan", infinity = "inf", negativeInfinity = "-inf"

    /// `pretty`: indented, for files people read and stdout; compact otherwise.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return decoder
    }

    /// `value` as compact JSON text (for metadata fields and keys).
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}
