import Foundation
import SondeBase
import SondeModels
import SondeStudy

extension ExperimentRunner {
    /// The results from the cache; every cell must be done (the error lists those that are not).
    public func assemble() throws -> ExperimentResults {
        let e = experiment
        let layout = try self.layout()
        let plan = try self.plan(), done = Set(plan.done)
        let missing = plan.cells.filter { !done.contains($0.id) }
        guard missing.isEmpty else {
            throw StudyError(
                "\(missing.count) of \(layout.cells.count) cells are not in \(cache): \(missing.map(\.id.description).joined(separator: ", ")); run them (or their shards) first"
            )
        }
        func records(_ model: CellID.TrainedModel) throws -> [LSTMCheckpoint] {
            guard let cell = layout.training[model] else { return [] }
            try ensureIntact(cell.id)
            return try cell.settings.checkpointSteps.map { step in
                let path = cell.checkpoint(step, in: cache)
                var record = try JSONCoding.decoder().decode(LSTMCheckpoint.self, from: MappedFile.data(path + "/trainer_state.json"))
                record.folder = e.relative(path)
                return record
            }
        }
        let lm = try records(.lm)
        var warnings = Self.convergenceWarnings(lm)
        if let first = e.properties.first, e.models == nil {
            let labels = Set(try tokens(first).0.labels.joined())
            warnings += Self.concentrationWarning(lm, labels: labels, property: first).map { [$0] } ?? []
        }
        var properties: [ExperimentResults.PropertyResult] = []
        for cells in layout.properties {
            let name = cells.name
            let layers = try cells.probes.map { try $0.read(self) }
            warnings += Self.warnings(name, layers)
            if let top = layers.first, layers.allSatisfy({ $0.accuracy <= top.majority + 1e-9 }) {
                warnings.append("\(name): no layer beats the majority baseline \(String(format: "%.3f", top.majority)) on dev")
            }
            let analysis = try cells.analysis.read(self)
            let dynamics = try cells.dynamics.read(self), toReference = try cells.toReference?.read(self)
            if properties.isEmpty {
                // The similarity columns are the same for every property: said once.
                warnings += Self.keptDirectionWarnings(dynamics, to: "the last checkpoint")
                warnings += toReference.map { Self.keptDirectionWarnings($0, to: e.models == nil ? "the tagger" : "the reference") } ?? []
            }
            let toReferences = try cells.toReferences.map { try $0.read(self) }
            if properties.isEmpty {
                for (reference, d) in zip(e.references, toReferences) { warnings += Self.keptDirectionWarnings(d, to: "the \(reference) reference") }
            }
            let sparsity = try cells.sparsity?.read(self).result
            if let sparsity, sparsity.allNeuronsAccuracy <= sparsity.majorityBaseline + 0.01 {
                warnings.append(
                    "\(name): the sparsity curves' probe on every neuron of \(layers[analysis.best].layer) is at the majority baseline on dev")
            }
            let erasure = try cells.erasure?.read(self).result
            if let erasure, erasure.probeAfter > erasure.majority + 0.02 {
                warnings.append(
                    "\(name): after LEACE at \(erasure.layer) a probe still reaches \(String(format: "%.3f", erasure.probeAfter)) on dev (majority \(String(format: "%.3f", erasure.majority))): the erasure does not carry over from the training rows"
                )
            }
            properties.append(
                .init(
                    property: name, layers: layers, bestLayer: layers[analysis.best].layer, topNeurons: analysis.topNeurons,
                    topWeights: analysis.topWeights, ablation: analysis.ablation, topWords: analysis.topWords,
                    dynamics: dynamics, dynamicsToTagger: toReference,
                    dynamicsToReferences: toReferences.isEmpty ? nil : Dictionary(uniqueKeysWithValues: zip(e.references, toReferences)),
                    fineTuning: try cells.fineTuning?.read(self), sparsity: sparsity, erasure: erasure))
        }
        var results = ExperimentResults(
            version: Self.version, experiment: e.portable,
            inputHashes: Dictionary(uniqueKeysWithValues: layout.hashes.map { (e.relative($0.key), $0.value) }), checkpoints: lm,
            tagger: try records(.tagger).last, finetuned: try records(.finetune).last, checkpointNames: layout.series.map(\.name),
            properties: properties, interactions: e.interactions == nil ? nil : try layout.interactions.map { try $0.read(self) },
            warnings: warnings)
        results.taskSpaces = try taskSpaceResults(layout, records: records, warnings: &results.warnings)
        if !e.references.isEmpty {
            results.references = try Dictionary(uniqueKeysWithValues: e.references.map { ($0, try records(.reference($0)).last!) })
        }
        results.claims = e.claims.map { Claim.verdicts($0, on: results) }
        return results
    }

    /// The spaces over training and across sizes; each other size's convergence is checked as
    /// the language model's is.
    private func taskSpaceResults(
        _ layout: StudyLayout, records: (CellID.TrainedModel) throws -> [LSTMCheckpoint], warnings: inout [String]
    ) throws -> ExperimentResults.TaskSpaceResults? {
        guard experiment.taskSpace != nil else { return nil }
        let spaces = try layout.taskSpaces.map { try $0.read(self) }
        for (cell, space) in zip(layout.taskSpaces, spaces) { warnings += space.warnings.map { "task space at \(cell.model): \($0)" } }
        let sizes = try layout.sizeSpaces.map { hidden, cell in
            let trained = try records(.size(hidden))
            let space = try cell.read(self)
            warnings += Self.convergenceWarnings(trained).map { "hidden \(hidden): \($0)" }
            warnings += space.warnings.map { "task space at hidden \(hidden): \($0)" }
            return ExperimentResults.TaskSpaceResults.Size(hidden: hidden, training: trained.last!, space: space)
        }
        return .init(checkpoints: layout.taskSpaces.map(\.model), spaces: spaces, stability: TaskSpace.stability(spaces), sizes: sizes)
    }

