import Dispatch
import Glibc
import SondeBase
import SondeLinalg

/// `y = x·Wᵀ + b` for a Hugging Face `Linear` (weight stored [out, in]) or `x·W + b` for GPT-2's
/// `Conv1D` (weight stored [in, out]); either way one gemm on the stored buffer, no transposes.
struct Linear {
    let weight: Matrix<Float>
    let storedOutByIn: Bool
    let bias: [Float]?

    var outputs: Int { storedOutByIn ? weight.rows : weight.columns }
    var inputs: Int { storedOutByIn ? weight.columns : weight.rows }

    func apply(_ x: Matrix<Float>) -> Matrix<Float> {
        precondition(x.columns == inputs, "linear layer expects \(inputs) inputs, got \(x.columns)")
        let (n, m) = (x.rows, outputs)
        var y = Matrix<Float>(rows: n, columns: m) { buffer in
            if let bias {
                bias.withUnsafeBufferPointer { b in for i in 0..<n { (buffer.baseAddress! + i * m).initialize(from: b.baseAddress!, count: m) } }
            } else {
                buffer.initialize(repeating: 0)
            }
        }
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    BLAS.gemm(
                        transposeB: storedOutByIn, m: n, n: m, k: inputs, a: xp.baseAddress!, lda: inputs,
                        b: wp.baseAddress!, ldb: weight.columns, beta: 1, c: yp.baseAddress!, ldc: m)
                }
            }
        }
        return y
    }
}

/// Layer normalisation over each row (biased variance, as PyTorch).
struct LayerNorm {
    let gamma: [Float]
    let beta: [Float]
    let epsilon: Float

    func apply(_ x: Matrix<Float>) -> Matrix<Float> {
        var y = x
        applyInPlace(&y)
        return y
    }

    func applyInPlace(_ x: inout Matrix<Float>) {
        let (h, rows) = (x.columns, x.rows)
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                x.withUnsafeMutableBufferPointer { p in
                    for r in 0..<rows {
                        let row = p.baseAddress! + r * h
                        var sum: Float = 0
                        for j in 0..<h { sum += row[j] }
                        let mean = sum / Float(h)
                        var squares: Float = 0
                        for j in 0..<h { let d = row[j] - mean; squares += d * d }
                        let inverse = 1 / (squares / Float(h) + epsilon).squareRoot()
                        for j in 0..<h { row[j] = (row[j] - mean) * inverse * g[j] + b[j] }
                    }
                }
            }
        }
    }
}

extension Activation {
    func applyInPlace(_ x: inout Matrix<Float>) {
        x.withUnsafeMutableBufferPointer { p in
            switch self {
            case .gelu:
                for i in 0..<p.count { let v = p[i]; p[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
            case .geluTanh:
                // 0.5·x·(1 + tanh(u)) = x·σ(2u): one expf instead of glibc's tanhf, which went
                // through expm1f and took a quarter of GPT-2's forward pass.
                let c: Float = 2 * 0.79788456080286536  // 2√(2/π)
                for i in 0..<p.count { let v = p[i]; p[i] = v / (1 + expf(-c * (v + 0.044715 * v * v * v))) }
            case .relu:
                for i in 0..<p.count where p[i] < 0 { p[i] = 0 }
            case .silu:
                for i in 0..<p.count { let v = p[i]; p[i] = v / (1 + expf(-v)) }
            }
        }
    }
}

/// Root-mean-square normalisation over each row or `width`-wide piece of it (Llama's RMSNorm:
/// x / √(mean(x²) + ε) · w; Gemma's multiplies by 1 + w, stored here as `weight`).
struct RMSNorm {
    let weight: [Float]
    let epsilon: Float

    init(weight: [Float], epsilon: Float, offset: Float = 0) {
        self.weight = offset == 0 ? weight : weight.map { $0 + offset }
        self.epsilon = epsilon
    }

    func applyInPlace(_ x: inout Matrix<Float>) {
        let (rows, columns) = (x.rows, x.columns)
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { normalize(p.baseAddress! + r * columns) }
        }
    }

    func apply(_ x: Matrix<Float>) -> Matrix<Float> {
        var y = x
        applyInPlace(&y)
        return y
    }

    /// Normalises the `weight.count` values at `x`.
    func normalize(_ x: UnsafeMutablePointer<Float>) {
        let n = weight.count
        var squares: Float = 0
        for j in 0..<n { squares += x[j] * x[j] }
        let inverse = 1 / (squares / Float(n) + epsilon).squareRoot()
        weight.withUnsafeBufferPointer { w in for j in 0..<n { x[j] = x[j] * inverse * w[j] } }
    }
}

/// `a += b`, elementwise.
func addInPlace(_ a: inout Matrix<Float>, _ b: Matrix<Float>) {
    precondition(a.rows == b.rows && a.columns == b.columns)
    b.withUnsafeBufferPointer { bp in
        a.withUnsafeMutableBufferPointer { ap in for i in 0..<ap.count { ap[i] += bp[i] } }
    }
}

/// Where each head's query, key and value sit in a fused projection's row.
enum QKVLayout {
    /// [q (all heads) | k | v]: BERT (its three projections concatenated) and GPT-2's `c_attn`.
    case blocks
    /// [head 0: q k v | head 1: q k v | …]: GPT-NeoX's `query_key_value`.
    case interleaved
    /// [q (H heads) | k (KV heads) | v (KV heads)], query head h reading key-value head
    /// h / (H / KV): grouped-query attention (Llama and its kin; KV = H is plain attention).
    case grouped(keyValueHeads: Int)

