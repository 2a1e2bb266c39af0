import ArgumentParser
import Foundation
import SondeLinalg
import SondeProbe
import SondeSimilarity
import SondeStudy

extension NeuronLoading: ExpressibleByArgument {}

struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Relate a neuron ranking (and a probe) to the canonical directions between two sets of activations.",
        discussion: """
            X and Y are activations of the same tokens (a layer at two checkpoints, a model and a \
            tagger, pre-trained and fine-tuned); the ranking is a saved probe's (its top --top neurons \
            by standardised weight, NeuroX's ordering) or --neurons. Alignment: the share of the \
            correlation-weighted canonical direction mass that the ranked neurons hold, the mass \
            being each direction's squared loadings (corr(neuron, variate), scale-free; --by weights: \
            its squared unit weights), with its exact chance k/D, SD and z over random sets of k \
            neurons, and the same neurons against the directions of --shuffles row-shuffled \
            pairings. With --probe, in X's whitened coordinates: the share of the probe's logit \
            variance in the canonical span (energy, chance m/r), the mean ρ of the directions it \
            lies in, the principal angles to the span, and the share that comes from the principal \
            directions SVCCA kept (low: the probe reads directions the variance rule discards).

            Directions: svcca (default: every canonical pair of SVCCA at --keep of the variance), N \
            (the N leading pairs by ρ), all (plain CCA: invariant to rescaling a neuron). X against \
            itself makes every ρ 1 and the directions arbitrary: reported as degenerate, without z.

            Examples:
              sonde align step-100.safetensors step-400.safetensors --layer layer2 --probe upos.safetensors
              sonde align x.npy y.npy --neurons 3,17,40 --directions 20 --json
            """)

    @Argument(help: "Activations X (.npy, .npz, safetensors, NeuroX JSON/HDF5); the ranking's neurons are X's.") var x: String
    @Argument(help: "Activations Y of the same tokens.") var y: String
    @Option(help: "The tensor to use in both files (e.g. layer2 or 2).") var layer: String?
    @Option(help: "The tensor of X (default --layer).") var layerX: String?
    @Option(help: "The tensor of Y (default --layer).") var layerY: String?
    @Option(help: "A probe saved by `sonde probe --save` on X's neurons: its ranking, and the probe-subspace figures.") var probe: String?
    @Option(help: "Instead of --probe: the neurons, comma-separated (e.g. 3,17,40).") var neurons: String?
    @Option(help: "With --probe: how many of its top neurons.") var top = 10
    @Option(help: "svcca, all, or a number of leading canonical pairs.") var directions = "svcca"
    @Option(help: "SVCCA's share of each side's variance kept.") var keep = 0.99
    @Option(help: "loadings (corr(neuron, variate)) or weights (unit canonical weights).") var by: NeuronLoading = .loadings
    @Option(help: "Row-shuffled pairings for the directions' null (0: none).") var shuffles = 3
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (probe == nil) == (neurons == nil) { throw ValidationError("give the ranking with --probe FILE or --neurons 3,17,…") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard (0...1000).contains(shuffles) else { throw ValidationError("--shuffles must be in 0…1000") }
        try requireNumber("keep", keep, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        _ = try choice()
    }

    func choice() throws -> CanonicalDirections {
        switch directions {
        case "svcca": return .svcca(.variance(keep))
        case "all": return .all
        default:
            guard let n = Int(directions), n >= 1 else { throw ValidationError("--directions: svcca, all, or a number ≥ 1, not '\(directions)'") }
            return .leading(n, .variance(keep))
        }
    }

    func run() throws {
        let a = try loadActivations(x, layer: layerX ?? layer), b = try loadActivations(y, layer: layerY ?? layer)
        guard a.rows == b.rows else { throw CLIError("\(x) has \(a.rows) rows and \(y) \(b.rows): X and Y must be the same tokens") }
        let fitted = try probe.map { path in try ProbeFile.read(path) }
        if let fitted, fitted.neurons != a.columns {
            throw CLIError("\(probe!) was fitted on \(fitted.neurons) neurons; X has \(a.columns): pass the activations it was fitted on")
        }
        let chosen: [Int]
        if let fitted {
            chosen = Array(Rankings.neuronOrdering(fitted.standardizedWeights).ordering.prefix(top))
        } else {
            chosen = try neurons!.split(separator: ",").map { item in
                guard let n = Int(item.trimmingCharacters(in: .whitespaces)), (0..<a.columns).contains(n) else {
                    throw ValidationError("--neurons: '\(item)' is not a neuron of X (0…\(a.columns - 1))")
                }
                return n
            }
            guard Set(chosen).count == chosen.count else { throw ValidationError("--neurons names a neuron twice") }
        }
        let result = try CanonicalAlignment.measure(
            x: a, y: b, neurons: chosen, probeWeights: fitted?.weights, directions: try choice(), by: by, shuffles: shuffles)
        if output.json { return try printJSON(result) }
        print("\(a.rows) tokens; X \(a.columns) neurons, Y \(b.columns) neurons; \(result.directions) canonical directions"
            + (result.principalDirections.map { " (SVCCA kept \($0[0]) and \($0[1]) principal directions)" } ?? " (plain CCA)"))
        print("neurons: \(chosen.map(String.init).joined(separator: " "))")
        let z = result.z.map { String(format: "%+.2f", $0) } ?? "– (undefined)"
        print("alignment by \(by.rawValue): \(f(result.alignment)); chance \(f(result.chance)) ± \(f(result.nullSD)), z \(z)")
        if let s = result.shuffled { print("against shuffled pairings: \(f(s)) ± \(f(result.shuffledSD ?? 0)) (\(shuffles) shuffles)") }
        if let p = result.probe {
            print("probe energy in the canonical span: \(f(p.energy)) (chance \(f(p.energyChance))"
                + (p.shuffledEnergy.map { "; shuffled pairings \(f($0)) ± \(f(p.shuffledEnergySD ?? 0))" } ?? "") + ")")
            print("probe ρ: \(f(p.correlation)) (mean ρ \(f(p.correlationChance)))")
            if let kept = p.inKeptComponents { print("probe energy from SVCCA's kept principal directions: \(f(kept)) (chance \(f(p.inKeptComponentsChance ?? 0)))") }
            print("principal angles' cosines: \(p.cosines.prefix(8).map(f).joined(separator: " "))\(p.cosines.count > 8 ? " …" : "")")
        }
        result.warnings.forEach { print("warning: " + $0) }
    }
}
