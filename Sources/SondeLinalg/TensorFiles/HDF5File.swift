import SondeBase

/// The subset of HDF5 that h5py writes by default (and so NeuroX's activation files): superblock
/// version 0, a root group of symbol-table nodes (v1 B-tree and local heap), version-1 object
/// headers, contiguous or compact datasets of little-endian floats, variable-length strings in a
/// global heap. Anything else (chunked or filtered data, newer superblocks) is refused by name.
///
/// Written in Swift rather than through libhdf5 because the file comes from a stranger: libhdf5
/// 1.10 crashes (SIGSEGV) on damaged copies of NeuroX's own fixture. Here every address and size
/// is checked against the file before it is followed, B-tree walks are bounded and cannot loop.
struct HDF5File {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let base: Int
    private let offsetSize: Int
    private let lengthSize: Int
    /// Root group members: name → object header address.
    private(set) var members: [String: Int] = [:]

    /// One dataset: its shape and its element type.
    struct Dataset {
        enum Element { case float32, float64, variableString }
        let name: String
        let shape: [Int]
        let element: Element
        /// Where its raw data lie in the file, checked to be inside it.
        let data: Range<Int>
    }

    init(path: String, bytes: UnsafeRawBufferPointer) throws {
        self.path = path
        self.bytes = bytes
        // The superblock is at 0 or after a user block of 512, 1024, 2048 … bytes.
        var at = 0
        while at + 8 <= bytes.count && !bytes[at..<(at + 8)].elementsEqual(NeuroXHDF5.signature) { at = at == 0 ? 512 : at * 2 }
        guard at + 8 <= bytes.count else { throw TensorFileError(.malformed, path, "no HDF5 superblock") }
        func byte(_ i: Int) throws -> Int {
            guard at + i < bytes.count else { throw TensorFileError(.malformed, path, "the HDF5 superblock is cut short") }
            return Int(bytes[at + i])
        }
        guard try byte(8) == 0 else {
            throw TensorFileError(
                .malformed, path,
                "HDF5 superblock version \(try byte(8)): Sonde reads version 0, which h5py (and so NeuroX) writes by default; re-save the file with h5py's default libver"
            )
        }
        (offsetSize, lengthSize, base) = (try byte(13), try byte(14), at)
        guard offsetSize == 8, lengthSize == 8 else {
            throw TensorFileError(.malformed, path, "HDF5 addresses of \(offsetSize) and lengths of \(lengthSize) bytes (Sonde reads 8 and 8)")
        }
        // Root group symbol table entry (after 24 bytes of fixed fields and four addresses): its
        // object header holds the symbol table message.
        let rootHeader = try address(at + 24 + 4 * 8 + 8)
        members = try groupMembers(objectHeader: rootHeader)
    }

    // MARK: Checked reading

