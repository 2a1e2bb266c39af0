import Foundation
import SondeBase
import Testing
import ZIPFoundation

@testable import SondeLinalg

/// The fixtures were written by numpy and the `safetensors` package (Tests/Fixtures/tensors/
/// make_fixtures.py); their values follow from the flat C-order index i:
/// floats i·0.25 − 1, integers i·1000003 − 7.
func fixtureFloats(_ n: Int) -> [Float] { (0..<n).map { Float($0) * 0.25 - 1 } }
func fixtureInts(_ n: Int) -> [Int] { (0..<n).map { $0 * 1_000_003 - 7 } }

@Suite struct TensorFileReadingTests {
    @Test(arguments: ["f32_c.npy", "f32_fortran.npy", "f16.npy", "f64.npy", "f32_v2.npy", "f32_v3.npy"])
    func npyMatrices(file: String) throws {
        let collection = try TensorCollection.read("\(fixtures)/\(file)")
        #expect(collection.format == .npy)
        let tensor = try #require(collection.tensors.first)
        #expect(tensor.shape == [3, 4])
        #expect(tensor.name == String(file.dropLast(4)))
        let m = try tensor.matrix()
        #expect(m.rows == 3 && m.columns == 4)
        #expect(m.elements == fixtureFloats(12))
        #expect(tensor.doubles() == fixtureFloats(12).map(Double.init))
    }

    @Test func npyDTypes() throws {
        #expect(try TensorCollection.read("\(fixtures)/f16.npy").tensors[0].dtype == .float16)
        #expect(try TensorCollection.read("\(fixtures)/f64.npy").tensors[0].dtype == .float64)
        let i32 = try TensorCollection.read("\(fixtures)/i32.npy").tensors[0]
        #expect(i32.dtype == .int32 && i32.shape == [5] && i32.integers() == fixtureInts(5))
        let i64 = try TensorCollection.read("\(fixtures)/i64.npy").tensors[0]
        #expect(i64.dtype == .int64 && i64.shape == [2, 3] && i64.integers() == fixtureInts(6))
        #expect(try TensorCollection.read("\(fixtures)/f32_c.npy").tensors[0].integers() == nil)
    }

    @Test func fortranOrderIn3D() throws {
        let tensor = try TensorCollection.read("\(fixtures)/f32_fortran_3d.npy").tensors[0]
        #expect(tensor.isFortranOrder && tensor.shape == [2, 3, 4])
        #expect(tensor.floats() == fixtureFloats(24))
    }

    @Test func slicesOfA3DTensor() throws {
        let tensor = try TensorCollection.read("\(fixtures)/f32_3d.npy").tensors[0]
        #expect(throws: TensorFileError.self) { try tensor.matrix() }
        let second = try tensor.slice(1).matrix()
        #expect(second.rows == 3 && second.columns == 4)
        #expect(second.elements == Array(fixtureFloats(24)[12...]))
    }

    @Test func emptyArray() throws {
        let tensor = try TensorCollection.read("\(fixtures)/f32_empty.npy").tensors[0]
        #expect(tensor.shape == [0, 4] && tensor.elementCount == 0)
        #expect(try tensor.matrix().rows == 0)
    }

    @Test(arguments: ["stored.npz", "compressed.npz"])
    func npz(file: String) throws {
        let collection = try TensorCollection.read("\(fixtures)/\(file)")
        #expect(collection.format == .npz)
        #expect(collection.tensors.map(\.name).sorted() == ["a", "b"])
        #expect(try collection["a"]!.matrix().elements == fixtureFloats(12))
        #expect(collection["b"]!.integers() == fixtureInts(6))
    }

    @Test func safetensorsMixed() throws {
        let collection = try TensorCollection.read("\(fixtures)/mixed.safetensors")
        #expect(collection.format == .safetensors)
        #expect(collection.metadata == ["model": "fixture", "layers": "a,b,c"])
        #expect(Set(collection.tensors.map(\.name)) == ["a", "b", "c"])
        #expect(try collection["a"]!.matrix().elements == fixtureFloats(12))
        #expect(collection["b"]!.dtype == .int64 && collection["b"]!.integers() == fixtureInts(6))
        #expect(collection["c"]!.dtype == .float64 && collection["c"]!.doubles() == fixtureFloats(5).map(Double.init))
    }

