import Foundation
import SondeLinalg
import SondeProbe

/// The real activations of `probe-real` as the path's train and held-out sets.
func realPathData(_ options: Options) throws -> (train: ProbeDataset, held: ProbeDataset, prefix: String, title: String) {
    let (prefix, title) = try realProbeData(options)
    let x = try TensorCollection.read(prefix + ".train.x.npy").tensors[0].matrix()
    let y = try TensorCollection.read(prefix + ".train.y.npy").tensors[0].integers()!
    let classes = (0..<((y.max() ?? 0) + 1)).map { "class\($0)" }
    let held = ProbeDataset(
        x: try TensorCollection.read(prefix + ".test.x.npy").tensors[0].matrix(),
        labels: try TensorCollection.read(prefix + ".test.y.npy").tensors[0].integers()!, classes: classes)
    return (ProbeDataset(x: x, labels: y, classes: classes), held, prefix, title)
}

/// The whole regularisation path against glmnet (python-glmnet 2.6.1's Fortran lognet, the one
/// peer that solves this exact problem along a path): 30 λ from λ_max down to 1e-3·λ_max, α 0.5,
/// standardised, on the real activations of `probe-real`; each λ scored on the held-out split
/// (EWT dev), the first best chosen. Sonde at its default KKT tolerance 1e-4 on 2 threads;
/// glmnet at its default tol 1e-7 (on its own convergence measure) on one thread.
func pathReal(_ options: Options) throws {
    let (train, held, prefix, title) = try realPathData(options)
    var path: RegularizationPath?
    let seconds = best(1) { path = RegularizationPath.fit(train: train, dev: held, alpha: 0.5, count: 30, minRatio: 1e-3) }
    let sonde = path!
    let lambdas = sonde.points.map(\.lambda)
    say("path-real — \(title); 30 λ, α 0.5; running glmnet (several minutes)…")
    let peer = try runPeer(options, "glmnet_path.py", [prefix, "0.5", lambdas.map { String($0) }.joined(separator: ","), "1e-7"])
    let peerSeconds = peer["seconds"] as! Double
    let peerSelected = peer["selected"] as! Int
    let peerAccuracy = peer["selected_accuracy"] as! Double
    let selected = sonde.selected
    let accuracy = sonde.points[selected].selectionAccuracy ?? .nan
    row("", "Sonde", "glmnet", "ratio")
    row(
        "path of 30 λ (s)", String(format: "%.1f", seconds), String(format: "%.1f", peerSeconds),
        String(format: "%.1f× faster", peerSeconds / seconds))
    row(
        "selected λ (index on the path)", String(format: "%.3g (%d)", lambdas[selected], selected),
        String(format: "%.3g (%d)", lambdas[peerSelected], peerSelected), "")
    row(
        "held-out accuracy at it", String(format: "%.4f", accuracy), String(format: "%.4f", peerAccuracy),
        String(format: "%+.4f", accuracy - peerAccuracy))
    let converged = sonde.points.filter(\.converged).count
    say("Sonde: KKT tolerance 1e-4, \(converged)/30 converged, \(BLASThreads.count) threads; glmnet: tol 1e-7, 1 thread")
    for (k, point) in sonde.points.enumerated() where !point.converged {
        say(
            "  not converged: λ \(String(format: "%.3g", point.lambda)) (index \(k)), \(point.iterations) iterations, KKT \(String(format: "%.1e", sonde.probes[k].diagnostics.kktViolation))"
        )
    }
}

/// Sonde's path alone on the real activations of `path-real` (no glmnet): the time and each λ's
/// Newton iterations.
func pathRealQuick(_ options: Options) throws {
    let (train, held, _, _) = try realPathData(options)
    var path: RegularizationPath?
    let seconds = best(1) { path = RegularizationPath.fit(train: train, dev: held, alpha: 0.5, count: 30, minRatio: 1e-3) }
    let iterations = path!.points.map(\.iterations)
    say("path of 30 λ: \(String(format: "%.1f", seconds)) s, \(iterations.reduce(0, +)) Newton iterations: \(iterations)")
}
