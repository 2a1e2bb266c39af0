import SondeBase
import SondeModels
import SondeProbe
import SondeStudy

/// One property's probes on one layer of the last checkpoint, one per seed (`ProbeStudy.layer`):
/// each seed trains on its own 80% of the training rows and draws its own control task, so the
/// spread says how much the numbers depend on the sample.
struct ProbeCell: JSONCell {
    var property: String
    var layer: Int
    var key: String
    var extract: CellID

    var id: CellID { .probe(property: property, layer: layer) }
    var dependencies: [CellID] { [extract] }
    var output: String { "probe-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> ExperimentResults.LayerProbe {
        let x = try runner.activations(extract)[layer]
        let tokens = try runner.tokens(property).1
        let runs = runner.experiment.seeds.map { ProbeStudy.layer(x, tokens, settings: runner.probeSettings, seed: $0, subsample: 0.8) }
        let accuracy = meanAndSpread(runs.map { $0.splits["dev"]!.accuracy })
        let selectivity = meanAndSpread(runs.map { $0.splits["dev"]!.selectivity ?? 0 })
        return ExperimentResults.LayerProbe(
            layer: ActivationFile.layerName(layer), accuracy: accuracy.mean, accuracySD: accuracy.standardDeviation ?? 0, selectivity: selectivity.mean,
            selectivitySD: selectivity.standardDeviation ?? 0, majority: runs[0].splits["dev"]!.majorityBaseline,
            ranking: Array(runs[0].ranking.prefix(max(runner.experiment.k, 50))), warnings: runs[0].warnings)
    }
}
