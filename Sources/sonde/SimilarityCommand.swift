import ArgumentParser
import Foundation
import SondeLinalg
import SondeSimilarity
import SondeStudy

extension MomentPrecision: ExpressibleByArgument {}

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Compare two sets of activations over the same tokens: CCA, SVCCA, PWCCA, CKA, Procrustes.",
        discussion: """
            X and Y are [tokens, neurons] tensors (.npy, .npz, safetensors; choose a layer of a \
            multi-layer file with --layer-x/--layer-y, or --layer for both). Every measure comes \
            from one pass over the rows (means and the joint covariance in Double). CCA drops \
            neurons whose variance is at most ε × the largest (reported) and collinear directions; \
            SVCCA keeps the top principal directions of each side (--keep: a share of Σs², or \
            --dims); PWCCA follows Morcos et al. (true canonical variates). --google-compat \
            reproduces google/svcca's get_cca_similarity and pwcca.py instead. --baseline N \
            repeats each measure on N row-shuffled pairings: CCA of unrelated data is far from 0 \
            with few tokens. CCA-family measures refuse when neurons ≥ tokens.
            """)

    @Argument(help: "The first activations (X).") var x: String
    @Argument(help: "The second activations (Y), same tokens in the same order.") var y: String
    @Option(help: "The tensor of both files to use.") var layer: String?
    @Option(help: "The tensor of X.") var layerX: String?
    @Option(help: "The tensor of Y.") var layerY: String?
    @Option(help: "Measures, comma-separated: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).") var measures =
        "cca,svcca,pwcca,cka,procrustes"
    @Option(help: "SVCCA: keep the fewest directions whose Σs² share reaches this.") var keep: Double?
    @Option(help: "SVCCA: keep this many directions per side instead.") var dims: Int?
    @Option(help: "Drop neurons whose variance is at most ε × the largest (google's ε).") var epsilon = Similarity.defaultEpsilon
    @Flag(help: "CCA and PWCCA exactly as google/svcca computes them.") var googleCompat = false
    @Option(
        help:
            "How the covariance of Float activations is summed: double, mixed (Float blocks, Double total; ~1e-6 on the coefficients, twice as fast) or automatic (mixed for large inputs)."
    ) var precision: MomentPrecision = .automatic
    @Option(help: "Row-shuffled pairings for the null baseline (0 = none).") var baseline = 3
    @Option(help: "RBF CKA bandwidth: this fraction of the median distance.") var rbfFraction = 0.5
    @Option(help: "Write SVCCA's directions (unit vectors in neuron space), canonical variates (unit variance) and correlations here (safetensors).")
    var directions: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if case .failure(let unknown) = Measure.list(measures) { throw ValidationError(unknown.description) }
        if keep != nil && dims != nil { throw ValidationError("--keep and --dims exclude each other") }
        try requireNumber("keep", keep, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        try requireNumber("epsilon", epsilon, "≥ 0") { $0 >= 0 }
        try requireNumber("rbf-fraction", rbfFraction, "positive") { $0 > 0 }
        if let dims, dims < 1 { throw ValidationError("--dims must be at least 1") }
        if baseline < 0 || epsilon < 0 { throw ValidationError("--baseline and --epsilon must be ≥ 0") }
    }

    func run() throws {
        try SimilarityStudy.requireMemory(x: x, y: y, layers: (layerX ?? layer, layerY ?? layer))
        let a = try loadActivations(x, layer: layerX ?? layer)
        let b = try loadActivations(y, layer: layerY ?? layer)
        let settings = SimilarityStudy.Settings(
            measures: try Measure.list(measures).get(), keep: dims.map { .dimensions($0) } ?? .variance(keep ?? 0.99), epsilon: epsilon,
            googleCompatible: googleCompat, precision: precision, baseline: baseline, rbfFraction: rbfFraction)
        let report = try SimilarityStudy.run(x: a, y: b, names: (x, y), settings: settings, directions: directions)
        if output.json { return try printJSON(report) }
        print("\(a.rows) tokens; X \(a.columns) neurons, Y \(b.columns) neurons")
        var rows = [["measure", "value", baseline > 0 ? "baseline (shuffled)" : "", ""]]
        for (name, s) in report.measures.sorted(by: { $0.key < $1.key }) {
            var extra = ""
            if case .integer(let kx)? = s.details["kx"], case .integer(let ky)? = s.details["ky"] { extra = "k = \(kx), \(ky)" }
            if case .integers(let d)? = s.details["droppedX"], case .integers(let e)? = s.details["droppedY"], !(d.isEmpty && e.isEmpty) {
                extra = "dropped \(d.count) + \(e.count) neurons"
            }
            rows.append([name, String(format: "%.6f", s.value), s.baseline.map { String(format: "%.4f ± %.4f", $0, s.baselineSD ?? 0) } ?? "", extra])
        }
        formatTable(rows).forEach { print($0) }
    }
}