    func columns(head: Int, headSize d: Int, heads: Int) -> (q: Int, k: Int, v: Int) {
        switch self {
        case .blocks: return (head * d, heads * d + head * d, 2 * heads * d + head * d)
        case .interleaved: return (3 * head * d, 3 * head * d + d, 3 * head * d + 2 * d)
        case .grouped(let kv):
            let shared = head / (heads / kv)
            return (head * d, heads * d + shared * d, heads * d + kv * d + shared * d)
        }
    }
}

/// Rotary position embedding on the first `dimensions` of each query and key head
/// (GPT-NeoX's `rotate_half` convention: pairs (i, i + dimensions/2)).
struct Rotary {
    let dimensions: Int
    /// The rotation frequency of each pair, base^(−2i/dimensions).
    let frequencies: [Float]

    /// Multiplies cos and sin (YaRN's attention factor; 1 elsewhere).
    let scale: Float

    init(headSize: Int, fraction: Double, base: Double) {
        dimensions = Int(Double(headSize) * fraction) / 2 * 2
        let d = Double(dimensions)
        frequencies = (0..<(dimensions / 2)).map { 1 / Float(pow(base, Double(2 * $0) / d)) }
        scale = 1
    }

    /// The rotary embedding of a decoder family's options (its scaling included).
    init(_ options: DecoderOptions) {
        let (frequencies, scale) = options.rotaryFrequencies()
        self.frequencies = frequencies.map { Float($0) }
        dimensions = 2 * frequencies.count
        self.scale = Float(scale)
    }

    /// cos and sin of position × frequency for positions 0..<count, [position][dimensions / 2]:
    /// made per forward pass for its longest sequence, so that memory follows the input, not
    /// the `max_position_embeddings` a config.json claims.
    func table(positions count: Int) -> (cosines: [Float], sines: [Float]) {
        let half = frequencies.count
        var cosines = [Float](repeating: 0, count: count * half), sines = cosines
        for (i, frequency) in frequencies.enumerated() {
            for p in 0..<count {
                let angle = Float(p) * frequency
                cosines[p * half + i] = cos(angle) * scale
                sines[p * half + i] = sin(angle) * scale
            }
        }
        return (cosines, sines)
    }

    /// Rotates, in every token of every sequence, the head vectors starting at `columns` of its
    /// row (each token at its position in its sequence).
    func rotate(_ x: inout Matrix<Float>, columns: [Int], sequences: [Range<Int>]) {
        let width = x.columns
        let table = table(positions: sequences.map(\.count).max() ?? 0)
        x.withUnsafeMutableBufferPointer { p in
            for range in sequences {
                for (position, r) in range.enumerated() {
                    for column in columns { rotate(p.baseAddress! + r * width + column, position: position, table: table) }
                }
            }
        }
    }

