import SondeBase
import SondeLinalg

/// Synthetic activations with a known answer, for tests, benchmarks and demos (package-internal, not API): a few planted
/// neurons carry the label, each has noisy redundant copies, and the rest are distractors.
///
/// Each class y has a prototype μ_y ~ N(0, separation²) over the planted neurons; a token of
/// class y has planted values μ_y + N(0, 1), copy values planted + N(0, copyNoise²), and
/// distractors N(0, 1) (a third of them share a common factor, so they correlate as real neurons
/// do). Column positions are shuffled so that planted neurons are not simply the first ones.
package struct PlantedData: Sendable {
    package let dataset: ProbeDataset
    /// The neurons that determine the label.
    package let planted: [Int]
    /// For each planted neuron, its noisy copies.
    package let copies: [[Int]]

    package init(
        samples n: Int, neurons d: Int, classes c: Int, planted k: Int, copies perNeuron: Int = 2, separation: Double = 2,
        copyNoise: Double = 0.3, seed: UInt64 = 1
    ) {
        precondition(k * (1 + perNeuron) <= d && c >= 2 && n > 0)
        var random = SplitMix64(seed: seed)
        let positions = random.shuffled(Array(0..<d))
        let plantedColumns = Array(positions[0..<k])
        let copyColumns = (0..<k).map { p in Array(positions[(k + p * perNeuron)..<(k + (p + 1) * perNeuron)]) }
        let distractors = Array(positions[(k * (1 + perNeuron))...])
        let prototypes = (0..<c).map { _ in (0..<k).map { _ in random.normal() * separation } }
        var labels = [Int](repeating: 0, count: n)
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let y = random.below(c)
            labels[i] = y
            let base = i * d
            for p in 0..<k {
                let v = prototypes[y][p] + random.normal()
                values[base + plantedColumns[p]] = Float(v)
                for column in copyColumns[p] { values[base + column] = Float(v + copyNoise * random.normal()) }
            }
            let common = random.normal()
            for (t, column) in distractors.enumerated() {
                values[base + column] = Float(random.normal() + (t % 3 == 0 ? common : 0))
            }
        }
        dataset = ProbeDataset(x: Matrix(rows: n, columns: d, elements: values), labels: labels, classes: (0..<c).map { "class\($0)" })
        planted = plantedColumns
        copies = copyColumns
    }
}
