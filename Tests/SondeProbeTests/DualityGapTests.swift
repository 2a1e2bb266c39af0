import SondeBase
import SondeLinalg
import Testing

@testable import SondeProbe

/// The duality gap certifies a fit: on small problems it bounds the suboptimality measured
/// against a fit converged far tighter, it is never below that fit's objective minus its own,
/// and it closes as the solver converges — for the elastic net (α < 1), the lasso and NeuroX.
struct DualityGapTests {
    let planted = PlantedData(samples: 400, neurons: 12, classes: 3, planted: 3, copies: 1, seed: 9)

    @Test(arguments: [
        Penalty.elasticNet(lambda: 1e-2, alpha: 0.5), .elasticNet(lambda: 3e-3, alpha: 1), .elasticNet(lambda: 1e-2, alpha: 0),
        .neurox(l1: 1e-3, l2: 1e-2),
    ])
    func theGapBoundsTheSuboptimality(penalty: Penalty) throws {
        let standardize: Bool
        if case .neurox = penalty { standardize = false } else { standardize = true }
        func fit(_ tolerance: Double, _ iterations: Int) -> (FittedProbe, DualityGap) {
            let probe = FittedProbe.fit(
                planted.dataset, settings: ProbeSettings(penalty: penalty, standardize: standardize, tolerance: tolerance, maxIterations: iterations))
            return (probe, probe.dualityGap(planted.dataset)!)
        }
        let (_, tight) = fit(1e-10, 5000)
        #expect(tight.gap >= -1e-10 && tight.gap < 1e-6, "\(tight)")
        for iterations in [1, 2, 4] {
            let (_, loose) = fit(1e-12, iterations)
            // P* lies in [tight.dual, tight.primal]: the loose gap covers P_loose − P* at least
            // down to P_loose − tight.primal, and the loose dual is a lower bound on P*.
            #expect(loose.gap >= loose.primal - tight.primal - 1e-10, "\(iterations) iterations: \(loose) against \(tight)")
            #expect(loose.dual <= tight.primal + 1e-10)
            #expect(abs(loose.gap - (loose.primal - loose.dual)) < 1e-15 && abs(loose.relative - loose.gap / loose.primal) < 1e-15)
        }
        let (_, one) = fit(1e-12, 1), (_, many) = fit(1e-12, 20)
        #expect(many.gap < one.gap)
    }

    /// A gap target: the solver continues from a loose tolerance until the gap is below it.
    @Test func aGapTargetIsMet() {
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5), tolerance: 1e-2, gap: 1e-9)
        let probe = FittedProbe.fit(planted.dataset, settings: settings)
        let loose = FittedProbe.fit(planted.dataset, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5), tolerance: 1e-2))
        #expect(loose.dualityGap(planted.dataset)!.gap > 1e-9 && probe.dualityGap(planted.dataset)!.gap <= 1e-9)
    }

    /// The primal objective is the probe's own (mean cross-entropy + penalty on standardised
    /// weights), recomputed in Double.
    @Test func thePrimalIsTheObjective() {
        let probe = FittedProbe.fit(planted.dataset, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5), tolerance: 1e-8))
        let gap = probe.dualityGap(planted.dataset)!
        #expect(abs(gap.primal - probe.diagnostics.objective) < 1e-5 * gap.primal, "\(gap.primal) vs \(probe.diagnostics.objective)")
        #expect(probe.dualityGap(ProbeDataset(x: planted.dataset.x, labels: planted.dataset.labels.map { _ in -1 }, classes: probe.classes)) == nil)
    }
}
