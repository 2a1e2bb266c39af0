// sonde-fuzz: Sonde's readers of outside data under libFuzzer (benchmarks/fuzz.sh builds it
// with coverage and AddressSanitizer and runs it); in a normal build it replays inputs, so a
// finding can be rerun without the sanitizers.
//
//   SONDE_FUZZ_TARGET=TARGET sonde-fuzz [libFuzzer flags] [CORPUS…]   (fuzz build, -D SONDE_FUZZ;
//                                 the target is not an argument: libFuzzer reruns itself with its own)
//   sonde-fuzz TARGET FILE|FOLDER…    (normal build: runs each input once)
import Foundation

#if SONDE_FUZZ
import CLibFuzzer
#endif

let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
let arguments = CommandLine.arguments
#if SONDE_FUZZ
let targetName = ProcessInfo.processInfo.environment["SONDE_FUZZ_TARGET"]
let usage = "usage: SONDE_FUZZ_TARGET=TARGET sonde-fuzz [libFuzzer flags] [CORPUS…]; targets: \(targets)\n"
#else
let targetName = arguments.count >= 2 ? arguments[1] : nil
let usage = "usage: sonde-fuzz TARGET [INPUT…]; targets: \(targets)\n"
#endif
guard let target = targetName.flatMap(FuzzTarget.init(rawValue:)) else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
let fixtures = ProcessInfo.processInfo.environment["SONDE_FUZZ_FIXTURES"] ?? "Tests/Fixtures/models"
nonisolated(unsafe) let runner = try FuzzRunner(target: target, fixtures: fixtures)

/// Runs one input; an oracle failure aborts, which libFuzzer reports and keeps as a finding.
func runOne(_ data: Data) {
    do { try runner.run(data) } catch {
        FileHandle.standardError.write(Data("sonde-fuzz: \(error)\n".utf8))
        abort()
    }
}

#if SONDE_FUZZ
var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var argc = CInt(arguments.count)
let status = cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
        runOne(count == 0 ? Data() : Data(bytes: bytes!, count: count))
        return 0
    }
}
exit(status)
#else
var inputs: [String] = []
for path in arguments.dropFirst(2) {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        FileHandle.standardError.write(Data("sonde-fuzz: \(path): no such file or folder\n".utf8))
        exit(2)
    }
    if isFolder.boolValue {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        inputs += names.map { path + "/" + $0 }.filter { (try? FileManager.default.attributesOfItem(atPath: $0)[.type] as? FileAttributeType) == .typeRegular }
    } else {
        inputs.append(path)
    }
}
for input in inputs { runOne(try Data(contentsOf: URL(fileURLWithPath: input))) }
print("\(target.rawValue): \(inputs.count) inputs read, none failed")
#endif
