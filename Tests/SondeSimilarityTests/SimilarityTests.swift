import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeSimilarity

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let shared = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared"
let svccaReference = shared + "/reference/svcca"
let svccaAvailable = FileManager.default.fileExists(atPath: svccaReference + "/golden_small.json")

func load(_ path: String) throws -> Matrix<Double> {
    let t = try TensorCollection.read(path).tensors[0]
    return Matrix(rows: t.shape[0], columns: t.shape[1], elements: t.doubles())
}

func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Kornblith et al.'s demo (Tests/Fixtures/similarity/make_fixtures.py): their published values.
struct KornblithDemoTests {
    let x = try! load(repositoryRoot + "/Tests/Fixtures/similarity/kornblith_x.npy")
    let y = try! load(repositoryRoot + "/Tests/Fixtures/similarity/kornblith_y.npy")

    @Test func publishedValues() throws {
        let m = try JointMoments(x: x, y: y)
        #expect(abs(Similarity.linearCKA(m) - 0.55761) < 5e-6)
        #expect(abs(Similarity.debiasedLinearCKA(m) - 0.51346) < 5e-6)
        #expect(abs(try Similarity.rbfCKA(x: x, y: y, fraction: 0.5) - 0.65483) < 5e-6)
        // Their demo prints mean squared CCA 0.54312 from a `cca` that does not centre the data;
        // CCA proper centres: numpy, np.linalg.qr of the centred X and Y, ‖QxᵀQy‖²_F / 10.
        #expect(abs(try Similarity.cca(m).meanSquared - 0.5453963321908326) < 1e-12)
    }

    /// The feature-space debiased CKA against the n × n computation it replaces: Kornblith's
    /// `center_gram(unbiased=True)` on the Gram matrices, written out here.
    @Test func debiasedCKAEqualsTheGramComputation() throws {
        func unbiasedCentred(_ a: Matrix<Double>) -> [Double] {
            let n = a.rows
            var k = Matrix.product(a, a, transposeB: true).elements
            for i in 0..<n { k[i * n + i] = 0 }
            var means = (0..<n).map { j in (0..<n).reduce(0.0) { $0 + k[$1 * n + j] } / Double(n - 2) }
            let total = means.reduce(0, +) / Double(2 * (n - 1))
            means = means.map { $0 - total }
            for i in 0..<n { for j in 0..<n { k[i * n + j] -= means[i] + means[j] } }
            for i in 0..<n { k[i * n + i] = 0 }
            return k
        }
        // Shifted inputs: the estimator must not depend on centring the data first.
        var shifted = x
        shifted.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] += 3 } }
        let kx = unbiasedCentred(shifted), ky = unbiasedCentred(y)
        let expected = dot(kx, ky) / (dot(kx, kx) * dot(ky, ky)).squareRoot()
        #expect(abs(Similarity.debiasedLinearCKA(try JointMoments(x: shifted, y: y)) - expected) < 1e-12)
    }
}

/// google/svcca's own outputs (../shared/reference/svcca, see its README).
@Suite(.enabled(if: svccaAvailable, "../shared/reference/svcca is absent: the google/svcca comparisons are skipped"))
struct GoogleReferenceTests {
    struct Case {
        let a: Matrix<Double>
        let b: Matrix<Double>
        let json: [String: Any]
    }

