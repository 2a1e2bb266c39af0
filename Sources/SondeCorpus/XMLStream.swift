import CLibXML2
import Foundation
import SondeBase

/// A pull parser over one XML file: libxml2's streaming `xmlTextReader`, so a corpus is never
/// held as a DOM. Owns the reader and frees it; libxml2's errors are captured with their line
/// (never printed) and thrown as `CorpusError`.
final class XMLStream {
    enum Kind { case element, endElement, text, other }

    /// The first error libxml2 reported, with its line.
    private final class ErrorBox {
        var message: String?
        var line = 0
    }

    let path: String
    private let reader: xmlTextReaderPtr
    private let errors = ErrorBox()
    private let mapping: MappedFile

    init(path: String) throws {
        self.path = path
        mapping = try MappedFile(path: path)
        guard mapping.bytes.count > 0 else { throw CorpusError(path, line: 1, "the file is empty") }
        // Entity declarations let a few hundred bytes expand to gigabytes ("billion laughs").
        // Treebanks have no use for them (the five predefined entities and character references
        // still work), so a file that declares any is refused before libxml2 reads it.
        if let at = Self.firstOffset(of: "<!ENTITY", in: mapping.bytes) {
            let line = 1 + mapping.bytes[..<at].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw CorpusError(path, line: line, "the file declares XML entities (<!ENTITY); treebank files need none, and Sonde does not expand them")
        }
        guard mapping.bytes.count <= Int(Int32.max) else {
            throw CorpusError(path, line: 1, "the file is larger than libxml2 reads at once (2 GiB); split it into several files")
        }
        // No XML_PARSE_HUGE: libxml2's limits on depth, text size and amplification stay on.
        let options = Int32(XML_PARSE_NONET.rawValue)
        guard
            let r = xmlReaderForMemory(
                mapping.bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(mapping.bytes.count), path, nil, options)
        else { throw CorpusError(path, line: 1, "libxml2 could not start reading the file") }
        reader = r
        // The structured handler receives every error and warning of the parser, also those that
        // the reader's own handler never sees (which libxml2 would otherwise print).
        let handler: xmlStructuredErrorFunc = { arg, error in
            guard let arg, let error else { return }
            let box = Unmanaged<ErrorBox>.fromOpaque(arg).takeUnretainedValue()
            guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue, box.message == nil else { return }
            box.message =
                error.pointee.message.map { String(cString: $0).trimmingWhitespace() } ?? "malformed XML (libxml2 error \(error.pointee.code))"
            box.line = Int(error.pointee.line)
        }
        xmlTextReaderSetStructuredErrorHandler(reader, handler, Unmanaged.passUnretained(errors).toOpaque())
        // Errors raised outside the parser's context (an input that cannot be converted from the
        // encoding it declares) go to this thread's global handler, which would print them.
        xmlSetStructuredErrorFunc(Unmanaged.passUnretained(errors).toOpaque(), handler)
    }

    /// The offset of the first occurrence of `needle` (ASCII) in `bytes`.
    private static func firstOffset(of needle: String, in bytes: UnsafeRawBufferPointer) -> Int? {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count, let base = bytes.baseAddress else { return nil }
        var at = 0
        while at + pattern.count <= bytes.count, let hit = memchr(base + at, Int32(pattern[0]), bytes.count - pattern.count + 1 - at) {
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, pattern, pattern.count) == 0 { return offset }
            at = offset + 1
        }
        return nil
    }

    deinit {
        xmlSetStructuredErrorFunc(nil, nil)
        xmlFreeTextReader(reader)
    }

    /// True once libxml2 has reported a syntax error (the rest of the file is unreadable).
    var failed: Bool { errors.message != nil }

    /// Moves to the next node; false at the end of the document.
    func next() throws -> Bool {
        let status = xmlTextReaderRead(reader)
        // A failed read ends the file even when libxml2 said nothing (found by benchmarks/fuzz.sh:
        // an undecodable input made every later read fail again, forever, under --skip-invalid).
        if status < 0 && errors.message == nil { errors.message = "malformed XML" }
        if status < 0 || errors.message != nil {
            throw CorpusError(path, line: max(errors.line, line), "XML error: \(errors.message ?? "malformed XML")")
        }
        return status == 1
    }

    var kind: Kind {
        switch xmlTextReaderNodeType(reader) {
        case 1: return .element
        case 15: return .endElement
        case 3, 4: return .text
        default: return .other
        }
    }

    var name: String { xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? "" }
    var isEmptyElement: Bool { xmlTextReaderIsEmptyElement(reader) == 1 }
    /// The line of the current node (the parser itself may have read ahead).
    var line: Int {
        if let node = xmlTextReaderCurrentNode(reader) {
            let n = Int(xmlGetLineNo(node))
            if n > 0 { return n }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }
    var text: String { xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? "" }

    /// The current element's attributes, in document order.
    func attributes() -> [Attribute] {
        var result: [Attribute] = []
        guard xmlTextReaderHasAttributes(reader) == 1 else { return result }
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            let name = xmlTextReaderConstName(reader).map { String(cString: $0) } ?? ""
            let value = xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
            result.append(Attribute(name, value))
        }
        xmlTextReaderMoveToElement(reader)
        return result
    }

    /// The text content up to the end of the current element (which must not be empty).
    func elementText() throws -> String {
        if isEmptyElement { return "" }
        var text = ""
        while try next() {
            switch kind {
            case .text: text += self.text
            case .endElement: return text
            case .element: if !isEmptyElement { _ = try elementText() }
            case .other: continue
            }
        }
        return text
    }
}
