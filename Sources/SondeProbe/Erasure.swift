import Foundation
import SondeBase
import SondeLinalg

/// A linear concept eraser: a row x becomes x − E(x − μ). Fitted by LEACE (Belrose et al. 2023:
/// the least change, in the data's own covariance metric, after which no linear classifier
/// does better than a constant — every class has the same mean), by INLP (Ravfogel et al. 2020:
/// Sonde's probe trained again and again, each time projecting its weight directions out), or
/// drawn at random with a given rank (the control of an erasure inside a model).
///
/// Data are Float; the algebra (covariance, eigen- and singular value decompositions) is Double.
public struct ConceptEraser: Sendable {
    public enum Method: String, Sendable, Codable, CaseIterable {
        case leace, inlp, random
    }

    public let method: Method
    /// μ: the training rows' mean (LEACE, INLP), or zero.
    public let mean: [Double]
    /// E (neurons × neurons): what is taken away from a centred row.
    public let map: Matrix<Double>
    /// The number of directions erased (E's rank).
    public let rank: Int

    public init(method: Method, mean: [Double], map: Matrix<Double>, rank: Int) {
        precondition(map.rows == mean.count && map.columns == mean.count, "an eraser's map is neurons × neurons")
        (self.method, self.mean, self.map, self.rank) = (method, mean, map, rank)
    }

    public var neurons: Int { mean.count }

    /// The erased rows: X − (X − 1μᵀ)Eᵀ (one sgemm).
    public func apply(_ x: Matrix<Float>) -> Matrix<Float> {
        precondition(x.columns == neurons, "erasing \(x.columns) neurons with an eraser of \(neurons)")
        let mu = mean.map(Float.init)
        let d = neurons
        let centred = x.withUnsafeBufferPointer { source in
            Matrix<Float>(rows: x.rows, columns: d) { out in
                for i in 0..<x.rows { for j in 0..<d { out[i * d + j] = source[i * d + j] - mu[j] } }
            }
        }
        var erased = x
        erased.addProduct(centred, map.converted(to: Float.self), transposeB: true, alpha: -1, beta: 1)
        return erased
    }

    // MARK: LEACE

    /// LEACE's closed form. With Σ the covariance of X, Σxz its cross-covariance with the one-hot
    /// labels, W = (Σ^½)⁺ (eigenvalues above max·d·ε kept) and P the orthogonal projection onto
    /// the column space of WΣxz (singular values above max·max(d, k)·ε kept): E = W⁺PW. The
    /// covariances' divisor cancels; the rank is at most classes − 1.
    public static func leace(_ data: ProbeDataset) throws -> ConceptEraser {
        let (x, n, d, k) = (data.x, data.count, data.neurons, data.classes.count)
        guard n >= 2, k >= 2 else { throw ErasureError("LEACE needs at least 2 rows and 2 classes (has \(n) rows, \(k) classes)") }
        guard data.labels.allSatisfy({ $0 >= 0 && $0 < k }) else { throw ErasureError("LEACE needs a class for every row") }
        let sigma = x.covariance(ddof: 0)
        let mean = x.columnStatistics().means
        // Σxz = (1/n) Σᵢ (xᵢ − μ)(zᵢ − z̄)ᵀ; column c: (n_c/n)(μ_c − μ).
        let (classMeans, counts) = data.classMeans()
        var cross = Matrix<Double>(rows: d, columns: k)
        for c in 0..<k {
            for j in 0..<d { cross[j, c] = Double(counts[c]) / Double(n) * (classMeans[c, j] - mean[j]) }
        }
        // Whitening and its pseudo-inverse on the kept eigenvectors (columns of `vectors`).
        let eigen = try sigma.symmetricEigen()
        let largest = eigen.values.max() ?? 0
        let kept = eigen.values.indices.filter { eigen.values[$0] > largest * Double(d) * .ulpOfOne && eigen.values[$0] > 0 }
        let basis = eigen.vectors.columns(kept).transposed()  // r × d, orthonormal rows
        func scaled(_ power: Double) -> Matrix<Double> {
            var b = basis
            for (row, index) in kept.enumerated() {
                let s = Foundation.pow(eigen.values[index], power)
                for j in 0..<d { b[row, j] *= s }
            }
            return .product(basis, b, transposeA: true)  // Vᵀ diag(λ^power) V
        }
        let whitening = scaled(-0.5), colouring = scaled(0.5)
        let whitenedCross = Matrix<Double>.product(whitening, cross)
        let svd = try whitenedCross.svd()
        let top = svd.values.max() ?? 0
        let directions = svd.values.indices.filter { svd.values[$0] > top * Double(max(d, k)) * .ulpOfOne && svd.values[$0] > 0 }
        let u = svd.u.columns(directions)  // d × r
        // E = W⁺ U Uᵀ W, as (W⁺U)(UᵀW).
        let left = Matrix<Double>.product(colouring, u), right = Matrix<Double>.product(u, whitening, transposeA: true)
        return ConceptEraser(method: .leace, mean: mean, map: .product(left, right), rank: directions.count)
    }

    // MARK: INLP

