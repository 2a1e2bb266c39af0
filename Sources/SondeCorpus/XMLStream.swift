import CLibXML2
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
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_HUGE.rawValue)
        guard let r = xmlReaderForMemory(
            mapping.bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(mapping.bytes.count), path, nil, options)
        else { throw CorpusError(path, line: 1, "libxml2 could not start reading the file") }
        reader = r
        let handler: xmlTextReaderErrorFunc = { arg, message, severity, locator in
            guard let arg, let message,
                severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR
            else { return }
            let box = Unmanaged<ErrorBox>.fromOpaque(arg).takeUnretainedValue()
            if box.message == nil {
                box.message = String(cString: message).trimmingWhitespace()
                box.line = locator.map { Int(xmlTextReaderLocatorLineNumber($0)) } ?? 0
            }
        }
        xmlTextReaderSetErrorHandler(reader, handler, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit { xmlFreeTextReader(reader) }

    /// True once libxml2 has reported a syntax error (the rest of the file is unreadable).
    var failed: Bool { errors.message != nil }

    /// Moves to the next node; false at the end of the document.
    func next() throws -> Bool {
        let status = xmlTextReaderRead(reader)
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

/// Escapes text for an XML attribute value in double quotes.
func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "\n": out += "&#10;"
        case "\r": out += "&#13;"
        case "\t": out += "&#9;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}
