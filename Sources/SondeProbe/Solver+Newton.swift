import Dispatch
import Glibc
import SondeBase
import SondeLinalg

// Minimising the Newton model: one class block by coordinate descent, the classes by
// Gauss–Seidel (weakly coupled classes two at a time, side by side), then the re-centring of
// every neuron across classes.
extension ProbeProblem {
    /// Minimises, for one class, gᵀ(w − v) + ½(w − v)ᵀ(sH + ρI)(w − v) + κ₁‖w₁..ₙ‖₁ + κ₂/2‖w₁..ₙ‖²
    /// over w = (weights, intercept) of length n + 1, n = `size` (the intercept, last, is not penalised and
    /// has no ρ), by cyclic coordinate descent with an active set, starting from `start`, for at
    /// most `maxSweeps` sweeps. Returns w and the sweeps taken.
    func solveRow(
        g: [Double], v: [Double], start: [Double], h: [Double], size: Int, scale l: Double, rho: Double, k1: Double, k2: Double,
        tolerance: Double
    ) -> (w: [Double], sweeps: Int) {
        let e = size + 1
        var w = start
        var taken = 0
        var q = [Double](repeating: 0, count: e)  // (sH + ρI)(w − v)
        let d = size
        for j in 0..<e where start[j] != v[j] {
            let delta = start[j] - v[j]
            for i in 0..<e { q[i] += l * delta * h[j * e + i] }
            if j < d { q[j] += rho * delta }
        }
        h.withUnsafeBufferPointer { s in
            w.withUnsafeMutableBufferPointer { w in
                q.withUnsafeMutableBufferPointer { q in
                    func sweep(_ coordinates: some Sequence<Int>) -> Double {
                        var largest = 0.0
                        for j in coordinates {
                            let penalised = j < d
                            let diagonal = l * s[j * e + j] + (penalised ? rho : 0)
                            let a = diagonal + (penalised ? k2 : 0)
                            let beta = g[j] + q[j] - diagonal * w[j]
                            let t: Double
                            if penalised {
                                let magnitude = abs(beta) - k1
                                t = magnitude > 0 ? -(beta > 0 ? magnitude : -magnitude) / a : 0
                            } else {
                                t = -beta / a
                            }
                            let delta = t - w[j]
                            if delta != 0 {
                                let column = s.baseAddress! + j * e  // H is symmetric: row j = column j
                                let step = l * delta
                                for i in 0..<e { q[i] += step * column[i] }
                                if penalised { q[j] += rho * delta }
                                w[j] = t
                                largest = max(largest, a * delta * delta)
                            }
                        }
                        return largest
                    }
                    let limit = tolerance * tolerance
                    var sweeps = 0
                    var active: [Int] = []
                    active.reserveCapacity(e)
                    while sweeps < Self.maxSweeps {
                        sweeps += 1
                        if sweep(0..<e) <= limit { break }
                        while sweeps < Self.maxSweeps {
                            sweeps += 1
                            active.removeAll(keepingCapacity: true)
                            for j in 0..<e where j == d || w[j] != 0 { active.append(j) }
                            if sweep(active) <= limit { break }
                        }
                    }
                    taken = sweeps
                }
            }
        }
        return (w, taken)
    }
}

extension ProbeProblem {
    /// A cap on one class block's coordinate-descent sweeps (full and active-set together). A
    /// block is a strongly convex quadratic, but a nearly singular one converges slowly: the
    /// control task of a 47-class deprel probe at λ 0.001 on BERT's embeddings (random labels per
    /// word type, fitted almost to separation) took 1,000–100,000 sweeps per block and over ten
    /// minutes per fit under the former cap of 10⁶; every probe of the study, the demo's
    /// included, needed at most 1,000 (most under 30), so they are unchanged to the bit. A
    /// block left inexact is still a descent step (the iteration backtracks), and the fit ends
    /// only when the KKT conditions of the whole problem hold.
    static let maxSweeps = 1000

