import Dispatch
import SondeBase
import Testing

@testable import SondeLinalg

/// Arrays made by `Array(hugeCapacity:initializingWith:)`, including empty ones made on many
/// threads at once: `Array(unsafeUninitializedCapacity: 0)` wrote into the shared empty-array
/// storage, a race ThreadSanitizer caught in `sonde similarity`'s pooled baseline tasks (empty
/// canonical weights). Under `benchmarks/tsan.sh` the old code fails here.
@Suite struct HugeCapacityTests {
    @Test func emptyAndFilledArraysOnManyThreads() {
        // Enough work per iteration that the iterations do run on several threads.
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for j in 0..<2_000 {
                let empty = Matrix<Double>(rows: 0, columns: i + j)
                precondition(empty.elements.isEmpty)
            }
        }
        let filled = [Int](hugeCapacity: 5) { buffer in for i in 0..<5 { buffer[i] = i * i } }
        #expect(filled == [0, 1, 4, 9, 16])
        // An empty buffer with an address (callers hand it to C as a pointer).
        var called = false
        let empty = [Int](hugeCapacity: 0) { buffer in called = buffer.isEmpty && buffer.baseAddress != nil }
        #expect(empty.isEmpty && called)
    }
}
