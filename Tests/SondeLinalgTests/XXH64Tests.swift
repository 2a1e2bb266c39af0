import SondeBase
import Testing

/// XXH64 against the reference implementation: the values were computed with Python's `xxhash`
/// package 3.x (`xxhash.xxh64(data).hexdigest()`, seed 0), which wraps Yann Collet's C code.
@Suite struct XXH64Tests {
    func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { XXH64.hex($0) } }

    @Test func matchesTheReferenceOnEveryTailLength() {
        #expect(hex([]) == "ef46db3751d8e999")
        #expect(hex(Array("a".utf8)) == "d24ec4f1a98c6e5b")
        #expect(hex(Array("abc".utf8)) == "44bc2cf5ad770999")
        #expect(hex(Array("0123456789abcdef0123456789abcdef".utf8)) == "642a94958e71e6c5")
        // 1,027 bytes: 32 full rounds, then an 8-byte word, no 4-byte word, 3 single bytes.
        #expect(hex((0..<4).flatMap { _ in (0...255).map(UInt8.init) } + Array("xyz".utf8)) == "e146cb31b65bc21a")
    }

    @Test func everySingleByteChangeChangesTheHash() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let original = hex(data)
        for i in data.indices {
            var changed = data
            changed[i] ^= 0x40
            #expect(hex(changed) != original, "byte \(i)")
        }
        #expect(hex(Array(data.dropLast())) != original)
    }
}