    /// A cap only: the rounds end when one gains < 1% of the model decrease so far. With
    /// 17 strongly coupled UPOS classes that took 30–60 rounds, and a cap of 30 cut the inner
    /// solve short every iteration of the tail (38 Newton iterations instead of 23).
    static let maxRounds = 100

    /// The classes in groups of two, solved side by side from the same U in each Gauss–Seidel
    /// round: each class with the one it is least coupled to (Σ_t ω_t p_ta p_tb over the sample,
    /// the size of their Hessian's cross block), the most coupled classes choosing first, so that
    /// a pair's two steps barely interact.
    func classPairs(probabilities p: UnsafeMutableBufferPointer<Double>, weights: UnsafeMutableBufferPointer<Double>, count m: Int) -> [[Int]] {
        // coupling = S·Sᵀ with S_at = p_ta·√ω_t (one dgemm: C² products of the sample's length).
        var scaled = [Double](repeating: 0, count: c * m)
        for a in 0..<c { for t in 0..<m { scaled[a * m + t] = p[a * m + t] * weights[t].squareRoot() } }
        var coupling = [Double](repeating: 0, count: c * c)
        scaled.withUnsafeBufferPointer { s in
            coupling.withUnsafeMutableBufferPointer { out in
                BLAS.gemm(transposeB: true, m: c, n: c, k: m, a: s.baseAddress!, lda: m, b: s.baseAddress!, ldb: m, c: out.baseAddress!, ldc: c)
            }
        }
        // Σ_t ω_t p_ta(1 − p_ta) = Σ_{b≠a} coupling_ab (the probabilities sum to 1): the weight
        // of class a's own block.
        let total = (0..<c).map { a in (0..<c).reduce(0) { $0 + ($1 == a ? 0 : coupling[a * c + $1]) } }
        func relative(_ a: Int, _ b: Int) -> Double { coupling[a * c + b] / max((total[a] * total[b]).squareRoot(), .leastNormalMagnitude) }
        var free = Set(0..<c)
        var groups: [[Int]] = []
        for a in (0..<c).sorted(by: { total[$0] > total[$1] }) where free.contains(a) {
            free.remove(a)
            if let b = free.min(by: { relative(a, $0) < relative(a, $1) || (relative(a, $0) == relative(a, $1) && $0 < $1) }),
                relative(a, b) <= Self.pairLimit
            {
                free.remove(b)
                groups.append([a, b])
            } else {
                groups.append([a])
            }
        }
        return groups.sorted { $0.min()! < $1.min()! }
    }

    /// Classes pair only when their cross block weighs at most this fraction of their own
    /// (Σ_t ω_t p_ta p_tb against the geometric mean of Σ_t ω_t p_t(1 − p_t)): the three strongly
    /// coupled classes of the solver tests' problems never pair, and stall near the Float floor
    /// when made to (KKT 3e-6 instead of 5e-8); all but one UPOS class pair on real activations.
    static let pairLimit = 0.05