    func reference(_ name: String) throws -> Case {
        let data = try Data(contentsOf: URL(fileURLWithPath: svccaReference + "/golden_small.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let json = (root["cases"] as! [String: Any])[name] as! [String: Any]
        func matrix(_ key: String) -> Matrix<Double> { Matrix((json[key] as! [[Double]])) }
        return Case(a: matrix("A"), b: matrix("B"), json: json)
    }

    @Test(arguments: ["basic", "dead_neuron"])
    func everyMeasure(_ name: String) throws {
        let c = try reference(name)
        let m = try JointMoments(x: c.a, y: c.b)
        // google's CCA at ε = 1e-10: coefficients, both means, masks.
        let google = (c.json["google_cca"] as! [[String: Any]])[0]
        let g = try GoogleCCA.compute(m, epsilon: 1e-10)
        #expect(maxDifference(g.coefficients, google["cca_coef1"] as! [Double]) < 1e-9)
        #expect(abs(g.mean - (google["mean_all"] as! Double)) < 1e-9)
        #expect(abs(g.thresholdedMean - (google["mean_key_threshold_0.98"] as! Double)) < 1e-9)
        #expect(g.keptX == (google["x_idxs"] as! [Int]).map { $0 == 1 })
        // Sonde's CCA at the same ε keeps the same neurons and finds the same coefficients, up to
        // google's ridge (ε·I on the rescaled covariances moves them by a few 1e-9).
        let own = try Similarity.cca(m, epsilon: 1e-10)
        #expect(maxDifference(own.coefficients, google["cca_coef1"] as! [Double]) < 1e-7)
        // Coefficients alone (eigenvalues of T·Tᵀ instead of the SVD of T): the same to 1e-8.
        #expect(maxDifference(try Similarity.cca(m, epsilon: 1e-10, weights: false).coefficients, own.coefficients) < 1e-8)
        // SVCCA at 4 directions and at 99% of Σs².
        let svcca = c.json["svcca"] as! [String: Any]
        for (key, keep) in [("dims4", SVCCAKeep.dimensions(4)), ("keep0.99var", .variance(0.99))] {
            let expected = svcca[key] as! [String: Any]
            let result = try Similarity.svcca(m, keep: keep)
            #expect(result.kx == expected["k1"] as! Int && result.ky == expected["k2"] as! Int)
            #expect(maxDifference(result.cca.coefficients, expected["cca_coef1"] as! [Double]) < 1e-8)
            #expect(abs(result.cca.mean - (expected["svcca_mean_all"] as! Double)) < 1e-8)
        }
        // PWCCA both ways.
        let googlePW = c.json["google_pwcca"] as! [String: Any]
        let gp = try Similarity.googlePWCCA(x: c.a, y: c.b, moments: m, epsilon: 1e-10)
        #expect(abs(gp.value - (googlePW["pwcca"] as! Double)) < 1e-9)
        #expect(maxDifference(gp.weights, googlePW["weights"] as! [Double]) < 1e-9)
        // The paper's definition keeps every neuron that varies at all (ε = 0), as the reference did.
        let paper = try Similarity.pwcca(m, epsilon: 0)
        #expect(abs(paper.value - (c.json["pwcca_paper_definition"] as! Double)) < 1e-8)
        // CKA and Procrustes.
        #expect(abs(Similarity.linearCKA(m) - (c.json["linear_cka"] as! Double)) < 1e-12)
        #expect(abs(Similarity.debiasedLinearCKA(m) - (c.json["linear_cka_debiased"] as! Double)) < 1e-10)
        let procrustes = c.json["procrustes"] as! [String: Double]
        let ours = try Similarity.procrustes(m)
        #expect(abs(ours.nuclearNorm - procrustes["nuclear_norm_XtY"]!) < 1e-12)
        #expect(abs(ours.distance - procrustes["distance_ding_2021"]!) < 1e-12)
        #expect(abs(ours.angular - procrustes["angular_distance_williams_2021"]!) < 1e-12)
    }

    /// google's code dies ("SVD did not converge") on the near-constant neuron at ε = 0 on the
    /// reference machine; whether LAPACK fails there depends on the CPU, so Sonde refuses the case
    /// by a variance test before any decomposition (the neuron's rescaled variance is 7.4e-16,
    /// computed with numpy from golden_small.json), and its own CCA drops the neuron at the
    /// default ε and reports it.
    @Test func deadNeuron() throws {
        let c = try reference("dead_neuron")
        let m = try JointMoments(x: c.a, y: c.b)
        let error = #expect(throws: SimilarityError.self) { try GoogleCCA.compute(m, epsilon: 0) }
        #expect(error.map { "\($0)" }?.contains("neuron 0 of X is constant") == true)
        // Just below the neuron's variance google keeps it too (same refusal); at 1e-10 it is dropped.
        #expect(throws: SimilarityError.self) { try GoogleCCA.compute(m, epsilon: 1e-16) }
        #expect(try GoogleCCA.compute(m, epsilon: 1e-10).keptX == [false] + Array(repeating: true, count: 7))
        let own = try Similarity.cca(m)
        #expect(own.keptX.count == 7 && !own.keptX.contains(0))
    }

    /// google's tutorial activations (MNIST, layer 4; Float32 data).
    @Test func mnistTutorial() throws {
        let x = try TensorCollection.read(svccaReference + "/mnist_model0_lay04.npy").tensors[0].matrix()
        let y = try TensorCollection.read(svccaReference + "/mnist_model1_lay04.npy").tensors[0].matrix()
        let data = try Data(contentsOf: URL(fileURLWithPath: svccaReference + "/golden_mnist_lay04.json"))
        let results = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["results"] as! [String: Any]
        let expected = results["1e-10"] as! [String: Any]
        let m = try JointMoments(x: x, y: y)
        let g = try GoogleCCA.compute(m, epsilon: 1e-10)
        #expect(maxDifference(g.coefficients, expected["cca_coef1"] as! [Double]) < 1e-6)
        #expect(abs(g.mean - (expected["mean_all"] as! Double)) < 1e-6)
        #expect(abs(g.thresholdedMean - (expected["mean_key_threshold_0.98"] as! Double)) < 1e-6)
        let pw = try Similarity.googlePWCCA(x: x, y: y, moments: m, epsilon: 1e-10)
        #expect(abs(pw.value - (results["google_pwcca_eps1e-10"] as! Double)) < 1e-6)
        #expect(maxDifference(try Similarity.cca(m).coefficients, expected["cca_coef1"] as! [Double]) < 1e-6)
        // Mixed precision (Float blocks, Double total) stays within its documented ~1e-6.
        let mixed = try JointMoments(x: x, y: y, precision: .mixed)
        #expect(mixed.precision == .mixed && m.precision == .double)
        #expect(maxDifference(try Similarity.cca(mixed).coefficients, expected["cca_coef1"] as! [Double]) < 5e-6)
    }
}

/// Closed forms on synthetic data.
struct SyntheticSimilarityTests {
    /// X = [Z, noise], Y = [Z + s·E, noise'] with Z of K dimensions of unit variance: the K
    /// leading canonical correlations are 1/√(1 + s²), the rest ≈ 0 (up to the 1/√n of chance).
    @Test func sharedSubspace() throws {
        var g = SplitMix64(seed: 7)
        let (n, k, s) = (20_000, 3, 0.5)
        var x = Matrix<Double>(rows: n, columns: 6), y = Matrix<Double>(rows: n, columns: 5)
        for i in 0..<n {
            for j in 0..<k {
                let z = g.normal()
                x[i, j] = z
                y[i, j] = z + s * g.normal()
            }
            for j in k..<6 { x[i, j] = g.normal() }
            for j in k..<5 { y[i, j] = g.normal() }
        }
        let c = try Similarity.cca(try JointMoments(x: x, y: y))
        let expected = 1 / (1 + s * s).squareRoot()
        for i in 0..<k { #expect(abs(c.coefficients[i] - expected) < 0.01) }
        for i in k..<5 { #expect(c.coefficients[i] < 0.03) }
        // The directions of the shared subspace live on the first K neurons.
        let directions = c.directionsX()
        for i in 0..<k { #expect((0..<k).reduce(0.0) { $0 + directions[i, $1] * directions[i, $1] } > 0.99) }
    }

    /// A rotated, scaled copy is identical to CCA, CKA (orthogonal only) and Procrustes; a
    /// duplicated neuron is exact collinearity and lowers the rank instead of breaking CCA.
    @Test func invariances() throws {
        var g = SplitMix64(seed: 3)
        let x = Matrix<Double>(rows: 500, columns: 4, elements: (0..<2000).map { _ in g.normal() })
        let angle = 0.7
        let rotation = Matrix<Double>([[cos(angle), -sin(angle), 0, 0], [sin(angle), cos(angle), 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        let y = Matrix.product(x, rotation)
        let m = try JointMoments(x: x, y: y)
        #expect(try Similarity.cca(m).coefficients.allSatisfy { abs($0 - 1) < 1e-9 })
        #expect(abs(Similarity.linearCKA(m) - 1) < 1e-12)
        #expect(abs(try Similarity.procrustes(m).nuclearNorm - 1) < 1e-12)
        let duplicated = x.columns([0, 1, 2, 3, 0])
        let c = try Similarity.cca(try JointMoments(x: duplicated, y: y))
        #expect(c.rankX == 4 && c.coefficients.count == 4)
    }

    /// PWCCA against its definition computed from the data: the canonical variates hᵢ = Xc·aᵢ
    /// from CCA's weights (the full SVD), αᵢ = Σⱼ |⟨hᵢ/‖hᵢ‖, xⱼ⟩| over the centred neurons xⱼ —
    /// on a plain side (Cholesky whitening) and on one with a duplicated neuron (the
    /// eigendecomposition), where PWCCA takes Σ·W from the factors instead of a product.
    @Test func pwccaFromItsDefinition() throws {
        var g = SplitMix64(seed: 17)
        let plain = Matrix<Double>(rows: 300, columns: 6, elements: (0..<1800).map { _ in g.normal() })
        let y = Matrix<Double>(rows: 300, columns: 8, elements: (0..<2400).map { i in 0.3 * plain.elements[(i / 8) * 6 + i % 6] + g.normal() })
        for x in [plain, plain.columns([0, 1, 2, 3, 4, 5, 2])] {
            let m = try JointMoments(x: x, y: y)
            let cca = try Similarity.cca(m)
            let centred = Matrix<Double>(rows: x.rows, columns: x.columns) { out in
                for r in 0..<x.rows { for j in 0..<x.columns { out[r * x.columns + j] = x[r, j] - m.meansX[j] } }
            }
            let variates = Matrix.product(centred, cca.weightsX, transposeB: true)  // [n × k]
            var alphas = [Double]()
            for i in 0..<variates.columns {
                let h = variates.column(i)
                let norm = h.reduce(0) { $0 + $1 * $1 }.squareRoot()
                alphas.append(
                    (0..<x.columns).reduce(0.0) { total, j in total + abs(zip(h, centred.column(j)).reduce(0) { $0 + $1.0 * $1.1 }) / norm })
            }
            let sum = alphas.reduce(0, +)
            let expected = zip(alphas, cca.coefficients).reduce(0) { $0 + $1.0 / sum * $1.1 }
            let ours = try Similarity.pwcca(m)
            #expect(abs(ours.value - expected) < 1e-10)
            #expect(maxDifference(ours.weights, alphas.map { $0 / sum }) < 1e-10)
        }
    }

    /// PWCCA and CCA from one decomposition equal each computed alone (X with more neurons than
    /// Y and the reverse, so that both Gram matrices of T are used).
    @Test func pwccaAndCCAFromOneDecomposition() throws {
        var g = SplitMix64(seed: 29)
        let a = Matrix<Double>(rows: 500, columns: 7, elements: (0..<3500).map { _ in g.normal() })
        let b = Matrix<Double>(rows: 500, columns: 4, elements: (0..<2000).map { i in 0.6 * a.elements[(i / 4) * 7 + i % 4] + g.normal() })
        for (x, y) in [(a, b), (b, a)] {
            let m = try JointMoments(x: x, y: y)
            let w = try Whitening(cca: m)
            let (pwcca, cca) = try Similarity.pwccaAndCCA(m, whitening: w)
            let alonePWCCA = try Similarity.pwcca(m, whitening: w), aloneCCA = try Similarity.canonicalCorrelation(m, whitening: w, weights: false)
            #expect(abs(pwcca.value - alonePWCCA.value) < 1e-14 && maxDifference(pwcca.weights, alonePWCCA.weights) < 1e-14)
            #expect(cca.coefficients.count == 4 && maxDifference(cca.coefficients, aloneCCA.coefficients) < 1e-12)
            #expect(cca.keptX == aloneCCA.keptX && cca.keptY == aloneCCA.keptY && cca.rankX == aloneCCA.rankX && cca.rankY == aloneCCA.rankY)
            #expect(cca.weightsX.rows == 0 && cca.weightsX.columns == x.columns && cca.weightsY.columns == y.columns)
        }
    }

    /// A shuffle's Procrustes through the Gram matrix's eigenvalues agrees with the SVD's, also
    /// when Σxy has exact zeros among its singular values (Y of rank 2 in 5 neurons).
    @Test func procrustesBaselineRoute() throws {
        var g = SplitMix64(seed: 19)
        let x = Matrix<Double>(rows: 400, columns: 5, elements: (0..<2000).map { _ in g.normal() })
        let low = Matrix.product(x.columns([0, 1]), Matrix<Double>(rows: 2, columns: 5, elements: (0..<10).map { _ in g.normal() }))
        for y in [Matrix<Double>(rows: 400, columns: 5, elements: (0..<2000).map { _ in g.normal() }), low] {
            let m = try JointMoments(x: x, y: y)
            let svd = try Similarity.procrustes(m).nuclearNorm, gram = try Similarity.procrustes(m, baseline: true).nuclearNorm
            #expect(abs(svd - gram) <= 1e-7 * svd)
        }
    }

    /// The pooled baseline: each measure on each pairing, in [measure][pairing] order, equal to
    /// evaluating them one by one; an error in any task reaches the caller.
    @Test func measuresOnPairingsInParallel() throws {
        var g = SplitMix64(seed: 43)
        let x = Matrix<Double>(rows: 300, columns: 7, elements: (0..<2100).map { _ in g.normal() })
        let y = Matrix<Double>(rows: 300, columns: 5, elements: (0..<1500).map { i in 0.5 * x.elements[(i / 5) * 7 + i % 5] + g.normal() })
        let m = try JointMoments(x: x, y: y)
        let pairings = Similarity.shuffledPairings(x: x, y: y, moments: m, seeds: 3)
        let w = try Whitening(cca: m)
        let measures: [@Sendable (JointMoments) throws -> [Double]] = [
            {
                let p = try Similarity.pwcca($0, whitening: w); return [p.value, p.coefficients[0]]
            },
            { [try Similarity.procrustes($0, baseline: true).nuclearNorm] }, { [Similarity.linearCKA($0)] },
        ]
        let pooled = try Similarity.onPairings(pairings, measures)
        #expect(pooled.count == 3 && pooled.allSatisfy { $0.count == 3 })
        for (i, measure) in measures.enumerated() {
            for (k, pairing) in pairings.enumerated() { #expect(maxDifference(pooled[i][k], try measure(pairing)) < 1e-12) }
        }
        // Unrelated pairings differ from each other and from the real pairing.
        let shuffledCKA = pooled[2].map { $0[0] }
        #expect(Set(shuffledCKA).count == 3 && shuffledCKA.allSatisfy { $0 < Similarity.linearCKA(m) })
        let failing: [@Sendable (JointMoments) throws -> [Double]] = [{ _ in throw SimilarityError("planted") }] + measures
        let error = try #require(throws: SimilarityError.self) { try Similarity.onPairings(pairings, failing) }
        #expect(error.description == "planted")
    }

    @Test func guardsAndBaseline() throws {
        var g = SplitMix64(seed: 11)
        let x = Matrix<Double>(rows: 20, columns: 30, elements: (0..<600).map { _ in g.normal() })
        let y = Matrix<Double>(rows: 20, columns: 5, elements: (0..<100).map { _ in g.normal() })
        let m = try JointMoments(x: x, y: y)
        let error = try #require(throws: SimilarityError.self) { try Similarity.cca(m) }
        #expect(error.description.contains("meaningless"))
        let bad = Matrix<Double>(rows: 3, columns: 2, elements: [1, 2, 3, .nan, 5, 6])
        let nan = try #require(throws: SimilarityError.self) { try JointMoments(x: bad, y: bad) }
        #expect(nan.description.contains("row 2, column 2"))
        // Unrelated data at small n: mean CCA far from 0, and the permutation baseline says so.
        let a = Matrix<Double>(rows: 60, columns: 10, elements: (0..<600).map { _ in g.normal() })
        let b = Matrix<Double>(rows: 60, columns: 10, elements: (0..<600).map { _ in g.normal() })
        let score = try Similarity.cca(try JointMoments(x: a, y: b)).mean
        let baseline = try Similarity.nullBaseline(x: a, y: b, seeds: 5) { try Similarity.cca($0).mean }
        #expect(score > 0.2 && abs(score - baseline.mean) < 0.1)
    }

    /// A shuffled pairing's moments (one X·P·Y product) against a full pass over Y's rows
    /// permuted by hand, for Double and for Float data (mixed blocks), and every measure on them.
    @Test func shuffledPairingsAreAFullPassOnPermutedRows() throws {
        var g = SplitMix64(seed: 41)
        let n = 2_500
        let xd = Matrix<Double>(rows: n, columns: 12, elements: (0..<(n * 12)).map { _ in g.normal() + 3 })
        let yd = Matrix<Double>(rows: n, columns: 9, elements: (0..<(n * 9)).map { _ in g.normal() - 1 })
        for float in [false, true] {
            // Two orders in one pass: each must equal its own full pass.
            let orders = (0..<2).map { _ in Array(0..<n).shuffled(using: &g) }
            let base: JointMoments, pairings: [JointMoments], permutations: [JointMoments]
            if float {
                let (x, y) = (
                    Matrix<Float>(rows: n, columns: 12, elements: xd.elements.map(Float.init)),
                    Matrix<Float>(rows: n, columns: 9, elements: yd.elements.map(Float.init))
                )
                base = try JointMoments(x: x, y: y, precision: .double)
                pairings = base.shuffled(x: x, y: y, orders: orders)
                permutations = try orders.map { try JointMoments(x: x, y: y.rows($0), precision: .double) }
            } else {
                base = try JointMoments(x: xd, y: yd)
                pairings = base.shuffled(x: xd, y: yd, orders: orders)
                permutations = try orders.map { try JointMoments(x: xd, y: yd.rows($0)) }
            }
            for (pairing, permuted) in zip(pairings, permutations) {
                let tolerance = float ? 1e-5 : 1e-12
                #expect(zip(pairing.sxy.elements, permuted.sxy.elements).allSatisfy { abs($0 - $1) <= tolerance })
                // Σyy summed in another row order: equal to rounding.
                #expect(zip(pairing.syy.elements, permuted.syy.elements).allSatisfy { abs($0 - $1) <= 1e-12 })
                #expect(abs(Similarity.debiasedLinearCKA(pairing) - Similarity.debiasedLinearCKA(permuted)) <= tolerance * 10)
                #expect(abs(try Similarity.cca(pairing).mean - (try Similarity.cca(permuted).mean)) <= tolerance * 10)
                // The unshuffled pairing's whitening serves every shuffle (Σxx and Σyy are the same).
                let (cca, svcca) = (try Whitening(cca: base), try Whitening(svcca: base, keep: .dimensions(5)))
                #expect(
                    abs(try Similarity.canonicalCorrelation(pairing, whitening: cca).mean - (try Similarity.cca(permuted).mean)) <= tolerance * 10)
                #expect(
                    abs(
                        try Similarity.canonicalCorrelation(pairing, whitening: svcca, weights: false).mean
                            - (try Similarity.svcca(permuted, keep: .dimensions(5)).cca.mean)) <= tolerance * 10)
                #expect(
                    abs(try Similarity.pwcca(pairing, whitening: cca).value - (try Similarity.pwcca(permuted).value)) <= tolerance * 10)
            }
        }
    }
}

/// Correlation clustering against a brute-force average linkage, and on planted copies.
struct NeuronClusterTests {
    /// Textbook average linkage: repeatedly merge the closest pair, distance = mean of all
    /// member-pair dissimilarities, stop when the closest pair is above the threshold.
    func bruteForce(_ s: Matrix<Double>, threshold: Double) -> Set<Set<Int>> {
        let d = s.rows
        func dissimilarity(_ i: Int, _ j: Int) -> Double { 1 - abs(s[i, j] / (s[i, i] * s[j, j]).squareRoot()) }
        var clusters = (0..<d).map { [$0] }
        while clusters.count > 1 {
            var best = (0, 1, Double.infinity)
            for a in 0..<clusters.count {
                for b in (a + 1)..<clusters.count {
                    var total = 0.0
                    for i in clusters[a] { for j in clusters[b] { total += dissimilarity(i, j) } }
                    let average = total / Double(clusters[a].count * clusters[b].count)
                    if average < best.2 { best = (a, b, average) }
                }
            }
            if best.2 > threshold { break }
            clusters[best.0] += clusters[best.1]
            clusters.remove(at: best.1)
        }
        return Set(clusters.map(Set.init))
    }

    @Test func matchesBruteForce() throws {
        var g = SplitMix64(seed: 9)
        // 30 neurons from 6 latent factors with varying noise: clusters at several scales.
        let n = 400
        let factors = (0..<6).map { _ in (0..<n).map { _ in g.normal() } }
        var x = Matrix<Double>(rows: n, columns: 30)
        let noise = (0..<30).map { _ in 0.2 + 1.5 * g.unit() }
        for j in 0..<30 { for i in 0..<n { x[i, j] = factors[j % 6][i] + noise[j] * g.normal() } }
        let s = try JointMoments(x: x, y: Matrix<Double>(rows: n, columns: 0)).sxx
        for threshold in [0.2, 0.4, 0.6] {
            let ours = NeuronClusters.cluster(covariance: s, threshold: threshold)
            #expect(Set(ours.clusters.map(Set.init)) == bruteForce(s, threshold: threshold), "threshold \(threshold)")
        }
    }
}

/// Measures are values: every name parses to its case, an unknown one is an error (not
/// Procrustes, as a string switch's default once gave).
@Test func measureNames() throws {
    #expect(try Measure.list("cca,svcca,cca,rbf-cka").get() == [.cca, .svcca, .rbfCKA])
    #expect(Measure.allCases.allSatisfy { (try? Measure.list($0.rawValue).get()) == [$0] })
    guard case .failure(let error) = Measure.list("cka,procrustez") else { Issue.record("accepted an unknown measure"); return }
    #expect(error.name == "procrustez" && error.description.contains("procrustes"))
}

/// Canonical variates from the CCA weights: unit variance, and the i-th pair correlates at the
/// i-th coefficient (the definition, computed directly here).
@Test func canonicalVariatesCorrelateAtTheCoefficients() throws {
    var g = SplitMix64(seed: 12)
    let n = 2_000
    let x = Matrix<Float>(rows: n, columns: 4) { p in for i in 0..<p.count { p[i] = Float(g.unit() * 2 - 1) } }
    let y = Matrix<Float>(rows: n, columns: 3) { p in
        for r in 0..<n { for j in 0..<3 { p[r * 3 + j] = x[r, j] * Float(j + 1) + Float(g.unit() - 0.5) * Float(j) } }
    }
    let m = try JointMoments(x: x, y: y)
    let cca = try Similarity.cca(m, weights: true)
    let u = Similarity.canonicalVariates(x, weights: cca.weightsX, means: m.meansX)
    let v = Similarity.canonicalVariates(y, weights: cca.weightsY, means: m.meansY)
    for i in 0..<cca.coefficients.count {
        let a = u.column(i).map(Double.init), b = v.column(i).map(Double.init)
        let (ma, mb) = (a.reduce(0, +) / Double(n), b.reduce(0, +) / Double(n))
        let cov = zip(a, b).reduce(0.0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let va = a.reduce(0.0) { $0 + ($1 - ma) * ($1 - ma) }, vb = b.reduce(0.0) { $0 + ($1 - mb) * ($1 - mb) }
        #expect(abs(abs(cov / (va * vb).squareRoot()) - cca.coefficients[i]) < 1e-4)
        #expect(abs(ma) < 1e-4 && abs(va / Double(n - 1) - 1) < 1e-2 || abs(va / Double(n) - 1) < 1e-2)
    }
}