    /// Iterated nullspace projection: `iterations` times, Sonde's probe is trained on the rows
    /// with the directions so far projected out (about μ), and its class weight vectors
    /// (original scale), made orthogonal to those directions, are added to them. E = QQᵀ for the
    /// orthonormal directions Q. Stops early when a probe does no better than always answering
    /// the majority class, or adds no direction. Returns the eraser
    /// and each round's probe accuracy on `data` before its directions are removed.
    public static func inlp(_ data: ProbeDataset, iterations: Int, settings: ProbeSettings) throws -> (eraser: ConceptEraser, accuracies: [Double]) {
        let (d, k) = (data.neurons, data.classes.count)
        guard data.count >= 2, k >= 2 else { throw ErasureError("INLP needs at least 2 rows and 2 classes") }
        guard iterations >= 1 else { throw ErasureError("INLP needs at least one iteration") }
        let mean = data.x.columnStatistics().means
        let majority = Double(data.classCounts.max() ?? 0) / Double(data.count)
        var directions: [[Double]] = []
        var accuracies: [Double] = []
        var eraser = ConceptEraser(method: .inlp, mean: mean, map: Matrix(rows: d, columns: d), rank: 0)
        for _ in 0..<iterations {
            let erased = ProbeDataset(x: eraser.apply(data.x), labels: data.labels, classes: data.classes)
            let probe = FittedProbe.fit(erased, settings: settings)
            let accuracy = probe.evaluate(erased).accuracy
            accuracies.append(accuracy)
            if accuracy <= majority + 1e-12 { break }
            let before = directions.count
            for c in 0..<probe.weights.rows {
                addDirection(probe.weights.row(c), to: &directions)
            }
            if directions.count == before { break }
            eraser = ConceptEraser(method: .inlp, mean: mean, map: projection(onto: directions, d), rank: directions.count)
        }
        return (eraser, accuracies)
    }

    // MARK: Random

    /// Erases `rank` random orthonormal directions (Gaussian draws from SplitMix64, orthonormalised),
    /// about μ: the control for an erasure of that rank.
    public static func random(neurons d: Int, rank: Int, mean: [Double]? = nil, seed: UInt64) -> ConceptEraser {
        precondition(rank >= 0 && rank <= d, "a random eraser's rank is in 0…neurons")
        var generator = SplitMix64(seed: seed)
        var directions: [[Double]] = []
        while directions.count < rank {
            addDirection((0..<d).map { _ in generator.normal() }, to: &directions)
        }
        return ConceptEraser(method: .random, mean: mean ?? [Double](repeating: 0, count: d), map: projection(onto: directions, d), rank: rank)
    }

    /// Adds `w`, made orthogonal to the orthonormal `directions` (Gram–Schmidt twice: orthogonal
    /// to working precision) and normalised, unless almost nothing of it is left.
    static func addDirection(_ vector: [Double], to directions: inout [[Double]]) {
        func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        var w = vector
        let size = norm(w)
        guard size > 0 else { return }
        for _ in 0..<2 {
            for q in directions {
                let dot = zip(w, q).reduce(0) { $0 + $1.0 * $1.1 }
                for j in w.indices { w[j] -= dot * q[j] }
            }
        }
        let rest = norm(w)
        if rest > 1e-6 * size { directions.append(w.map { $0 / rest }) }
    }

    /// QQᵀ for orthonormal rows Q.
    static func projection(onto directions: [[Double]], _ d: Int) -> Matrix<Double> {
        guard !directions.isEmpty else { return Matrix(rows: d, columns: d) }
        let q = Matrix(directions)
        return .product(q, q, transposeA: true)
    }
}

/// Saved erasers: a safetensors file with `map` [D, D] and `mean` [D] (F64) and, in
/// `__metadata__`, the format (`sonde-eraser/1`), the method and the rank.
extension ConceptEraser {
    public static let fileFormat = "sonde-eraser/1"

    public func write(to path: String) throws {
        try Safetensors.write(
            [
                TensorPayload(name: "map", shape: [neurons, neurons], dtype: .float64, values: .double(map.elements)),
                TensorPayload(name: "mean", shape: [neurons], dtype: .float64, values: .double(mean)),
            ], metadata: ["format": Self.fileFormat, "method": method.rawValue, "rank": String(rank)], to: path)
    }

    public static func read(_ path: String) throws -> ConceptEraser {
        let file = try TensorCollection.read(path)
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, message) }
        guard file.metadata["format"] == fileFormat else {
            throw fail("not a saved Sonde eraser (its __metadata__ has no format = \(fileFormat)); make one with `sonde erase fit`")
        }
        guard let method = file.metadata["method"].flatMap(Method.init(rawValue:)), let rank = file.metadata["rank"].flatMap({ Int($0) }) else {
            throw fail("the eraser's metadata 'method' or 'rank' is missing or malformed")
        }
        guard let map = file["map"], map.shape.count == 2, map.shape[0] == map.shape[1], let mean = file["mean"], mean.shape == [map.shape[0]],
            (0...map.shape[0]).contains(rank)
        else { throw fail("the eraser needs 'map' [D, D] and 'mean' [D], and a rank in 0…D") }
        let values = map.doubles(), centre = mean.doubles()
        guard values.allSatisfy(\.isFinite), centre.allSatisfy(\.isFinite) else { throw fail("the eraser has non-finite values") }
        let d = map.shape[0]
        return ConceptEraser(method: method, mean: centre, map: Matrix(rows: d, columns: d, elements: values), rank: rank)
    }
}

/// Why an eraser cannot be fitted (too few rows or classes): malformed input for the caller.
public struct ErasureError: CategorizedError {
    public let description: String
    public var category: ErrorCategory { .malformedInput }
    init(_ description: String) { self.description = description }
}
