import Foundation
import SondeBase
import Testing

/// The one JSON policy (SondeBase/JSONCoding.swift).
struct JSONCodingTests {
    struct Record: Codable, Equatable {
        var path: String
        var values: [Double]
    }

    /// NaN and both infinities are written as "nan", "inf", "-inf" and read back; keys sorted,
    /// slashes as they are.
    @Test func nonFiniteNumbersRoundTrip() throws {
        let record = Record(path: "runs/a", values: [1.5, .infinity, -.infinity, .nan])
        let text = try JSONCoding.text(record)
        #expect(text == #"{"path":"runs/a","values":[1.5,"inf","-inf","nan"]}"#)
        let back = try JSONCoding.decoder().decode(Record.self, from: Data(text.utf8))
        #expect(back.path == record.path && back.values[..<3] == record.values[..<3] && back.values[3].isNaN)
        let pretty = String(decoding: try JSONCoding.encoder(pretty: true).encode(record), as: UTF8.self)
        #expect(pretty.contains("\n") && pretty.contains(#""nan""#))
    }
}