    /// Minimises the Newton model of one iteration (see the top of this file) by Gauss–Seidel
    /// over classes — over `classPairs` when `paired`, each pair's two classes solved from the
    /// same state, side by side on two of `workers` (the same bits on one): on the real
    /// activations, whose 17 UPOS classes pair all but one, the fits 5–25% faster.
    /// Returns the new W, b and ΔW̃ᵀ(sH + ρI)ΔW̃.
    func modelStep(
        g: [Double], gb: [Double], w: [Double], b: [Double], set: WorkingSet, blocks: [[Double]], sample: CurvatureSample, scale: Double,
        rho: Double, k1: Double, k2: Double, tolerance: Double, start: [[Double]]? = nil, paired: Bool, workers: Int
    ) -> (w: [Double], b: [Double], quadratic: Double) {
        let size = set.size
        let e = size + 1
        let m = sample.count
        let rows = (0..<c).map { k in set.columns.map { w[k * d + $0] } + [b[k]] }
        let gradients = (0..<c).map { k in set.columns.map { g[k * d + $0] } + [gb[k]] }
        var current = start ?? rows
        // Class-major, so that each class's passes over the sample walk contiguous memory:
        // p[k·m + t] = p_tk and u[k·m + t] = (X̃ ΔW̃ᵀ)_tk on the sample, mixed[t] = Σ_c p_tc u_tc.
        // Buffers, not arrays: the loops that run every round then carry no bounds checks.
        let doubles = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, 2 * m * c + 4 * m))
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * (2 * m + 2 * e))
        doubles.initialize(repeating: 0)
        floats.initialize(repeating: 0)
        defer {
            doubles.deallocate()
            floats.deallocate()
        }
        func part<T>(_ buffer: UnsafeMutableBufferPointer<T>, _ index: Int, _ count: Int, after: Int) -> UnsafeMutableBufferPointer<T> {
            UnsafeMutableBufferPointer(start: buffer.baseAddress! + after + index * count, count: count)
        }
        let (p, u) = (part(doubles, 0, m * c, after: 0), part(doubles, 1, m * c, after: 0))
        let (mixed, weights, first, second) = (
            part(doubles, 0, m, after: 2 * m * c), part(doubles, 1, m, after: 2 * m * c), part(doubles, 2, m, after: 2 * m * c),
            part(doubles, 3, m, after: 2 * m * c)
        )
        // Scratch for each of two classes solved side by side.
        let lanes = (0..<2).map { lane in
            let after = lane * (2 * m + 2 * e)
            return (
                weights: part(floats, 0, m, after: after), column: part(floats, 1, m, after: after),
                cross: part(floats, 0, e, after: after + 2 * m), delta: part(floats, 1, e, after: after + 2 * m)
            )
        }
        let (column, delta) = (lanes[0].column, lanes[0].delta)
        for t in 0..<m {
            weights[t] = sample.weights[t]
            for k in 0..<c { p[k * m + t] = sample.probabilities[t * c + k] }
        }
        var started = start != nil
        if started {
            let change = (0..<c).flatMap { k in (0..<e).map { Float(current[k][$0] - rows[k][$0]) } }
            var product = [Float](repeating: 0, count: m * c)
            set.x.withUnsafeBufferPointer { px in
                change.withUnsafeBufferPointer { pd in
                    product.withUnsafeMutableBufferPointer { pu in
                        BLAS.gemm(
                            transposeB: true, m: m, n: c, k: e, a: px.baseAddress!, lda: e, b: pd.baseAddress!, ldb: e, c: pu.baseAddress!, ldc: c)
                    }
                }
            }
            for t in 0..<m {
                for k in 0..<c {
                    u[k * m + t] = Double(product[t * c + k])
                    mixed[t] += p[k * m + t] * u[k * m + t]
                }
            }
        }
        /// column = X̃·v on the sample.
        func product(_ v: UnsafeMutableBufferPointer<Float>) {
            set.x.withUnsafeBufferPointer { px in BLAS.gemv(m: m, n: e, a: px.baseAddress!, lda: e, x: v.baseAddress!, y: column.baseAddress!) }
        }
        /// ΔW̃ᵀ H ΔW̃ = Σ_t ω_t [Σ_c p_tc u_tc² − (Σ_c p_tc u_tc)²] from U on the sample.
        func hessianQuadratic() -> Double {
            var quadratic = 0.0
            // Class by class, each row's two sums in the scratch columns (contiguous passes).
            first.update(repeating: 0)
            second.update(repeating: 0)
            for k in 0..<c {
                for t in 0..<m {
                    first[t] += p[k * m + t] * u[k * m + t] * u[k * m + t]
                    second[t] += p[k * m + t] * u[k * m + t]
                }
            }
            for t in 0..<m { quadratic += weights[t] * (first[t] - second[t] * second[t]) }
            return quadratic
        }
        /// The model's value at `current` (relative to its value at ΔW = 0): ⟨g, ΔW̃⟩ + ½ΔW̃ᵀ(sH + ρI)ΔW̃
        /// + P(W + ΔW) − P(W).
        func modelValue() -> Double {
            var value = scale * hessianQuadratic() / 2
            for k in 0..<c {
                for j in 0..<e {
                    let change = current[k][j] - rows[k][j]
                    guard change != 0 else { continue }
                    value += gradients[k][j] * change
                    if j < size {
                        value += rho * change * change / 2
                        value += k1 * (abs(current[k][j]) - abs(rows[k][j])) + k2 / 2 * (current[k][j] * current[k][j] - rows[k][j] * rows[k][j])
                    }
                }
            }
            return value
        }
        let groups = paired ? classPairs(probabilities: p, weights: weights, count: m) : (0..<c).map { [$0] }
        var moved = started
        /// Class k's exact block minimisation given the other classes' current changes (through
        /// U), on scratch `lane`; the new column of U is left in the lane's `column`. Returns the
        /// class's new row and whether it moved.
        func solveClass(_ k: Int, lane: Int, crossTerms: Bool) -> (next: [Double], moved: Bool) {
            let scratch = lanes[lane]
            // Cross-class gradient of the model: Σ_t ω_t (−p_tk) (Σ_{c≠k} p_tc u_tc) x̃_t.
            var model = gradients[k]
            if crossTerms {
                for t in 0..<m { scratch.weights[t] = Float(-p[k * m + t] * (mixed[t] - p[k * m + t] * u[k * m + t]) * weights[t]) }
                set.x.withUnsafeBufferPointer { px in
                    BLAS.gemv(transpose: true, m: m, n: e, a: px.baseAddress!, lda: e, x: scratch.weights.baseAddress!, y: scratch.cross.baseAddress!)
                }
                for j in 0..<e { model[j] += scale * Double(scratch.cross[j]) }
            }
            let solved = solveRow(
                g: model, v: rows[k], start: current[k], h: blocks[k], size: size, scale: scale, rho: rho, k1: k1, k2: k2,
                tolerance: tolerance
            ).w
            guard solved != current[k] else { return (solved, false) }
            for j in 0..<e { scratch.delta[j] = Float(solved[j] - rows[k][j]) }
            set.x.withUnsafeBufferPointer { px in
                BLAS.gemv(m: m, n: e, a: px.baseAddress!, lda: e, x: scratch.delta.baseAddress!, y: scratch.column.baseAddress!)
            }
            return (solved, true)
        }
        // From a start the model may begin above 0 (weights that crossed zero pay κ₁ twice): the
        // rounds' progress is measured from the start's own value. If they end no better than
        // no step at all, they begin again from 0.
        var previous = started ? modelValue() : 0
        while true {
            var value = previous
            for _ in 0..<Self.maxRounds {
                var largest = 0.0
                for group in groups {
                    // The classes of a group are solved from the same U, side by side (see `classPairs`).
                    var outcomes = [(next: [Double], moved: Bool)](repeating: ([], false), count: group.count)
                    let moving = moved
                    if workers > 1 && group.count > 1 {
                        let solver = UncheckedSendable(solveClass)
                        outcomes.withUnsafeMutableBufferPointer { out in
                            let shared = SharedBuffer(out.baseAddress!)
                            DispatchQueue.concurrentPerform(iterations: group.count) { lane in
                                shared.pointer[lane] = solver.value(group[lane], lane, moving)
                            }
                        }
                    } else {
                        for (lane, k) in group.enumerated() { outcomes[lane] = solveClass(k, lane: lane, crossTerms: moving) }
                    }
                    for (lane, k) in group.enumerated() where outcomes[lane].moved {
                        let column = lanes[lane].column
                        for t in 0..<m {
                            let value = Double(column[t])
                            mixed[t] += p[k * m + t] * (value - u[k * m + t])
                            u[k * m + t] = value
                        }
                        for j in 0..<e { largest = max(largest, abs(outcomes[lane].next[j] - current[k][j])) }
                        current[k] = outcomes[lane].next
                        moved = true
                    }
                }
                // The model, like the loss, is unchanged by a common shift of all class rows (its
                // Hessian has that null space); take the shift that minimises the penalty.
                var shift = [Double](repeating: 0, count: e)
                var any = false
                var values = [Double](repeating: 0, count: c)
                for j in 0..<size {
                    for k in 0..<c { values[k] = current[k][j] }
                    let t = commonShift(values, k1: k1, k2: k2 + rho)
                    if t != 0 {
                        shift[j] = t
                        any = true
                        for k in 0..<c { current[k][j] -= t }
                    }
                }
                if any {
                    for j in 0..<e { delta[j] = Float(shift[j]) }
                    product(delta)
                    // Σ_c p_tc = 1: the shift lowers each row's mixture by the same amount.
                    for k in 0..<c { for t in 0..<m { u[k * m + t] -= Double(column[t]) } }
                    for t in 0..<m { mixed[t] -= Double(column[t]) }
                }
                // Stop when a round improves the model by less than 1% of what the rounds so far achieved.
                value = modelValue()
                if largest <= tolerance || previous - value <= 0.01 * abs(value) { break }
                previous = value
            }
            guard started && value >= 0 else { break }
            (current, started, previous, moved) = (rows, false, 0, false)
            u.update(repeating: 0)
            mixed.update(repeating: 0)
        }
        var quadratic = scale * hessianQuadratic()  // plus the ridges, below
        var nextW = w
        var nextB = b
        for k in 0..<c {
            for (a, j) in set.columns.enumerated() {
                let change = current[k][a] - rows[k][a]
                nextW[k * d + j] = current[k][a]
                quadratic += rho * change * change
            }
            nextB[k] = current[k][size]
        }
        return (nextW, nextB, quadratic)
    }

    /// W with each neuron's column shifted across classes to minimise the penalty (the loss is
    /// unchanged). For NeuroX's Frobenius term the shift minimises its tangent majoriser, so the
    /// penalty still cannot rise.
    func centered(_ w: [Double], penalty: Penalty) -> [Double] {
        guard c > 1 else { return w }
        let (k1, k2) = penalty.coefficients(at: w)
        if case .neurox = penalty, k2 == 0 { return w }  // W = 0: nothing to centre
        var out = w
        var column = [Double](repeating: 0, count: c)
        for j in 0..<d where !constant[j] {
            for k in 0..<c { column[k] = w[k * d + j] }
            let t = commonShift(column, k1: k1, k2: k2)
            if t != 0 { for k in 0..<c { out[k * d + j] = w[k * d + j] - t } }
        }
        return out
    }
}

