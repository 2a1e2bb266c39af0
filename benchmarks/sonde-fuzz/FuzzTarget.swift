import Foundation
import SondeBase
import SondeCorpus
import SondeExperiment
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

/// One reader of outside data, fed the bytes of one input as the file a user would give it.
///
/// The oracle beyond "no crash, no sanitizer report": whatever a reader throws must be a
/// categorised error that names the file (or model folder) it is about, so that a stranger's
/// broken file always ends in `path[:line]: what is wrong` and a documented exit status.
enum FuzzTarget: String, CaseIterable {
    case conllu, ptb, tiger, alpino
    case neuroxText = "neurox-text"
    case neuroxJSON = "neurox-json"
    case hdf5, npy, npz, safetensors
    /// A model's config.json beside real weights (the fixture whose family it names).
    case config
    /// `model.safetensors.index.json` beside the sharded fixture's real shards.
    case shardIndex = "shard-index"
    case tokenizer, experiment, pairs, blimp
    /// `probes.tsv` of `sonde synthetic make`.
    case probes
    /// A probe saved by `sonde probe --save`.
    case probe
    /// An eraser saved by `sonde erase fit`.
    case eraser

    /// The name the input is written under: some readers go by the file's ending.
    var fileName: String {
        switch self {
        case .conllu: "input.conllu"
        case .ptb: "input.mrg"
        case .tiger: "input.tiger.xml"
        case .alpino: "input.alpino.xml"
        case .neuroxText: "input.txt"
        case .neuroxJSON: "input.json"
        case .hdf5: "input.hdf5"
        case .npy: "input.npy"
        case .npz: "input.npz"
        case .safetensors, .probe, .eraser: "input.safetensors"
        case .config: "config.json"
        case .shardIndex: "model.safetensors.index.json"
        case .tokenizer: "tokenizer.json"
        case .experiment: "study.toml"
        case .pairs: "pairs.tsv"
        case .blimp: "pairs.jsonl"
        case .probes: "probes.tsv"
        }
    }

    /// Properties asked of every corpus read: the tree, dependency and word properties.
    static let properties = [
        "upos", "xpos", "deprel", "head.direction", "head.distance", "dep.depth", "tree.tag", "tree.parent", "tree.chunk", "tree.depth",
        "function", "suffix.2", "feats.Number", "doc", "genre",
    ].compactMap(Property.init(name:))

    /// Reads the input at `path` (inside `folder`) as this target's format and uses what was read
    /// the way Sonde would next.
    func read(_ path: String, in folder: String) throws {
        switch self {
        case .conllu, .ptb, .tiger, .alpino, .neuroxText:
            let format: CorpusFormat = self == .conllu ? .conllu : self == .ptb ? .ptb : self == .tiger ? .tiger : self == .alpino ? .alpino : .text
            let lenient = try CorpusReader.read([path], format: format, skipInvalid: true)
            for property in Self.properties { _ = try? property.labels(lenient.corpus) }
            _ = CorpusSummary(lenient)
            _ = try CorpusReader.read([path], format: format)
        case .neuroxJSON, .hdf5, .npy, .npz, .safetensors:
            for tensor in try TensorCollection.read(path).tensors {
                _ = tensor.floats()
                if tensor.shape.count == 2 { _ = try tensor.matrix() }
            }
        case .probe:
            _ = try ProbeFile.read(path)
        case .eraser:
            let eraser = try ConceptEraser.read(path)
            _ = eraser.apply(Matrix<Float>(rows: 2, columns: eraser.neurons, repeating: 0.5))
        case .config, .shardIndex:
            let network = try TransformerNetwork(folder: folder)
            _ = try network.hiddenStates([[1, 2, 3], [4]])
        case .tokenizer:
            let tokenizer = try Tokenizer.read(path)
            try tokenizer.validate(vocabularySize: 1 << 20)
            for word in ["Hello", "naïve", "café", "1,234", "  ", "\u{7}", "日本語", "don't", "A" + String(repeating: "b", count: 40)] {
                _ = try tokenizer.encode(word: word)
            }
            for line in [" leading  and double spaces ", "emoji 🙂 e\u{301} \t\n", "<s> <|endoftext|> 12345", ""] {
                let tokens = tokenizer.encode(text: line)
                let count = line.unicodeScalars.count
                guard tokens.allSatisfy({ $0.characters.lowerBound >= 0 && $0.characters.upperBound <= count }) else {
                    throw OracleFailure(description: "a token's characters fall outside the \(count)-character line \(line.debugDescription)")
                }
                _ = TextAlignment(words: line.split(separator: " ").map(String.init), spaceAfter: line.split(separator: " ").map { _ in true }, tokenizer: tokenizer)
            }
        case .experiment:
            let experiment = try Experiment.read(path)
            _ = try ExperimentRunner(experiment).plan()
        case .pairs, .blimp:
            _ = try MinimalPairs.read(path)
        case .probes:
            _ = try ConduitProbes.read(path)
        }
    }

    /// The fixtures an input is read beside (Tests/Fixtures/models; an experiment's corpus).
    func templateFolder(for data: Data, fixtures: String) -> String? {
        switch self {
        case .experiment: return fixtures + "/../corpora"
        case .shardIndex: return fixtures + "/roberta-sharded"
        case .config:
            let text = String(decoding: data, as: UTF8.self)
            let families = [
                ("gpt_neox", "neox-legacy"), ("roberta", "roberta-sharded"), ("bert", "bert-bf16"), ("gemma2", "gemma2-bf16"), ("olmo2", "olmo2"),
                ("qwen3", "qwen3-qknorm"), ("qwen2", "qwen2-dynamic"), ("mistral", "mistral-window"), ("yarn", "llama-yarn-tied-legacy"),
                ("llama", "llama-gqa-llama3"),
            ]
            for (type, fixture) in families where text.contains(type) {
                return fixtures + "/" + fixture
            }
            return fixtures + "/gpt2-inverse-scale"
        default: return nil
        }
    }
}

/// Why an input failed the oracle (the fuzzer stops on it and keeps the input).
struct OracleFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs one target on one input, in a scratch folder of its own that is reused between inputs
/// (model fixtures copied in once: copies, not links, which the shard reader refuses).
final class FuzzRunner {
    let target: FuzzTarget
    let scratch: String
    let fixtures: String

    init(target: FuzzTarget, fixtures: String) throws {
        self.target = target
        self.fixtures = fixtures
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        scratch = base + "sonde-fuzz-\(target.rawValue)-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    /// The folder for `data`: the target's template fixture's files, with the input as `fileName`.
    private func folder(for data: Data) throws -> String {
        guard let template = target.templateFolder(for: data, fixtures: fixtures) else { return scratch }
        let folder = scratch + "/" + (template as NSString).lastPathComponent
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.copyItem(atPath: template, toPath: folder)
        }
        return folder
    }

    func run(_ data: Data) throws {
        let folder = try folder(for: data)
        let path = folder + "/" + target.fileName
        try data.write(to: URL(fileURLWithPath: path))
        do {
            try target.read(path, in: folder)
        } catch let error as CategorizedError {
            let message = error.description
            // A file the input names (an experiment's treebank) may be missing: its own path is said.
            let named = message.contains(path) || message.contains(folder) || error is PropertyError || error.category == .missingInput
            guard named, error.category == .malformedInput || error.category == .missingInput || error.category == .usage else {
                throw OracleFailure(description: "\(target.rawValue): an error that does not name the file or is miscategorised (\(error.category)): \(message)")
            }
        } catch {
            throw OracleFailure(description: "\(target.rawValue): an uncategorised error \(type(of: error)): \(error)")
        }
    }
}
