import SondeLinalg
import SondeModels
import Testing

@testable import SondeBase
@testable import SondeCorpus
@testable import SondeSimilarity
@testable import SondeStudy

/// Each module's error says what kind of failure it is, which alone decides the exit status.
struct ErrorCategoryTests {
    @Test func everyModulesErrorCarriesItsCategory() {
        let cases: [(any CategorizedError, ErrorCategory)] = [
            (FileError(.cannotOpen, "a", "no such file"), .missingInput),
            (FileError(.cannotWrite, "a", "disk full"), .output),
            (TensorFileError(.unsupported, "a.npy", "big-endian"), .malformedInput),
            (ModelError(.missing, "m/config.json", "no config"), .missingInput),
            (ModelError(.unsupported, "m/config.json", "t5"), .malformedInput),
            (CorpusError("a.conllu", line: 3, "bad"), .malformedInput),
            (PropertyError(property: "upos", message: "no such label"), .malformedInput),
            (LinalgError.notPositiveDefinite(order: 2), .malformedInput),
            (MemoryError(description: "needs 3 GB"), .resources),
            (StudyError("no such layer", usage: true), .usage),
            (StudyError("rows differ"), .malformedInput),
            (SimilarityError("constant"), .malformedInput),
            (Measure.UnknownMeasure(name: "x"), .usage),
            (UnknownPairTask(description: "unknown task"), .usage),
        ]
        for (error, category) in cases { #expect(error.category == category, "\(error)") }
    }
}
