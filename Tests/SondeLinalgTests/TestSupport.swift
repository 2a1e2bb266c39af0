import Foundation
import SondeBase

@testable import SondeLinalg

func randomMatrix<S: LinalgScalar>(_ rows: Int, _ columns: Int, seed: UInt64, as _: S.Type = S.self) -> Matrix<S>
where S.RawSignificand: FixedWidthInteger {
    var g = SplitMix64(seed: seed)
    return Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in S.random(in: -1...1, using: &g) })
}

/// The textbook triple loop in Double: the independent reference for products.
func naiveProduct<S: LinalgScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> [[Double]] {
    (0..<a.rows).map { i in
        (0..<b.columns).map { j in (0..<a.columns).reduce(0.0) { $0 + Double(a[i, $1]) * Double(b[$1, j]) } }
    }
}

func maxAbsDifference<S: LinalgScalar>(_ a: Matrix<S>, _ b: [[Double]]) -> Double {
    var worst = 0.0
    for i in 0..<a.rows { for j in 0..<a.columns { worst = max(worst, abs(Double(a[i, j]) - b[i][j])) } }
    return worst
}

func maxAbsDifference<S: LinalgScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Double {
    precondition(a.rows == b.rows && a.columns == b.columns)
    return zip(a.elements, b.elements).map { abs(Double($0) - Double($1)) }.max() ?? 0
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

let fixtures = repositoryRoot + "/Tests/Fixtures/tensors"

/// `../shared` beside the repository: real corpora, models and reference outputs.
let sharedFolder = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared"
let sharedAvailable = FileManager.default.fileExists(atPath: sharedFolder + "/zoo/README.md")
let sharedMissing = "../shared is absent beside the repository: the tests on real files are skipped"

/// A fresh temporary folder, removed by the caller's `defer`.
func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "sonde-test-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