    private func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, "HDF5: " + message) }

    private func require(_ range: Range<Int>, _ what: String) throws {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { throw fail("\(what) lies outside the file") }
    }

    private func unsigned(_ at: Int, _ size: Int) throws -> Int {
        try require(at..<(at + size), "a field at byte \(at)")
        var value: UInt64 = 0
        for k in (0..<size).reversed() { value = value << 8 | UInt64(bytes[at + k]) }
        guard value <= UInt64(Int.max) else { throw fail("a field at byte \(at) is out of range") }
        return Int(value)
    }

    /// A length field, checked to fit in the file (so adding it to an address cannot overflow).
    private func length(_ at: Int, _ size: Int) throws -> Int {
        let value = try unsigned(at, size)
        guard value <= bytes.count else { throw fail("a length at byte \(at) is larger than the file") }
        return value
    }

    /// An address field, made absolute and checked to point into the file.
    private func address(_ at: Int) throws -> Int {
        try require(at..<(at + 8), "an address at byte \(at)")
        if bytes[at..<(at + 8)].allSatisfy({ $0 == 0xFF }) { throw fail("an undefined address at byte \(at)") }
        let value = try unsigned(at, 8)
        guard value < bytes.count - base else { throw fail("an address at byte \(at) points past the end of the file") }
        return base + value
    }

    private func signature(_ at: Int, _ text: String) throws {
        try require(at..<(at + 4), "a \(text) block")
        guard bytes[at..<(at + 4)].elementsEqual(text.utf8) else { throw fail("expected a \(text) block at byte \(at)") }
    }

    // MARK: Groups

    /// The members of a group whose object header holds a symbol table message.
    private func groupMembers(objectHeader: Int) throws -> [String: Int] {
        guard let table = try messages(objectHeader).first(where: { $0.type == 0x11 }) else {
            throw fail("the root group has no symbol table (a file written with a newer libver; Sonde reads h5py's default)")
        }
        let tree = try address(table.body.lowerBound), heap = try address(table.body.lowerBound + 8)
        try signature(heap, "HEAP")
        let heapData = try address(heap + 24), heapSize = try length(heap + 8, 8)
        try require(heapData..<(heapData + heapSize), "the group's name heap")
        var members: [String: Int] = [:]
        var visited = Set<Int>()
        func walk(_ node: Int, depth: Int) throws {
            guard depth < 32, visited.insert(node).inserted else { throw fail("the group's B-tree loops or is deeper than 32 levels") }
            try signature(node, "TREE")
            try require(node..<(node + 24), "a B-tree node")
            let (type, level, used) = (bytes[node + 4], Int(bytes[node + 5]), try unsigned(node + 6, 2))
            guard type == 0 else { throw fail("a group B-tree node of type \(type)") }
            // After the siblings: key, child, key, child, …, key (keys are heap offsets).
            for k in 0..<used {
                let child = try address(node + 24 + 8 + k * 16)
                if level > 0 { try walk(child, depth: depth + 1) } else { try symbols(child) }
            }
        }
        func symbols(_ node: Int) throws {
            try signature(node, "SNOD")
            let count = try unsigned(node + 6, 2)
            for k in 0..<count {
                let entry = node + 8 + k * 40
                let nameOffset = try unsigned(entry, 8)
                guard nameOffset < heapSize else { throw fail("a member name outside the group's heap") }
                let start = heapData + nameOffset
                guard let end = (start..<(heapData + heapSize)).first(where: { bytes[$0] == 0 }) else { throw fail("an unterminated member name") }
                members[String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)] = try address(entry + 8)
            }
        }
        try walk(tree, depth: 0)
        return members
    }

    // MARK: Object headers

    private struct Message {
        let type: Int
        let body: Range<Int>
    }

    /// The messages of a version-1 object header, following continuation blocks.
    private func messages(_ header: Int) throws -> [Message] {
        try require(header..<(header + 16), "an object header")
        guard bytes[header] == 1 else { throw fail("object header version \(bytes[header]) at byte \(header) (Sonde reads version 1)") }
        let count = try unsigned(header + 2, 2)
        var blocks = [(header + 16)..<(header + 16 + (try length(header + 8, 4)))]
        var result: [Message] = []
        var b = 0
        while b < blocks.count && result.count < count {
            guard blocks.count <= 64 else { throw fail("an object header with more than 64 continuation blocks") }
            var at = blocks[b].lowerBound
            try require(blocks[b], "an object header block")
            while at + 8 <= blocks[b].upperBound && result.count < count {
                let type = try unsigned(at, 2), size = try unsigned(at + 2, 2)
                let body = (at + 8)..<(at + 8 + size)
                guard body.upperBound <= blocks[b].upperBound else { throw fail("a header message runs past its block at byte \(at)") }
                if type == 0x10 {
                    let next = try address(body.lowerBound), size = try length(body.lowerBound + 8, 8)
                    blocks.append(next..<(next + size))
                }
                result.append(Message(type: type, body: body))
                at = body.upperBound
            }
            b += 1
        }
        return result
    }

    /// A member dataset's shape, type and data extent, all checked.
    func dataset(_ name: String) throws -> Dataset {
        guard let header = members[name] else { throw fail("no dataset '\(name)'") }
        let list = try messages(header)
        func message(_ type: Int, _ what: String) throws -> Range<Int> {
            guard let m = list.first(where: { $0.type == type }) else { throw fail("dataset '\(name)' has no \(what)") }
            return m.body
        }
        if list.contains(where: { $0.type == 0x0B }) { throw fail("dataset '\(name)' is compressed or filtered (Sonde reads contiguous data)") }
        // Dataspace: version 1 (dims after 8 bytes) or 2 (after 4).
        let space = try message(0x01, "dataspace")
        try require(space.lowerBound..<(space.lowerBound + 2), "a dataspace")
        let version = Int(bytes[space.lowerBound]), rank = Int(bytes[space.lowerBound + 1])
        guard version == 1 || version == 2, rank <= 8 else { throw fail("dataset '\(name)': dataspace version \(version), rank \(rank)") }
        let first = space.lowerBound + (version == 1 ? 8 : 4)
        guard first + rank * 8 <= space.upperBound else { throw fail("dataset '\(name)': its dataspace is cut short") }
        let shape = try (0..<rank).map { try unsigned(first + $0 * 8, 8) }
        let (count, overflow) = shape.reduce((1, false)) { r, d in
            let m = r.0.multipliedReportingOverflow(by: d); return (m.partialValue, r.1 || m.overflow)
        }
        guard !overflow else { throw fail("dataset '\(name)' has shape \(shape), more elements than memory can address") }
        // Datatype: little-endian IEEE floats, or a variable-length string.
        let type = try message(0x03, "datatype")
        try require(type.lowerBound..<(type.lowerBound + 8), "a datatype")
        let typeClass = Int(bytes[type.lowerBound] & 0x0F), size = try unsigned(type.lowerBound + 4, 4)
        let element: Dataset.Element
        switch (typeClass, size) {
        case (1, 4) where bytes[type.lowerBound + 1] & 1 == 0: element = .float32
        case (1, 8) where bytes[type.lowerBound + 1] & 1 == 0: element = .float64
        case (9, 16) where bytes[type.lowerBound + 1] & 0x0F == 1: element = .variableString
        default: throw fail("dataset '\(name)' has datatype class \(typeClass) of \(size) bytes (Sonde reads little-endian floats and strings)")
        }
        // Layout version 3: compact (data inline) or contiguous (address, size).
        let layout = try message(0x08, "data layout")
        try require(layout.lowerBound..<(layout.lowerBound + 2), "a data layout")
        guard bytes[layout.lowerBound] == 3 else { throw fail("dataset '\(name)': data layout version \(bytes[layout.lowerBound]) (Sonde reads 3)") }
        let data: Range<Int>
        switch bytes[layout.lowerBound + 1] {
        case 0:
            let size = try unsigned(layout.lowerBound + 2, 2)
            data = (layout.lowerBound + 4)..<(layout.lowerBound + 4 + size)
            guard data.upperBound <= layout.upperBound else { throw fail("dataset '\(name)': its compact data run past its header") }
        case 1:
            let start = try address(layout.lowerBound + 2), size = try length(layout.lowerBound + 10, 8)
            data = start..<(start + size)
        default:
            throw fail("dataset '\(name)' is chunked (Sonde reads contiguous data, as h5py writes without compression)")
        }
        try require(data, "dataset '\(name)''s data")
        let (bytesNeeded, tooMany) = count.multipliedReportingOverflow(by: size)
        guard !tooMany, data.count == bytesNeeded else {
            throw fail("dataset '\(name)' has shape \(shape) of \(size)-byte elements but \(data.count) bytes of data")
        }
        return Dataset(name: name, shape: shape, element: element, data: data)
    }

    /// A float dataset's values as Float.
    func floats(_ d: Dataset) throws -> [Float] {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[d.data])
        switch d.element {
        case .float32:
            return (0..<(d.data.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
        case .float64:
            return (0..<(d.data.count / 8)).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian)) }
        case .variableString: throw fail("dataset '\(d.name)' holds strings, not numbers")
        }
    }

    /// A string dataset's values, from the global heap (each at most `limit` bytes).
    func strings(_ d: Dataset, limit: Int) throws -> [String] {
        guard d.element == .variableString else { throw fail("dataset '\(d.name)' does not hold strings") }
        return try stride(from: d.data.lowerBound, to: d.data.upperBound, by: 16).map { at in
            let stringBytes = try unsigned(at, 4), collection = try address(at + 4), index = try unsigned(at + 12, 4)
            guard stringBytes <= limit else {
                throw fail("a string of \(stringBytes) bytes in '\(d.name)' (the limit is \(limit); SONDE_MAX_HEADER_BYTES)")
            }
            try signature(collection, "GCOL")
            let end = collection + (try length(collection + 8, 8))
            try require(collection..<end, "a global heap collection")
            var object = collection + 16
            while object + 16 <= end {
                let (objectIndex, size) = (try unsigned(object, 2), try length(object + 8, 8))
                guard objectIndex != 0 else { break }
                let body = (object + 16)..<(object + 16 + size)
                guard body.upperBound <= end else { throw fail("a global heap object runs past its collection") }
                if objectIndex == index {
                    guard stringBytes <= size else { throw fail("a string longer than its heap object") }
                    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[body.lowerBound..<(body.lowerBound + stringBytes)]), as: UTF8.self)
                }
                object = body.upperBound + (8 - size % 8) % 8
            }
            throw fail("string \(index) of '\(d.name)' is not in its global heap collection")
        }
    }
}