    @Test func safetensorsHalfPrecision() throws {
        let f16 = try TensorCollection.read("\(fixtures)/f16.safetensors")["w"]!
        #expect(f16.dtype == .float16 && f16.shape == [4, 8])
        #expect(try f16.matrix().elements == fixtureFloats(32))
        let bf16 = try TensorCollection.read("\(fixtures)/bf16.safetensors")["t"]!
        #expect(bf16.dtype == .bfloat16 && bf16.floats() == fixtureFloats(6))
        let i32 = try TensorCollection.read("\(fixtures)/i32.safetensors")["x"]!
        #expect(i32.integers() == fixtureInts(4))
    }

    /// Half-precision decoding against IEEE 754 binary16 values worked out by hand.
    @Test func float16Decoding() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555]
        let expected: [Float] = [1, -2, 65504, 1.0 / 16_777_216, -0.0, .infinity, 0.333251953125]
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = NPY.header(dtype: .float16, shape: [bits.count])
        for b in bits { bytes += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/h.npy"))
        #expect(try TensorCollection.read(folder + "/h.npy").tensors[0].floats() == expected)
    }
}

@Suite struct TensorFileWritingTests {
    @Test(arguments: [TensorDType.float32, .float16, .float64])
    func npyRoundTrip(dtype: TensorDType) throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = Matrix<Float>(rows: 3, columns: 4, elements: fixtureFloats(12))
        try NPY.write(TensorPayload(name: "x", matrix: m, dtype: dtype), to: folder + "/x.npy")
        let back = try TensorCollection.read(folder + "/x.npy").tensors[0]
        #expect(back.dtype == dtype && back.shape == [3, 4])
        #expect(try back.matrix() == m)  // quarter steps are exact in every float dtype
        // numpy's own rule: the data starts at a multiple of 64 bytes
        #expect(back.byteOffset % 64 == 0)
    }

    @Test func integerRoundTrip() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let values = fixtureInts(6).map(Int64.init)
        try NPY.write(TensorPayload(name: "y", shape: [6], dtype: .int64, values: .int64(values)), to: folder + "/y.npy")
        #expect(try TensorCollection.read(folder + "/y.npy").tensors[0].integers() == fixtureInts(6))
        try NPY.write(TensorPayload(name: "z", shape: [2, 3], dtype: .int64, values: .int32(values.map(Int32.init))), to: folder + "/z.npy")
        #expect(try TensorCollection.read(folder + "/z.npy").tensors[0].integers() == fixtureInts(6))
    }

    @Test func safetensorsRoundTripWithMetadata() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var g = SplitMix64(seed: 3)
        let noise = Matrix<Float>(rows: 5, columns: 7, elements: (0..<35).map { _ in Float.random(in: -3...3, using: &g) })
        let metadata = ["model": "gpt \"tiny\"\n", "layers": "h.0,h.1", "ünïcode": "✓"]
        try Safetensors.write(
            [
                TensorPayload(name: "layer.0", matrix: noise),
                TensorPayload(name: "layer.1", matrix: noise, dtype: .float16),
                TensorPayload(name: "layer.2", matrix: noise, dtype: .bfloat16),
            ], metadata: metadata, to: folder + "/a.safetensors")
        let back = try TensorCollection.read(folder + "/a.safetensors")
        #expect(back.metadata == metadata)
        #expect(back.tensors.map(\.name) == ["layer.0", "layer.1", "layer.2"])
        #expect(try back["layer.0"]!.matrix() == noise)
        // F16 keeps 11 significant bits: relative error ≤ 2⁻¹¹; BF16 keeps 8: ≤ 2⁻⁸.
        let half = try back["layer.1"]!.matrix()
        let brain = try back["layer.2"]!.matrix()
        for (i, x) in noise.elements.enumerated() {
            #expect(half.elements[i] == Float(Float16(x)))
            #expect(abs(brain.elements[i] - x) <= abs(x) / 256)
        }
        #expect(back["layer.0"]!.byteOffset % 8 == 0)
    }

    @Test func npzRoundTrip() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let a = Matrix<Float>(rows: 3, columns: 4, elements: fixtureFloats(12))
        try NPZ.write(
            [
                TensorPayload(name: "a", matrix: a),
                TensorPayload(name: "b", shape: [6], dtype: .int64, values: .int64(fixtureInts(6).map(Int64.init))),
            ],
            to: folder + "/z.npz")
        let back = try TensorCollection.read(folder + "/z.npz")
        #expect(try back["a"]!.matrix() == a)
        #expect(back["b"]!.integers() == fixtureInts(6))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["z.npz"])
    }

    @Test func writesAreAtomic() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: folder + "/out.bin") { writer in
                try writer.write([1, 2, 3])
                throw Interrupted()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let error = #expect(throws: FileError.self) {
            try NPY.write(TensorPayload(name: "x", matrix: Matrix(rows: 1, columns: 1)), to: folder + "/missing/x.npy")
        }
        #expect(error?.kind == .cannotWrite)
        // an existing file is replaced whole
        try NPY.write(TensorPayload(name: "x", matrix: Matrix(rows: 1, columns: 1, repeating: 2)), to: folder + "/x.npy")
        try NPY.write(TensorPayload(name: "x", matrix: Matrix(rows: 2, columns: 1, repeating: 3)), to: folder + "/x.npy")
        #expect(try TensorCollection.read(folder + "/x.npy").tensors[0].floats() == [3, 3])
    }
}

