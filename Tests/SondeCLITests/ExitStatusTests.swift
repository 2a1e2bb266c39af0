import ArgumentParser
import SondeBase
import SondeLinalg
import Testing

@testable import sonde

/// The one mapping from an error's category to the exit status that README.md documents.
struct ExitStatusTests {
    @Test func everyCategoryHasItsSysexitsStatus() {
        let expected: [ErrorCategory: Int32] = [.usage: 64, .malformedInput: 65, .missingInput: 66, .service: 69, .resources: 71, .output: 73]
        for category in ErrorCategory.allCases { #expect(ExitCode(category).rawValue == expected[category], "\(category)") }
    }

    /// A decomposition that fails (mapped to no status before) is malformed input, exit 65.
    @Test func linalgErrorsAreMalformedInput() {
        let error: any CategorizedError = LinalgError.didNotConverge(routine: "dgesdd", info: 3)
        #expect(ExitCode(error.category).rawValue == 65)
        #expect(CLIError("x").category == .malformedInput && CLIError("sbatch failed", .service).category == .service)
    }
}
