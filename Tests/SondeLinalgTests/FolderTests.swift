import Foundation
import SondeBase
import Testing

/// Listing a folder, checked where it once read out of bounds: copying a record's `d_name` (a
/// 256-byte tuple) out of the last record of a full readdir buffer read past the buffer. 1,500
/// names fill glibc's 32 KiB buffer more than once, so such a last record exists; under
/// AddressSanitizer (`benchmarks/asan.sh`) the old code fails here.
@Suite struct FolderTests {
    @Test func listsEveryNameOfALargeFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-folder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = Set((0..<1_500).map { "entry-\($0)-" + String(repeating: "n", count: $0 % 23) + ".txt" } + ["ä名前.conllu"])
        for name in names { #expect(FileManager.default.createFile(atPath: folder + "/" + name, contents: nil)) }
        #expect(Set(try #require(try listFolder(folder))) == names)
        #expect(try listFolder(folder + "/entry-0-.txt") == nil)
    }
}