    /// Rotates the head vector at `x` for position `position` (within `table`).
    func rotate(_ x: UnsafeMutablePointer<Float>, position: Int, table: (cosines: [Float], sines: [Float])) {
        let half = dimensions / 2
        let base = position * half
        for i in 0..<half {
            let (a, b) = (x[i], x[i + half])
            let (c, s) = (table.cosines[base + i], table.sines[base + i])
            x[i] = a * c - b * s
            x[i + half] = b * c + a * s
        }
    }
}

/// How a query's scores are masked and shaped: causal, a sliding window (a query sees itself and
/// the `window − 1` tokens before it), soft-capping (score → cap·tanh(score/cap)).
struct AttentionMask {
    var causal: Bool
    var window: Int? = nil
    var softcap: Float? = nil
}

/// Scaled dot-product attention of every head of every packed sequence: `qkv` holds the fused
/// projections of all tokens ([tokens, q | k | v] in `layout`), `sequences` the token ranges of each sequence.
/// Scores, softmax and the weighted sum run per sequence and head on BLAS, with no padding. The
/// products are small (a sentence × a head), where OpenBLAS's own threads spend their time
/// yielding; so the (sequence, head) pairs are spread over the BLAS thread count with BLAS
/// single-threaded meanwhile. Each pair writes its own block of the context.
func attention(
    _ qkv: Matrix<Float>, layout: QKVLayout, heads: Int, headSize d: Int, sequences: [Range<Int>], mask: AttentionMask, scale: Float
) -> Matrix<Float> {
    let (rowWidth, hidden) = (qkv.columns, heads * d)
    let longest = sequences.map(\.count).max() ?? 0
    let pairs = sequences.filter { !$0.isEmpty }.flatMap { range in (0..<heads).map { (range, $0) } }
    var context = Matrix<Float>(rows: qkv.rows, columns: hidden)
    BLASThreads.owned { threads in
        let workers = max(1, min(threads, pairs.count))
        qkv.withUnsafeBufferPointer { qp in
            context.withUnsafeMutableBufferPointer { cp in
                let (input, output) = (SharedBuffer(qp.baseAddress!), SharedBuffer(cp.baseAddress!))
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let (q0, c0) = (UnsafePointer(input.pointer), output.pointer)
                    let s = UnsafeMutablePointer<Float>.allocate(capacity: max(1, longest * longest))
                    defer { s.deallocate() }
                    for (range, h) in stride(from: worker, to: pairs.count, by: workers).map({ pairs[$0] }) {
                        let t = range.count
                        let rowBase = q0 + range.lowerBound * rowWidth
                        let (q, k, v) = layout.columns(head: h, headSize: d, heads: heads)
                        BLAS.gemm(
                            transposeB: true, m: t, n: t, k: d, alpha: scale, a: rowBase + q, lda: rowWidth,
                            b: rowBase + k, ldb: rowWidth, c: s, ldc: t)
                        for i in 0..<t {
                            let row = s + i * t
                            let visible = mask.causal ? i + 1 : t
                            let first = mask.window.map { max(0, i - $0 + 1) } ?? 0
                            if let cap = mask.softcap { for j in first..<visible { row[j] = cap * tanhf(row[j] / cap) } }
                            var top = -Float.infinity
                            for j in first..<visible where row[j] > top { top = row[j] }
                            var total: Float = 0
                            for j in first..<visible { row[j] = expf(row[j] - top); total += row[j] }
                            let inverse = 1 / total
                            for j in first..<visible { row[j] *= inverse }
                            for j in 0..<first { row[j] = 0 }
                            for j in visible..<t { row[j] = 0 }
                        }
                        BLAS.gemm(
                            m: t, n: d, k: t, a: s, lda: t, b: rowBase + v, ldb: rowWidth,
                            c: c0 + range.lowerBound * hidden + h * d, ldc: hidden)
                    }
                }
            }
        }
    }
    return context
}
