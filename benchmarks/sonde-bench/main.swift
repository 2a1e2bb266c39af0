import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe

// Sonde's benchmarks. Each suite runs Sonde and its Python peer on the same data in the same run
// and prints both figures and their ratio (the machine is noisy: only ratios are comparable).

struct Options {
    var python = "python3"
    var peers = "peers"
    var data = ".data"
    var shared = "../shared"
    var repeats = 5
    var suites: [String] = []

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            func value() -> String { i += 1; return arguments[i] }
            switch a {
            case "--python": python = value()
            case "--peers": peers = value()
            case "--data": data = value()
            case "--shared": shared = value()
            case "--repeats": repeats = Int(value())!
            default: suites.append(a)
            }
            i += 1
        }
        if suites.isEmpty { suites = ["foundation", "corpus", "probe"] }
    }
}

/// Writes a line to stdout at once (print buffers when stdout is a file or pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.min()!
}

/// Runs a peer script and returns its JSON object.
func runPeer(_ options: Options, _ script: String, _ arguments: [String]) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: options.python)
    process.arguments = ["\(options.peers)/\(script)"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice  // the peers' progress bars
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fatalError("peer \(script) failed") }
    // The result is the last line (NeuroX prints its own messages to stdout before it).
    let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
    return try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
}

func row(_ what: String, _ sonde: String, _ peer: String, _ ratio: String) {
    say(
        what.padding(toLength: 54, withPad: " ", startingAt: 0) + sonde.padding(toLength: 16, withPad: " ", startingAt: 0)
            + peer.padding(toLength: 16, withPad: " ", startingAt: 0) + ratio)
}

/// Reads a whole file into memory with read(2): the floor any reader is measured against.
func plainRead(_ path: String, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var total = 0
    while true {
        let n = read(fd, buffer.baseAddress! + total, min(buffer.count - total, 1 << 26))
        precondition(n >= 0)
        if n == 0 { break }
        total += n
    }
    return total
}

func foundation(_ options: Options) throws {
    // 1 GB of float32: 262,144 × 1,024.
    let rows = 262_144
    let columns = 1_024
    let npyPath = options.data + "/big.npy"
    let stPath = options.data + "/big.safetensors"
    if !FileManager.default.fileExists(atPath: stPath) || !FileManager.default.fileExists(atPath: npyPath) {
        FileHandle.standardError.write(Data("writing 1 GB inputs into \(options.data)…\n".utf8))
        var g = SystemRandomNumberGenerator()
        let m = Matrix<Float>(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Float.random(in: -1...1, using: &g) })
        try NPY.write(TensorPayload(name: "x", matrix: m), to: npyPath)
        try Safetensors.write([TensorPayload(name: "x", matrix: m)], metadata: ["what": "benchmark"], to: stPath)
    }
    let peer = try runPeer(options, "foundation.py", [options.data, String(options.repeats)])

    // sgemm 2048²
    let n = 2048
    var g = SystemRandomNumberGenerator()
    let a = Matrix<Float>(rows: n, columns: n, elements: (0..<n * n).map { _ in Float.random(in: -1...1, using: &g) })
    let b = Matrix<Float>(rows: n, columns: n, elements: (0..<n * n).map { _ in Float.random(in: -1...1, using: &g) })
    var c = Matrix<Float>(rows: n, columns: n)
    c.addProduct(a, b, beta: 0)  // warm up
    let sgemm = best(options.repeats) { c.addProduct(a, b, beta: 0) }
    let flops = 2.0 * Double(n * n * n)
    let peerSgemm = peer["sgemm_seconds"] as! Double

    // Reading 1 GB
    let size = (try FileManager.default.attributesOfItem(atPath: npyPath)[.size] as! NSNumber).intValue
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 4096, alignment: 64)
    defer { buffer.deallocate() }
    _ = plainRead(npyPath, into: buffer)  // warm the page cache
    let plain = best(options.repeats) { _ = plainRead(npyPath, into: buffer) }
    var checksum: Float = 0
    let npyMatrix = try best(options.repeats) {
        let m = try TensorCollection.read(npyPath).tensors[0].matrix()
        checksum += m[rows - 1, columns - 1]
    }
    let stMatrix = try best(options.repeats) {
        let m = try TensorCollection.read(stPath)["x"]!.matrix()
        checksum += m[rows - 1, columns - 1]
    }
    let stView = try best(options.repeats) {
        let t = try TensorCollection.read(stPath)["x"]!
        checksum += t.withUnsafeBytes { $0.load(fromByteOffset: $0.count - 4, as: Float.self) }
    }

    say(
        "foundation benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS threads \(BLASThreads.count), best of \(options.repeats)"
    )
    say("peer: numpy \(peer["numpy"]!) on \((peer["blas"] as? [String])?.joined(separator: ", ") ?? "?")")
    row("", "Sonde", "peer", "ratio")
    row(
        "sgemm 2048² (GFLOP/s; numpy a @ b)", String(format: "%.1f", flops / sgemm / 1e9),
        String(format: "%.1f", flops / peerSgemm / 1e9), String(format: "%.2f× numpy's speed", peerSgemm / sgemm))
    let gb = Double(size) / 1e9
    row("read 1 GB: plain read(2), warm buffer (s)", String(format: "%.3f", plain), "", String(format: "%.2f GB/s", gb / plain))
    row(
        "read 1 GB .npy into a Matrix (s; np.load)", String(format: "%.3f", npyMatrix),
        String(format: "%.3f", peer["npy_seconds"] as! Double), String(format: "%.2f× plain read", npyMatrix / plain))
    row(
        "read 1 GB safetensors into a Matrix (s; load_file)", String(format: "%.3f", stMatrix),
        String(format: "%.3f", peer["safetensors_seconds"] as! Double), String(format: "%.2f× plain read", stMatrix / plain))
    row("open 1 GB safetensors as a mapped view (s)", String(format: "%.6f", stView), "", String(format: "%.4f× plain read", stView / plain))
    if checksum.isNaN { say("") }  // keeps the reads from being optimised away
}

