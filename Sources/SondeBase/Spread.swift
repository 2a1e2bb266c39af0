/// The mean and the sample standard deviation (divisor n − 1; nil for fewer than two values)
/// of repeated measurements: random selections, shuffled baselines.
public func meanAndSpread(_ values: [Double]) -> (mean: Double, standardDeviation: Double?) {
    guard !values.isEmpty else { return (.nan, nil) }
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (mean, nil) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, variance.squareRoot())
}