    /// A warning when the language model's concentration by label is grouped by labels that are
    /// not the first property's: the LM's cache key does not name that property, so a cache shared
    /// with a study whose first property differs holds that study's grouping.
    static func concentrationWarning(_ checkpoints: [LSTMCheckpoint], labels: Set<String>, property: String) -> String? {
        guard let grouped = checkpoints.last?.concentration.map({ Set($0.byLabel.keys) }), !grouped.isSubset(of: labels) else { return nil }
        let foreign = grouped.subtracting(labels).sorted().prefix(3).joined(separator: ", ")
        return
            "the language model's concentration by label is grouped by labels that are not \(property)'s (\(foreign), …): its checkpoints were trained in this cache by a study whose first property differs; give this study its own cache to group them by \(property)"
    }

    /// Each layer's probe warnings, and a warning for a layer whose mean dev accuracy over the
    /// seeds is within one SD of the majority baseline (the first seed's probe may be just above).
    static func warnings(_ property: String, _ layers: [ExperimentResults.LayerProbe]) -> [String] {
        layers.flatMap { layer in
            var out = layer.warnings.map { "\(property), \(layer.layer): \($0)" }
            if layer.accuracy - layer.majority <= max(layer.accuracySD, 1e-9) && !layer.warnings.contains(where: { $0.contains("majority") }) {
                out.append(
                    String(
                        format: "%@, %@: mean dev accuracy %.4f ± %.4f is within one SD of the majority baseline %.4f: no sign of the property there",
                        property, layer.layer, layer.accuracy, layer.accuracySD, layer.majority))
            }
            return out
        }
    }

    /// A warning for each layer whose SVCCA keeps directions differing more than 4× over the
    /// checkpoints: its mean canonical correlation then averages 2 numbers at one checkpoint and
    /// 198 at another, and a rise or fall may be that alone.
    static func keptDirectionWarnings(_ d: Dynamics, to reference: String) -> [String] {
        guard d.measures.contains("svcca") else { return [] }
        return d.layers.compactMap { layer in
            let kept = d.rows.filter { $0.layer == layer }.map { ($0.checkpoint, $0.svccaDirections.first ?? 0) }
            guard let low = kept.min(by: { $0.1 < $1.1 }), let high = kept.max(by: { $0.1 < $1.1 }), high.1 > 4 * max(low.1, 1) else { return nil }
            return
                "\(layer): SVCCA to \(reference) keeps \(low.1) direction\(low.1 == 1 ? "" : "s") at \(low.0) and \(high.1) at \(high.0): its mean correlation compares unlike subspaces over training; read svcca-20 (a fixed number of directions), pwcca or cka beside it"
        }
    }

    /// Writes results.json and report.html into the experiment's output folder (each atomically);
    /// returns their paths.
    @discardableResult
    public func write(_ results: ExperimentResults) throws -> (results: String, report: String) {
        let encoder = JSONCoding.encoder(pretty: true)
        let out = experiment.output
        // The cache may be elsewhere (`cache`), so the output folder may not exist yet.
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw FileError(.cannotWrite, out, "cannot create the output folder (\(error.localizedDescription))")
        }
        try AtomicFile.write(to: out + "/results.json") { try $0.write(Array(try encoder.encode(results)) + [0x0A]) }
        try AtomicFile.write(to: out + "/report.html") { try $0.write(Array(ExperimentReport.html(results).utf8)) }
        return (out + "/results.json", out + "/report.html")
    }

    /// Whether the language model was trained to convergence, read from its dev perplexity at
    /// the checkpoints: not finite (diverged); more than 2% above its best (over-trained: early
    /// stopping ends at the best step; best at the first checkpoint: it never improved); or still
    /// falling by more than 2% over a last interval of at most a quarter of the run — with
    /// log-spaced checkpoints the last interval is half the run, where a fall cannot tell a flat
    /// end from a falling one, and nothing is said.
    static func convergenceWarnings(_ checkpoints: [LSTMCheckpoint]) -> [String] {
        let measured = checkpoints.compactMap { c in c.devPerplexity.map { (step: c.step, perplexity: $0) } }
        guard measured.count >= 2 else { return [] }
        let p = { (x: Double) in String(format: "%.1f", x) }
        if let bad = measured.first(where: { !$0.perplexity.isFinite }) {
            return [
                "the language model's dev perplexity is \(bad.perplexity) at step \(bad.step): training diverged; a lower [lstm] learning_rate may help"
            ]
        }
        let best = measured.min { $0.perplexity < $1.perplexity }!
        let last = measured[measured.count - 1], before = measured[measured.count - 2]
        if last.perplexity > best.perplexity * 1.02 {
            if best.step == measured[0].step {
                return [
                    "the language model's dev perplexity is lowest at its first checkpoint (\(p(best.perplexity))): training never improved on it; a lower [lstm] learning_rate may help"
                ]
            }
            return [
                "the language model's dev perplexity is lowest at step \(best.step) (\(p(best.perplexity))) and \(p(last.perplexity)) at step \(last.step): it overfits after step \(best.step), where early stopping would end training ([lstm] steps)"
            ]
        }
        if last.perplexity < before.perplexity / 1.02 && 4 * (last.step - before.step) <= last.step {
            return [
                "the language model's dev perplexity still falls (\(p(before.perplexity)) at step \(before.step), \(p(last.perplexity)) at step \(last.step)): it has not converged; more [lstm] steps train it further"
            ]
        }
        return []
    }
}
