import Foundation

@testable import SondeCorpus

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let edgeCases = repositoryRoot + "/Tests/Fixtures/corpora"

/// `../shared` beside the repository: real corpora, models and reference outputs.
let sharedFolder = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared"
let sharedCorpora = sharedFolder + "/corpora"
let sharedAvailable = FileManager.default.fileExists(atPath: sharedCorpora + "/MANIFEST.tsv")
let sharedMissing = "../shared is absent beside the repository: the tests on real treebanks are skipped"

func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "sonde-test-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes `text` to a fresh file and returns its path.
func write(_ text: String, name: String = "input", in folder: String) -> String {
    let path = folder + "/" + name
    try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

func read(_ path: String, format: CorpusFormat? = nil) throws -> Corpus {
    try CorpusReader.read([path], format: format).corpus
}