/// Reading treebanks: EWT train (CoNLL-U, 14 MB) beside the `conllu` and `pyconll` packages, and
/// TIGER-XML throughput on EWT train converted to TIGER-XML.
func corpus(_ options: Options) throws {
    let ewt = options.shared + "/corpora/ud-english-ewt/en_ewt-ud-train.conllu"
    guard FileManager.default.fileExists(atPath: ewt) else { fatalError("\(ewt) not found: pass --shared PATH") }
    let peer = try runPeer(options, "corpus.py", [ewt, "3"])
    var sentences = 0
    var words = 0
    let sonde = try best(options.repeats) {
        let c = try CorpusReader.read([ewt], format: .conllu).corpus
        sentences = c.sentences.count
        words = c.wordCount
    }
    precondition(sentences == peer["conllu_sentences"] as! Int && words == peer["conllu_words"] as! Int, "readers disagree")
    let tiger = options.data + "/ewt-train.tiger.xml"
    if !FileManager.default.fileExists(atPath: tiger) {
        try TigerWriter.write(try CorpusReader.read([ewt]).corpus, to: tiger)
    }
    var tigerWords = 0
    let tigerSeconds = try best(options.repeats) { tigerWords = try CorpusReader.read([tiger], format: .tiger).corpus.wordCount }
    precondition(tigerWords == words)
    let megabytes = { (path: String) in Double((try! FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue) / 1e6 }
    let (mb, tigerMB) = (megabytes(ewt), megabytes(tiger))
    let conlluSeconds = peer["conllu_seconds"] as! Double
    let pyconllSeconds = peer["pyconll_seconds"] as! Double
    say(
        "corpus benchmark — EWT train: \(sentences) sentences, \(words) words, \(String(format: "%.1f", mb)) MB; best of \(options.repeats) (peers: best of 3)"
    )
    row("", "Sonde", "peer", "ratio")
    row(
        "read CoNLL-U (MB/s; conllu.parse)", String(format: "%.1f", mb / sonde), String(format: "%.2f", mb / conlluSeconds),
        String(format: "%.1f× the conllu package", conlluSeconds / sonde))
    row(
        "read CoNLL-U (MB/s; pyconll.load_from_file)", String(format: "%.1f", mb / sonde), String(format: "%.2f", mb / pyconllSeconds),
        String(format: "%.1f× pyconll", pyconllSeconds / sonde))
    row(
        "read TIGER-XML, EWT train as TIGER (MB/s)", String(format: "%.1f", tigerMB / tigerSeconds), "",
        String(format: "%.1f MB in %.3f s", tigerMB, tigerSeconds))
}

/// Probe training on planted data (200,000 train + 50,000 test tokens × 768 neurons × 17
/// classes): NeuroX's trainer and scikit-learn's saga (peers/probe.py) against Sonde on the same
/// files, at NeuroX's objective (λ1 = λ2 = 1e-5) and at one elastic net (λ = 1e-4, α = 0.5).
func probe(_ options: Options) throws {
    let prefix = options.data + "/planted"
    let (n, test, d, c) = (200_000, 50_000, 768, 17)
    if !FileManager.default.fileExists(atPath: prefix + ".test.y.npy") {
        say("writing planted data into \(options.data)…")
        let all = PlantedData(samples: n + test, neurons: d, classes: c, planted: 24, copies: 2, seed: 7).dataset
        try saveProbeData(all, train: 0..<n, test: n..<(n + test), prefix: prefix)
    }
    try compareProbes(options, prefix: prefix, title: "planted \(n) train + \(test) test tokens × \(d) neurons × \(c) classes")
}

/// The same comparison on real activations: the zoo's GPT-2 (step 1200), layer 2, every word of
/// EWT train (train) and dev (test), UPOS.
func probeReal(_ options: Options) throws {
    let (prefix, title) = try realProbeData(options)
    try compareProbes(options, prefix: prefix, title: title)
}

/// Writes (once) the real-activation probe data and returns its file prefix and a title.
func realProbeData(_ options: Options) throws -> (prefix: String, title: String) {
    let prefix = options.data + "/zoo-gpt-layer2"
    func title(_ n: Int, _ m: Int, _ h: Int, _ c: Int) -> String {
        "zoo gpt-step1200 layer 2, EWT train \(n) words / dev \(m) words × \(h) neurons × \(c) UPOS"
    }
    if FileManager.default.fileExists(atPath: prefix + ".test.y.npy") {
        let x = try TensorCollection.read(prefix + ".train.x.npy").tensors[0], y = try TensorCollection.read(prefix + ".train.y.npy").tensors[0]
        let m = try TensorCollection.read(prefix + ".test.y.npy").tensors[0].shape[0]
        return (prefix, title(x.shape[0], m, x.shape[1], (y.integers()!.max() ?? 0) + 1))
    }
    let zoo = options.shared + "/zoo"
    let ewt = options.shared + "/corpora/ud-english-ewt/en_ewt-ud-"
    let extractor = try TransformerModel(
        network: try TransformerNetwork(folder: zoo + "/gpt-step1200"), tokenizer: try Tokenizer.read(zoo + "/tokenizer/tokenizer.json"))
    var classes: [String] = []
    var parts: [(x: [Float], labels: [String])] = []
    for split in ["train", "dev"] {
        let corpus = try CorpusReader.read([ewt + split + ".conllu"]).corpus
        var rows: [Float] = []
        try extractor.extract(corpus.sentences.map { $0.words.map(\.form) }, layers: [2], aggregate: .last) { _, v in rows += v[0].elements }
        parts.append((rows, try Property(name: "upos")!.labels(corpus).flatMap { $0 }))
    }
    classes = Array(Set(parts[0].labels)).sorted()
    let h = extractor.network.config.hiddenSize
    let x = Matrix<Float>(rows: (parts[0].x.count + parts[1].x.count) / h, columns: h, elements: parts[0].x + parts[1].x)
    let all = ProbeDataset(x: x, labels: parts[0].labels + parts[1].labels, classes: classes)
    let n = parts[0].labels.count
    try saveProbeData(all, train: 0..<n, test: n..<all.count, prefix: prefix)
    return (prefix, title(n, all.count - n, h, classes.count))
}

func saveProbeData(_ all: ProbeDataset, train: Range<Int>, test: Range<Int>, prefix: String) throws {
    func save(_ rows: Range<Int>, _ name: String) throws {
        try NPY.write(TensorPayload(name: "x", matrix: all.x.rows(rows)), to: prefix + ".\(name).x.npy")
        // Unseen test labels (-1) become class 0 for the peers, which cannot hold them; there are none in EWT dev.
        try NPY.write(
            TensorPayload(name: "y", shape: [rows.count], dtype: .int64, values: .int64(rows.map { Int64(max(all.labels[$0], 0)) })),
            to: prefix + ".\(name).y.npy")
    }
    try save(train, "train")
    try save(test, "test")
}

func compareProbes(_ options: Options, prefix: String, title: String) throws {
    func dataset(_ name: String) throws -> ProbeDataset {
        let x = try TensorCollection.read(prefix + ".\(name).x.npy").tensors[0].matrix()
        let y = try TensorCollection.read(prefix + ".\(name).y.npy").tensors[0].integers()!
        return ProbeDataset(x: x, labels: y, classes: (0..<((y.max() ?? 0) + 1)).map { "class\($0)" })
    }
    let train = try dataset("train")
    let heldRaw = try dataset("test")
    let held = ProbeDataset(x: heldRaw.x, labels: heldRaw.labels, classes: train.classes)
    let (l1l2, lambda, alpha) = (1e-5, 1e-4, 0.5)
    say("running the peers (NeuroX 10 epochs, then saga)…")
    let peer = try runPeer(options, "probe.py", [prefix, "\(l1l2)", "\(lambda)", "\(alpha)", "30", "\(BLASThreads.count)"])
    func timed(_ settings: ProbeSettings) -> (FittedProbe, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let p = FittedProbe.fit(train, settings: settings)
        return (p, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let (neurox, neuroxSeconds) = timed(.neurox(l1: l1l2, l2: l1l2))
    let (elastic, elasticSeconds) = timed(ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha)))
    let f = { (x: Double) in String(format: "%.4f", x) }
    say("probe benchmark — \(title); threads: Sonde OpenBLAS \(BLASThreads.count), torch \(peer["threads"]!) (torch \(peer["torch"]!))")
    row("", "Sonde", "peer", "ratio")
    let nxSeconds = peer["neurox_seconds"] as! Double
    row(
        "NeuroX objective λ1=λ2=1e-5: seconds", String(format: "%.1f", neuroxSeconds), String(format: "%.1f", nxSeconds),
        String(format: "%.1f× faster than NeuroX", nxSeconds / neuroxSeconds))
    row("  test accuracy", f(neurox.evaluate(held).accuracy), f(peer["neurox_test_accuracy"] as! Double), "")
    row(
        "  objective on train (lower is better)", String(format: "%.5f", neurox.diagnostics.objective),
        String(format: "%.5f", peer["neurox_objective"] as! Double), "")
    row("  Sonde iterations, KKT violation", "\(neurox.diagnostics.iterations), \(String(format: "%.0e", neurox.diagnostics.kktViolation))", "", "")
    // The same objective, stopped as soon as Sonde is as good as NeuroX's result.
    let (matched, matchedSeconds) = timed(
        ProbeSettings(
            penalty: .neurox(l1: l1l2, l2: l1l2), standardize: false, targetObjective: peer["neurox_objective"] as? Double))
    row(
        "  …until NeuroX's objective is reached: seconds", String(format: "%.1f", matchedSeconds), String(format: "%.1f", nxSeconds),
        String(format: "%.1f× faster than NeuroX", nxSeconds / matchedSeconds))
    row(
        "  test accuracy; objective, iterations", f(matched.evaluate(held).accuracy), "",
        "Sonde's objective \(String(format: "%.5f", matched.diagnostics.objective)) after \(matched.diagnostics.iterations) iterations")
    let sagaSeconds = peer["saga_seconds"] as! Double
    let sagaNote = (peer["saga_converged"] as! Bool) ? "converged" : "stopped at \(peer["saga_iterations"]!) epochs"
    row(
        "elastic net λ=1e-4 α=0.5: seconds", String(format: "%.1f", elasticSeconds), String(format: "%.1f", sagaSeconds),
        String(format: "%.1f× faster than saga (%@)", sagaSeconds / elasticSeconds, sagaNote))
    row("  test accuracy", f(elastic.evaluate(held).accuracy), f(peer["saga_test_accuracy"] as! Double), "")
    row(
        "  objective on train (lower is better)", String(format: "%.5f", elastic.diagnostics.objective),
        String(format: "%.5f", peer["saga_objective"] as! Double), "")
    row("  Sonde iterations, KKT violation", "\(elastic.diagnostics.iterations), \(String(format: "%.0e", elastic.diagnostics.kktViolation))", "", "")
}

/// Sonde alone on the real activations of `probe-real` (NeuroX's objective with `probe-real`'s
/// settings, unstandardised, then standardised, and the elastic net λ = 1e-4, α = 0.5): a quick
/// look at the solver without running the peers.
func probeRealQuick(_ options: Options) throws {
    let (prefix, _) = try realProbeData(options)
    let x = try TensorCollection.read(prefix + ".train.x.npy").tensors[0].matrix()
    let y = try TensorCollection.read(prefix + ".train.y.npy").tensors[0].integers()!
    let data = ProbeDataset(x: x, labels: y, classes: (0..<((y.max() ?? 0) + 1)).map { "class\($0)" })
    let runs = [
        ("unstandardised", ProbeSettings.neurox(l1: 1e-5, l2: 1e-5)), ("standardised", ProbeSettings(penalty: .neurox(l1: 1e-5, l2: 1e-5))),
        ("standardised", ProbeSettings(penalty: .elasticNet(lambda: 1e-4, alpha: 0.5))),
    ]
    for (scaling, settings) in runs {
        let start = DispatchTime.now().uptimeNanoseconds
        let probe = FittedProbe.fit(data, settings: settings)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        say(
            "real \(settings.penalty), \(scaling): \(String(format: "%.2f", seconds)) s, \(probe.diagnostics.iterations) iterations, KKT \(String(format: "%.1e", probe.diagnostics.kktViolation)), objective \(String(format: "%.5f", probe.diagnostics.objective))"
        )
    }
}

/// Probe training at one penalty on planted data, Sonde only (a quick look at the solver).
func probeQuick(_ options: Options) throws {
    let sizes = ProcessInfo.processInfo.environment["SONDE_BENCH_BIG_ONLY"] != nil ? [(200_000, 768, 17)] : [(20_000, 256, 5), (200_000, 768, 17)]
    for (n, d, c) in sizes {
        let data = PlantedData(samples: n, neurons: d, classes: c, planted: 12, copies: 2, seed: 7).dataset
        for penalty in [Penalty.elasticNet(lambda: 1e-3, alpha: 0.5), .elasticNet(lambda: 1e-4, alpha: 1), .neurox(l1: 1e-5, l2: 1e-5)] {
            let start = DispatchTime.now().uptimeNanoseconds
            let probe = FittedProbe.fit(data, settings: ProbeSettings(penalty: penalty, standardize: penalty != .neurox(l1: 1e-5, l2: 1e-5)))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            say(
                "\(n)×\(d)×\(c) \(penalty): \(String(format: "%.2f", seconds)) s, \(probe.diagnostics.iterations) iterations, KKT \(String(format: "%.1e", probe.diagnostics.kktViolation)), accuracy \(String(format: "%.4f", probe.evaluate(data).accuracy)), nonzero \(probe.diagnostics.nonzeroNeurons)"
            )
        }
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
for suite in options.suites {
    switch suite {
    case "foundation": try foundation(options)
    case "corpus": try corpus(options)
    case "probe-quick": try probeQuick(options)
    case "probe-real-quick": try probeRealQuick(options)
    case "probe": try probe(options)
    case "extract": try extract(options)
    case "probe-real": try probeReal(options)
    case "path-real": try pathReal(options)
    case "path-real-quick": try pathRealQuick(options)
    case "similarity": try similarity(options)
    case "similarity-baseline": try similarityBaseline(options)
    case "redundancy": try redundancy(options)
    case "lstm": try lstm(options)
    case "pairs-blimp": try pairsBlimp(options)
    case "taskspace": try taskspace(options)
    case "erasure": try erasure(options)
    case "decoders": try decoders(options)
    case "tokenizers": try tokenizers(options)
    default: fatalError("unknown suite \(suite); suites: foundation, corpus, probe, probe-quick")
    }
}