/// python3 with numpy and safetensors, the reference readers (`.ci/run` installs them).
let referenceReadersAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy, safetensors"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

@Suite(.enabled(if: referenceReadersAvailable, "python3 cannot import numpy and safetensors: interoperability not checked"))
struct ReferenceReaderTests {
    /// What Sonde writes, numpy and the `safetensors` package read back with the same values.
    @Test func referenceReadersReadOurFiles() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = Matrix<Float>(rows: 3, columns: 4, elements: fixtureFloats(12))
        try NPY.write(TensorPayload(name: "x", matrix: m, dtype: .float16), to: folder + "/x.npy")
        try NPZ.write([TensorPayload(name: "a", matrix: m), TensorPayload(name: "b", matrix: m, dtype: .float64)], to: folder + "/z.npz")
        try Safetensors.write(
            [TensorPayload(name: "w", matrix: m), TensorPayload(name: "h", matrix: m, dtype: .float16)],
            metadata: ["model": "m"], to: folder + "/s.safetensors")
        let script = """
            import numpy as np
            from safetensors import safe_open
            x = np.load("x.npy"); z = np.load("z.npz")
            with safe_open("s.safetensors", "np") as f:
                meta = f.metadata(); w = f.get_tensor("w"); h = f.get_tensor("h")
            print(x.dtype, x.shape, z["a"].dtype, z["b"].dtype, w.dtype, h.dtype, meta["model"])
            print(*(float(v) for v in np.concatenate([x.ravel(), z["a"].ravel(), z["b"].ravel(), w.ravel(), h.ravel()])))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = output.split(separator: "\n")
        #expect(lines.first == "float16 (3, 4) float32 float64 float32 float16 m")
        #expect(lines.last?.split(separator: " ").map { Float(String($0))! } == Array((0..<5).map { _ in fixtureFloats(12) }.joined()))
    }
}

/// Every malformed input gives a TensorFileError that names the file and says what is wrong.
@Suite struct MalformedTensorFileTests {
    /// Found by benchmarks/fuzz.sh (npz, over its 1 s limit under AddressSanitizer): 570 bytes
    /// whose ZIP64 sizes make a member inflate toward the 64 MiB floor of the inflation limit.
    /// Bounded work (0.14 s in a release build), refused as a corrupt member naming the file.
    @Test func fuzzedZip64MemberIsRefusedQuickly() throws {
        let bytes = try #require(Data(base64Encoded: "UEsDBC0AAAAAAAAAIQCPWSTg//////////8FABQAYS5ucHkBABAAsAAAAAAAAACwAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxmNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCA0KSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAiX19tZXRhZGF0YV9fIgCAvwAAQL8AAAC/AACAvgAAAAAAAIA+AAAAPwAAQD8AAIA/AACgPwAAwD8AAOA/UEsDBC0AAAAAAAAAIQBcwMk6IEZhbHNlLCAnc2hhcGUnOiAoMywgNCksIH0gICAgICAgICAgIJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxpOScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCAzKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAK+f////////88Qg8AAAAAAH+EHgAAAAACwsYtAAAAAAAFCT0AAAAAAFNlcXVlbmNlUEsBAi0DLQAAAAAAAAAhAI9ZJOCwAAAAUPoA/zMAAAAAAAAAAAAAAIABAAAAAGEAXL0myV6wAAAAsAAAAAUAAAAAAAAAACEAAAAAgAHnAAAAYi5ucHlQSwUGAAAAAAIAAgBmAAAAzgEAAAAA"))
        let path = NSTemporaryDirectory() + "sonde-fuzz-\(UUID().uuidString).npz"
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = Date()
        #expect { _ = try TensorCollection.read(path) } throws: { error in
            (error as? TensorFileError)?.description.hasPrefix(path + ": member ") == true
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    let folder = temporaryFolder()

    func fixtureBytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name)")))
    }

    /// Writes `bytes` to a file and expects reading it to fail with `kind` and `message`.
    func expectFailure(
        _ bytes: [UInt8], _ kind: TensorFileProblem, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let path = folder + "/bad-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try TensorCollection.read(path)
            Issue.record("expected \(message)", sourceLocation: sourceLocation)
        } catch let error as TensorFileError {
            #expect(error.kind == kind, sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix(path), sourceLocation: sourceLocation)
            #expect(error.message.contains(message), "got: \(error.message)", sourceLocation: sourceLocation)
        }
    }

    /// A .npy image with `header` as its dict and `dataCount` zero bytes of data.
    func npy(header: String, dataCount: Int, version: UInt8 = 1) -> [UInt8] {
        let dict = Array(header.utf8)
        return NPY.magic + [version, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict + [UInt8](repeating: 0, count: dataCount)
    }

    func safetensors(_ header: String, dataCount: Int) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + [UInt8](repeating: 0, count: dataCount)
    }

    @Test func emptyAndGarbage() throws {
        try expectFailure([], .malformed, "the file is empty")
        try expectFailure(Array("hello, this is text\n".utf8), .malformed, "not a tensor file")
        var g = SplitMix64(seed: 1)
        try expectFailure((0..<4096).map { _ in UInt8.random(in: 0...255, using: &g) }, .malformed, "not a tensor file")
        try expectFailure([1, 0, 0, 0], .malformed, "not a tensor file")
    }

    @Test func missingFileAndFolder() {
        let missing = #expect(throws: FileError.self) { try TensorCollection.read(folder + "/nope.npy") }
        #expect(missing?.kind == .cannotOpen && missing?.message.contains("No such file") == true)
        let directory = #expect(throws: FileError.self) { try TensorCollection.read(folder) }
        #expect(directory?.message.hasPrefix("not a regular file") == true)
    }

    @Test func npyTruncatedOrPadded() throws {
        let good = try fixtureBytes("f32_c.npy")
        try expectFailure(Array(good.dropLast(3)), .malformed, "needs 48 bytes of data but the file holds 45: truncated?")
        try expectFailure(good + [0, 0, 0, 0], .malformed, "needs 48 bytes of data but the file holds 52")
        try expectFailure(Array(good.prefix(20)), .malformed, "runs past the end of the file")
        try expectFailure(Array(good.prefix(8)), .malformed, "not a .npy file")
    }

    @Test func npyBadHeaders() throws {
        try expectFailure(npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }", dataCount: 0), .malformed, "malformed header")
        try expectFailure(npy(header: "{'fortran_order': False, 'shape': (3,), }", dataCount: 12), .malformed, "no 'descr'")
        try expectFailure(npy(header: "{'descr': '<f4', 'shape': (3,), }", dataCount: 12), .malformed, "no 'fortran_order'")
        try expectFailure(npy(header: "{'descr': '<f4', 'fortran_order': False, }", dataCount: 12), .malformed, "no 'shape'")
        try expectFailure(npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk", dataCount: 12), .malformed, "text after")
        try expectFailure(npy(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", dataCount: 24), .unsupported, "dtype '<c8'")
        try expectFailure(
            npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", dataCount: 12, version: 4), .unsupported, "version 4.0")
        try expectFailure(try fixtureBytes("big_endian.npy"), .unsupported, "big-endian")
    }

    /// A header claiming an enormous shape is checked against the file size before anything is
    /// allocated (the test would run out of memory otherwise).
    @Test func npyHugeShapes() throws {
        try expectFailure(
            npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000), }", dataCount: 16), .malformed,
            "needs 40000000000000 bytes")
        try expectFailure(
            npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 4), }", dataCount: 16), .malformed, "too large")
        try expectFailure(npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-2, 4), }", dataCount: 16), .malformed, "too large")
    }

    /// Shape tuples do not nest: a header of nested parentheses cannot deepen the parser's
    /// recursion.
    @Test func npyNestedTuples() throws {
        let nested = String(repeating: "(", count: 5_000) + String(repeating: ")", count: 5_000)
        try expectFailure(npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': \(nested), }", dataCount: 0), .malformed, "nested tuple")
    }

    /// A safetensors header is bounded in size (InputLimits.headerBytes; a sparse 70 MB file
    /// here) and in depth before it reaches the JSON parser (an 81 MB header once took 3.9 GB and
    /// then signal 11).
    @Test func safetensorsHeaderBounds() throws {
        let deep = "{\"a\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        try expectFailure(safetensors(deep, dataCount: 0), .malformed, "nests too deep (limit: 16 levels")
        // Brackets inside strings do not count.
        try expectFailure(
            safetensors("{\"__metadata__\": {\"k\": \"" + String(repeating: "[", count: 100) + "\"}, \"t\": 1}", dataCount: 0), .malformed,
            "entry 't' is not an object")
        let path = folder + "/large-header.safetensors"
        let length = 70 << 20
        try Data((0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [UInt8(ascii: "{")]).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, off_t(8 + length)) == 0)
        #expect { _ = try TensorCollection.read(path) } throws: { "\($0)".contains("SONDE_MAX_HEADER_BYTES") }
    }

    /// A zip bomb: a deflated member of 80 MB of zeros (80 kB on disk) is refused once it
    /// inflates past the bound (64 MiB, above 100× its size), without holding more.
    @Test func npzInflationIsBounded() throws {
        let path = folder + "/bomb.npz"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let size = 80 << 20
        let header = npy(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(size / 4 - 32),), }".padding(toLength: 118, withPad: " ", startingAt: 0)
                + "\n", dataCount: 0)
        try archive.addEntry(with: "x.npy", type: .file, uncompressedSize: Int64(size), compressionMethod: .deflate) { position, chunk in
            var data = Data(count: chunk)
            if position == 0 { data.replaceSubrange(0..<header.count, with: header) }
            return data
        }
        #expect { _ = try TensorCollection.read(path) } throws: { "\($0)".contains("inflates past") && "\($0)".contains("SONDE_MAX_INFLATION") }
    }

    /// A stored member whose bytes no longer match its CRC-32 is refused (the check was skipped).
    @Test func npzChecksums() throws {
        let path = folder + "/stored.npz"
        try FileManager.default.copyItem(atPath: "\(fixtures)/stored.npz", toPath: path)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        // The last data byte of the first member sits just before the second local header or the
        // central directory: flip a byte well inside the first member's data instead.
        let firstData = 30 + Int(bytes[26]) + Int(bytes[27]) << 8 + Int(bytes[28]) + Int(bytes[29]) << 8
        bytes[firstData + 130] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { _ = try TensorCollection.read(path) } throws: { "\($0)".contains("CRC-32") }
    }

    @Test func safetensorsHeaderProblems() throws {
        try expectFailure([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, UInt8(ascii: "{")], .malformed, "exceeds the 100000000-byte limit")
        try expectFailure([200, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":1}".utf8), .malformed, "runs past the end")
        try expectFailure(safetensors("{not json}", dataCount: 0), .malformed, "not valid JSON")
        try expectFailure(safetensors("{\"a\": [1]}", dataCount: 0), .malformed, "entry 'a' is not an object")
        try expectFailure(safetensors("{\"__metadata__\": {\"k\": 1}}", dataCount: 0), .malformed, "value of 'k' is not a string")
    }

    @Test func safetensorsTensorProblems() throws {
        func entry(_ dtype: String, _ shape: String, _ begin: Int, _ end: Int, name: String = "t") -> String {
            "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": [\(begin), \(end)]}"
        }
        try expectFailure(safetensors("{\(entry("Q8", "[2]", 0, 2))}", dataCount: 2), .unsupported, "dtype Q8")
        try expectFailure(safetensors("{\(entry("F32", "[2]", 0, 16))}", dataCount: 8), .malformed, "run past the data (8 bytes): truncated?")
        try expectFailure(safetensors("{\(entry("F32", "[3]", 0, 8))}", dataCount: 8), .malformed, "does not fit its 8 bytes")
        try expectFailure(safetensors("{\(entry("F32", "[-2]", 0, 8))}", dataCount: 8), .malformed, "non-negative integers")
        try expectFailure(safetensors("{\(entry("F32", "[2]", 8, 0))}", dataCount: 8), .malformed, "0 ≤ begin ≤ end")
        try expectFailure(
            safetensors("{\(entry("F32", "[2]", 0, 8, name: "a")), \(entry("F32", "[1]", 12, 16, name: "b"))}", dataCount: 16),
            .malformed, "hole before tensor 'b'")
        try expectFailure(
            safetensors("{\(entry("F32", "[2]", 0, 8, name: "a")), \(entry("F32", "[1]", 4, 8, name: "b"))}", dataCount: 8),
            .malformed, "overlaps")
        try expectFailure(safetensors("{\(entry("F32", "[2]", 0, 8))}", dataCount: 12), .malformed, "4 bytes after the last tensor")
    }

    @Test func npzProblems() throws {
        let good = try fixtureBytes("stored.npz")
        try expectFailure(Array(good.prefix(good.count / 2)), .malformed, "not a readable zip archive (.npz): truncated or corrupt")
        // an archive whose member is not a .npy image: the error names the member
        let path = folder + "/text.npz"
        let note = folder + "/note.npy"
        try Data("not numpy".utf8).write(to: URL(fileURLWithPath: note))
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        try archive.addEntry(with: "note.npy", fileURL: URL(fileURLWithPath: note))
        let error = #expect(throws: TensorFileError.self) { try TensorCollection.read(path) }
        #expect(error?.description == "\(path)[note.npy]: not a .npy file (no \\x93NUMPY magic)")
        // an archive with no members is valid and empty
        try NPZ.write([], to: folder + "/empty.npz")
        #expect(try TensorCollection.read(folder + "/empty.npz").tensors.isEmpty)
    }
}

@Suite(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
struct ZooCheckpointTests {
    /// Every checkpoint of the zoo opens, has the tensor count transformers wrote, and is all F16.
    @Test func allCheckpointsOpen() throws {
        let zoo = sharedFolder + "/zoo"
        let folders = try FileManager.default.contentsOfDirectory(atPath: zoo).filter {
            FileManager.default.fileExists(atPath: "\(zoo)/\($0)/model.safetensors")
        }
        #expect(folders.count == 20)
        for folder in folders {
            let collection = try TensorCollection.read("\(zoo)/\(folder)/model.safetensors")
            #expect(collection.metadata["format"] == "pt")
            #expect(collection.tensors.allSatisfy { $0.dtype == .float16 }, "\(folder)")
            #expect(collection.tensors.count >= 52, "\(folder)")
        }
    }

    /// Sums of the word embeddings, computed with numpy from the same files
    /// (`load_file(...)[name].astype(np.float64).sum()`, and the sum of squares). F16 values are
    /// exact in Float, and the sums accumulate in Double: agreement to 1e-9 relative.
    @Test(arguments: [
        ("gpt-step1200", "transformer.wte.weight", 139.20103245973587, 1639.425851171789, -0.068603515625),
        ("bert-step1200", "bert.embeddings.word_embeddings.weight", 381.82025468349457, 1354.1478034147476, -0.0155029296875),
        ("neox-step1200", "gpt_neox.embed_in.weight", -8.941437482833862, 508.1042588108397, 0.00656890869140625),
    ])
    func embeddingValues(model: String, name: String, sum: Double, squares: Double, element: Double) throws {
        let collection = try TensorCollection.read(sharedFolder + "/zoo/\(model)/model.safetensors")
        let m = try #require(collection[name]).matrix()
        #expect(m.rows == 4096 && m.columns == 128)
        let values = m.elements.map(Double.init)
        #expect(abs(values.reduce(0, +) - sum) <= 1e-9 * abs(squares))
        #expect(abs(values.map { $0 * $0 }.reduce(0, +) - squares) <= 1e-9 * squares)
        #expect(Double(m[17, 5]) == element)
    }

    /// The PyTorch reference activations: [layer, word, neuron] float32 (value by numpy).
    @Test func referenceActivations() throws {
        let tensor = try TensorCollection.read(sharedFolder + "/zoo/reference/bert-step1200.test.npy").tensors[0]
        #expect(tensor.shape == [5, 434, 128])
        let layer = try tensor.slice(2).matrix()
        #expect(layer[433, 127] == 0.7154060006141663)
        #expect(abs(layer.elements.map(Double.init).reduce(0, +) - 32.83067191857117) < 1e-9)
    }
}

/// NeuroX's own JSON activations (../shared/reference/neurox, written by NeuroX 1.0.9): the
/// layers, and NeuroX's flattening of them, against the matrix its own loader produced.
@Suite(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
struct NeuroXJSONTests {
    let folder = sharedFolder + "/reference/neurox"

    @Test func matchesNeuroXsLoader() throws {
        let file = try TensorCollection.read(folder + "/test.json")
        #expect(file.format == .neuroxJSON && file.metadata["sentence_words"] == "[10,10,10,10,10,10]")
        let all = try #require(file["all_layers"]).matrix()
        let expected = try TensorCollection.read(folder + "/test.first60.npy").tensors[0].matrix()
        #expect(all.rows == 60 && all.columns == 24)
        // The JSON holds 8 decimals: agreement to 1e-7 (the README's bound).
        #expect(zip(all.elements, expected.elements).allSatisfy { abs($0 - $1) <= 1e-7 * max(1, abs($1)) })
        // layer<l> is column block l of NeuroX's flattening.
        let layer1 = try #require(file["layer1"]).matrix()
        #expect((0..<60).allSatisfy { r in (0..<8).allSatisfy { layer1[r, $0] == all[r, 8 + $0] } })
    }

    @Test func malformedLinesNameTheLine() throws {
        let path = NSTemporaryDirectory() + "sonde-neurox-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = "{\"linex_index\": 0, \"features\": [{\"token\": \"a\", \"layers\": [{\"index\": 0, \"values\": [1, 2]}]}]}"
        let bad = "{\"linex_index\": 1, \"features\": [{\"token\": \"b\", \"layers\": [{\"index\": 0, \"values\": [1, 2, 3]}]}]}"
        try (good + "\n" + bad + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try TensorCollection.read(path) } throws: { "\($0)".contains("\(path):2: token 1, layer 0 has 3 values, the file 2") }
    }
}

/// NeuroX's own HDF5 activations (../shared/reference/neurox, written by NeuroX 1.0.9) read
/// through libhdf5: the same layers and words as its JSON file and its loader's matrix.
@Suite(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
struct NeuroXHDF5Tests {
    let folder = sharedFolder + "/reference/neurox"

    @Test func matchesNeuroXsLoader() throws {
        let file = try TensorCollection.read(folder + "/test.hdf5")
        #expect(file.format == .neuroxHDF5 && file.metadata["sentence_words"] == "[10,10,10,10,10,10]")
        let all = try #require(file["all_layers"]).matrix()
        let expected = try TensorCollection.read(folder + "/test.first60.npy").tensors[0].matrix()
        // float32 in, float32 out: NeuroX's loader and this reader copy the same numbers.
        #expect(all.rows == 60 && all.columns == 24 && all.elements == expected.elements)
        // The words of sentence_to_index, in dataset order, are the sentences of test.word.
        let words = try String(contentsOfFile: folder + "/test.word", encoding: .utf8).split(separator: "\n").flatMap { $0.split(separator: " ") }
        let tokens = try JSONSerialization.jsonObject(with: Data(file.metadata["tokens"]!.utf8)) as! [String]
        #expect(tokens == words.map(String.init))
        let json = try TensorCollection.read(folder + "/test.json")
        let (a, b) = (try file["layer2"]!.matrix(), try json["layer2"]!.matrix())
        #expect(zip(a.elements, b.elements).allSatisfy { abs($0 - $1) <= 1e-7 * max(1, abs($1)) })
    }

    /// A damaged copy (truncated, or bytes overwritten anywhere) is refused with the path or
    /// read, never a crash: the reader parses a stranger's file (libhdf5 1.10 crashed on such copies).
    @Test func damagedCopies() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: folder + "/test.hdf5"))
        let path = NSTemporaryDirectory() + "sonde-neurox-\(UUID().uuidString).hdf5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: path))
        #expect { _ = try TensorCollection.read(path) } throws: { "\($0)".hasPrefix(path + ": ") }
        var generator = SplitMix64(seed: 11)
        for _ in 0..<200 {
            var damaged = original
            let at = 8 + generator.below(original.count - 8)
            for k in at..<min(at + 4, damaged.count) { damaged[k] = UInt8(truncatingIfNeeded: generator.next()) }
            try damaged.write(to: URL(fileURLWithPath: path))
            do { _ = try TensorCollection.read(path) } catch let error as TensorFileError { #expect("\(error)".hasPrefix(path)) }
        }
    }
}
