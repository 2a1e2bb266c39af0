import Foundation
import SondeBase
import Testing

@testable import SondeCorpus

/// The synthetic language of long-range rules around familiar and unfamiliar conduits.
struct ConduitLanguageTests {
    var settings: ConduitLanguage.Settings {
        var s = ConduitLanguage.Settings()
        (s.fillers, s.rules, s.conduits, s.conduitLength, s.repeats, s.sequenceLength, s.trainSequences, s.testPerConduit) = (50, 4, 6, 3, 2, 12, 60, 2)
        return s
    }

    @Test func everyRuleClosesWhatItOpens() {
        let language = ConduitLanguage(settings)
        #expect(language.train.count == 60 + 3 * 2 && language.dev.count == 3 && language.tests.count == 6 * 2)
        #expect(language.train.allSatisfy { $0.count == 12 })
        var familiarAlone = 0
        for sequence in language.train {
            guard let open = sequence.firstIndex(where: { $0.hasPrefix("<") }) else {
                familiarAlone += 1
                continue
            }
            let r = sequence[open].dropFirst()
            // The conduit's 3 symbols, then the matching close; no other bracket.
            #expect(sequence[open + 4] == "\(r)>" && sequence.filter { $0.hasPrefix("<") || $0.hasSuffix(">") }.count == 2)
        }
        #expect(familiarAlone == 6)
        #expect(language.tests.filter(\.familiar).count == 6 && language.tests.allSatisfy { $0.prefix[$0.prefix.count - 4].hasPrefix("<") })
        #expect(ConduitLanguage(settings).train == language.train, "the same seed, the same data")
    }

    @Test func probesRoundTripAndMalformedLinesAreRefused() throws {
        let folder = NSTemporaryDirectory() + "sonde-conduits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "a b <1 c d\t1>\tfamiliar\nx <0 y\t0>\tunfamiliar\n".write(toFile: folder + "/p.tsv", atomically: true, encoding: .utf8)
        let probes = try ConduitProbes.read(folder + "/p.tsv")
        #expect(probes == [.init(prefix: ["a", "b", "<1", "c", "d"], close: "1>", familiar: true), .init(prefix: ["x", "<0", "y"], close: "0>", familiar: false)])
        try "a b\t1>\tfamiliar\na b\t1>\tmaybe\n".write(toFile: folder + "/bad.tsv", atomically: true, encoding: .utf8)
        #expect(throws: CorpusError.self) { try ConduitProbes.read(folder + "/bad.tsv") }
        do { _ = try ConduitProbes.read(folder + "/bad.tsv") } catch { #expect("\(error)".contains("bad.tsv:2")) }
    }
}