/// argmin_t Σ_c κ₁|a_c − t| + κ₂/2 (a_c − t)²: the derivative κ₂(C·t − Σa) + κ₁ Σ sign(t − a_c)
/// is increasing and piecewise linear; find where it crosses zero, segment by segment.
func commonShift(_ a: [Double], k1: Double, k2: Double) -> Double {
    let sorted = a.sorted()
    let n = Double(sorted.count)
    let sum = sorted.reduce(0, +)
    if k2 == 0 {  // the plain lasso: any median; take the middle one (0 when it is among them)
        let lower = sorted[(sorted.count - 1) / 2]
        let upper = sorted[sorted.count / 2]
        return lower <= 0 && 0 <= upper ? 0 : (abs(lower) < abs(upper) ? lower : upper)
    }
    // On the open segment with `below` values under t the derivative is k2(n t − sum) + k1(2·below − n).
    for below in 0...sorted.count {
        let t = (sum - k1 * (2 * Double(below) - n) / k2) / n
        let low = below == 0 ? -Double.infinity : sorted[below - 1]
        let high = below == sorted.count ? Double.infinity : sorted[below]
        if t > low && t < high { return t }
        // The minimum may sit exactly at a breakpoint, where the subgradient contains 0.
        if below < sorted.count {
            let x = sorted[below]
            let equal = Double(sorted.filter { $0 == x }.count)
            let under = Double(sorted.filter { $0 < x }.count)
            let smooth = k2 * (n * x - sum)
            let left = smooth + k1 * (under - (n - under))
            let right = smooth + k1 * ((under + equal) - (n - under - equal))
            if left <= 0 && right >= 0 { return x }
        }
    }
    return sum / n
}

/// A value handed to `concurrentPerform`'s workers that the compiler cannot prove safe to share:
/// here a local function whose lanes write disjoint scratch and read state nobody writes meanwhile.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
