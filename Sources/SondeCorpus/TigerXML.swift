import SondeBase

/// Reads TIGER-XML (http://www.ims.uni-stuttgart.de/forschung/ressourcen/werkzeuge/TIGERSearch/doc/html/TigerXML.html)
/// with libxml2's streaming reader, sentence by sentence.
///
/// - `<head>` (optional) is kept as `Corpus.tigerHeader`: meta, features, edge labels.
/// - Terminals become words in document order: `word` → form, `pos` → XPOS, `lemma`; every other
///   attribute (e.g. `morph`) stays on the terminal's tree node. `--` means "unknown": nil.
/// - Nonterminals (in any order; edges may point forward) become phrase nodes; `<edge>` gives the
///   daughter and its function label; `<secedge>` on a daughter names a secondary mother.
/// - Discontinuous phrases, several mothers, and nodes not reachable from the root (unattached
///   punctuation) are all representable; a reference to an id that does not exist is an error.
/// - Extra `<s>` attributes become `key = value` comments; `id` becomes `sent_id`.
public struct TigerReader: SentenceReader {
    private let xml: XMLStream
    public private(set) var header: TigerHeader?
    private var corpusID = ""

    public init(path: String) throws {
        xml = try XMLStream(path: path)
    }

    private struct PendingEdge {
        var from: Int
        var idref: String
        var label: String?
        var secondary: Bool
        var line: Int
    }

    /// The next sentence, or nil after `</body>`.
    public mutating func next() throws -> Sentence? {
        while try xml.next() {
            guard xml.kind == .element else { continue }
            switch xml.name {
            case "corpus":
                corpusID = xml.attributes().first { $0.name == "id" }?.value ?? ""
            case "head":
                header = try readHeader()
            case "s":
                return try readSentence()
            case "body", "subcorpus", "graph", "terminals", "nonterminals":
                continue
            default:
                continue
            }
        }
        return nil
    }

    /// Skips to the end of the current `<s>` after `next()` threw. After an XML syntax error
    /// nothing more can be read: libxml2 stops at the first one.
    public mutating func skipSentence() throws -> Bool {
        if xml.failed { return false }
        while try xml.next() {
            if xml.kind == .endElement && xml.name == "s" { return true }
        }
        return false
    }

    private mutating func readHeader() throws -> TigerHeader {
        var header = TigerHeader(corpusID: corpusID)
        var feature: TigerHeader.Feature?
        var labelKind = ""  // "edgelabel" or "secedgelabel" while inside one
        var inMeta = false
        while try xml.next() {
            switch xml.kind {
            case .element:
                let name = xml.name
                if inMeta {
                    let empty = xml.isEmptyElement
                    header.meta.append(Attribute(name, empty ? "" : try xml.elementText()))
                    continue
                }
                switch name {
                case "meta": inMeta = !xml.isEmptyElement
                case "feature":
                    let a = xml.attributes()
                    let f = TigerHeader.Feature(
                        name: a.first { $0.name == "name" }?.value ?? "", domain: a.first { $0.name == "domain" }?.value ?? "", values: [])
                    if xml.isEmptyElement { header.features.append(f) } else { feature = f }
                case "edgelabel", "secedgelabel":
                    labelKind = xml.isEmptyElement ? "" : name
                case "value":
                    let valueName = xml.attributes().first { $0.name == "name" }?.value ?? ""
                    let value = Attribute(valueName, try xml.elementText())
                    if feature != nil {
                        feature!.values.append(value)
                    } else if labelKind == "edgelabel" {
                        header.edgeLabels.append(value)
                    } else if labelKind == "secedgelabel" {
                        header.secondaryEdgeLabels.append(value)
                    }
                default: continue
                }
            case .endElement:
                switch xml.name {
                case "head": return header
                case "meta": inMeta = false
                case "feature":
                    if let f = feature { header.features.append(f) }
                    feature = nil
                case "edgelabel", "secedgelabel": labelKind = ""
                default: continue
                }
            default: continue
            }
        }
        throw CorpusError(xml.path, line: xml.line, "the file ends inside <head>")
    }

    private mutating func readSentence() throws -> Sentence {
        let startLine = xml.line
        var comments: [String] = []
        var sentenceID = ""
        for a in xml.attributes() {
            if a.name == "id" { sentenceID = a.value } else { comments.append("\(a.name) = \(a.value)") }
        }
        comments.insert("sent_id = \(sentenceID)", at: 0)
        var words: [Word] = []
        var nodes: [Tree.Node] = []
        var index: [String: Int] = [:]
        var edges: [PendingEdge] = []
        var rootRef: (id: String, line: Int)?
        var current: Int?  // the <t> or <nt> whose children we are reading
        func unknown(_ s: String?) -> String? { s == "--" ? nil : s }
        while try xml.next() {
            switch xml.kind {
            case .element:
                let line = xml.line
                switch xml.name {
                case "graph":
                    if let r = xml.attributes().first(where: { $0.name == "root" }) { rootRef = (r.value, line) }
                case "t", "nt":
                    var id: String?
                    var others: [Attribute] = []
                    var word = "", pos: String?, lemma: String?, category = "--"
                    let isTerminal = xml.name == "t"
                    for a in xml.attributes() {
                        switch (isTerminal, a.name) {
                        case (_, "id"): id = a.value
                        case (true, "word"): word = a.value
                        case (true, "pos"): pos = a.value
                        case (true, "lemma"): lemma = a.value
                        case (false, "cat"): category = a.value
                        default: others.append(a)
                        }
                    }
                    guard let id else { throw CorpusError(xml.path, line: line, "<\(xml.name)> without an id") }
                    guard index[id] == nil else { throw CorpusError(xml.path, line: line, "id '\(id)' is used twice") }
                    index[id] = nodes.count
                    if isTerminal {
                        nodes.append(Tree.Node(label: pos ?? "--", word: words.count, attributes: others))
                        words.append(Word(form: word, lemma: unknown(lemma), xpos: unknown(pos)))
                    } else {
                        nodes.append(Tree.Node(label: category, attributes: others))
                    }
                    current = xml.isEmptyElement ? nil : nodes.count - 1
                case "edge", "secedge":
                    guard let from = current else {
                        throw CorpusError(xml.path, line: line, "<\(xml.name)> outside a <t> or <nt>")
                    }
                    let a = xml.attributes()
                    guard let idref = a.first(where: { $0.name == "idref" })?.value else {
                        throw CorpusError(xml.path, line: line, "<\(xml.name)> without an idref")
                    }
                    let label = a.first { $0.name == "label" }?.value
                    edges.append(PendingEdge(from: from, idref: idref, label: label, secondary: xml.name == "secedge", line: line))
                default: continue
                }
            case .endElement:
                switch xml.name {
                case "t", "nt": current = nil
                case "s":
                    for e in edges {
                        guard let target = index[e.idref] else {
                            throw CorpusError(
                                xml.path, line: e.line,
                                "\(e.secondary ? "secedge" : "edge") idref '\(e.idref)' names no node of sentence '\(sentenceID)'")
                        }
                        if e.secondary {
                            nodes[e.from].secondaryParents.append(Tree.Edge(child: target, label: e.label))
                        } else {
                            nodes[e.from].children.append(Tree.Edge(child: target, label: e.label))
                        }
                    }
                    var root = 0
                    if let r = rootRef {
                        guard let n = index[r.id] else {
                            throw CorpusError(xml.path, line: r.line, "graph root '\(r.id)' names no node of sentence '\(sentenceID)'")
                        }
                        root = n
                    }
                    guard !words.isEmpty else { throw CorpusError(xml.path, line: startLine, "sentence '\(sentenceID)' has no terminals") }
                    let tree = Tree(nodes: nodes, root: root)
                    let names = index.reduce(into: [Int: String]()) { $0[$1.value] = $1.key }
                    switch tree.structuralProblem() {
                    case .cycle(let cycle):
                        throw CorpusError(
                            xml.path, line: startLine,
                            "sentence '\(sentenceID)': cycle through nodes \((cycle + [cycle[0]]).map { names[$0] ?? "?" }.joined(separator: " → "))")
                    case .sharedNode(let node, let mothers):
                        throw CorpusError(
                            xml.path, line: startLine,
                            "sentence '\(sentenceID)': node \(names[node] ?? "?") has two mothers, \(mothers.map { names[$0] ?? "?" }.joined(separator: " and ")) (use <secedge> for a second mother)"
                        )
                    case .rootOutOfRange, .dangling: preconditionFailure("every edge and the root were resolved above")
                    case nil: break
                    }
                    return Sentence(
                        comments: comments, words: words, tree: tree,
                        location: TextLocation(path: xml.path, line: startLine))
                default: continue
                }
            default: continue
            }
        }
        throw CorpusError(xml.path, line: xml.line, "the file ends inside sentence '\(sentenceID)'")
    }
}

/// Writes TIGER-XML. Node ids follow the usual convention: terminals `<s>_1 … <s>_n`, phrases
/// `<s>_500 …`. A sentence without a tree gets a flat `VROOT` phrase over its words.
public enum TigerWriter {
    public static func write(_ corpus: Corpus, to path: String) throws {
        try AtomicFile.write(to: path) { writer in
            let id = corpus.tigerHeader?.corpusID ?? "sonde"
            try writer.write(Array("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<corpus id=\"\(xmlEscape(id))\">\n".utf8))
            if let h = corpus.tigerHeader { try writer.write(Array(header(h).utf8)) }
            try writer.write(Array("<body>\n".utf8))
            for (i, s) in corpus.sentences.enumerated() { try writer.write(Array(sentence(s, number: i + 1).utf8)) }
            try writer.write(Array("</body>\n</corpus>\n".utf8))
        }
    }

    static func header(_ h: TigerHeader) -> String {
        func values(_ list: [Attribute]) -> String {
            list.map { "      <value name=\"\(xmlEscape($0.name))\">\(xmlEscape($0.value))</value>\n" }.joined()
        }
        var out = "<head>\n"
        if !h.meta.isEmpty {
            out += "  <meta>\n" + h.meta.map { "    <\($0.name)>\(xmlEscape($0.value))</\($0.name)>\n" }.joined() + "  </meta>\n"
        }
        out += "  <annotation>\n"
        for f in h.features {
            out += "    <feature name=\"\(xmlEscape(f.name))\" domain=\"\(xmlEscape(f.domain))\">\n" + values(f.values) + "    </feature>\n"
        }
        out += "    <edgelabel>\n" + values(h.edgeLabels) + "    </edgelabel>\n"
        if !h.secondaryEdgeLabels.isEmpty { out += "    <secedgelabel>\n" + values(h.secondaryEdgeLabels) + "    </secedgelabel>\n" }
        return out + "  </annotation>\n</head>\n"
    }

    static func sentence(_ s: Sentence, number: Int) -> String {
        let sid = s.id ?? "s\(number)"
        var attributes = " id=\"\(xmlEscape(sid))\""
        for c in s.comments {
            guard let eq = c[...].range(of: " = ") else { continue }
            let key = String(c[..<eq.lowerBound])
            guard key != "sent_id", isXMLName(key) else { continue }
            attributes += " \(key)=\"\(xmlEscape(String(c[eq.upperBound...])))\""
        }
        // Tree: given, or a flat VROOT over the words.
        let tree =
            s.tree
            ?? Tree(
                nodes: s.words.indices.map { Tree.Node(label: s.words[$0].xpos ?? "--", word: $0) }
                    + [Tree.Node(label: "VROOT", children: s.words.indices.map { Tree.Edge(child: $0, label: "--") })],
                root: s.words.count)
        // Ids: terminals in word order, then the other nodes in node order.
        var ids = [String](repeating: "", count: tree.nodes.count)
        var terminalNodes: [Int] = []
        var next = 500
        for (i, node) in tree.nodes.enumerated() {
            if let w = node.word {
                ids[i] = "\(sid)_\(w + 1)"
                terminalNodes.append(i)
            } else {
                ids[i] = "\(sid)_\(next)"
                next += 1
            }
        }
        terminalNodes.sort { tree.nodes[$0].word! < tree.nodes[$1].word! }
        func secondary(_ node: Tree.Node) -> String {
            node.secondaryParents.map { "<secedge\(labelAttribute($0.label)) idref=\"\(xmlEscape(ids[$0.child]))\"/>" }.joined()
        }
        func extra(_ node: Tree.Node) -> String {
            node.attributes.map { " \($0.name)=\"\(xmlEscape($0.value))\"" }.joined()
        }
        var out = "<s\(attributes)>\n<graph root=\"\(xmlEscape(ids[tree.root]))\">\n<terminals>\n"
        for n in terminalNodes {
            let node = tree.nodes[n]
            let w = s.words[node.word!]
            out += "<t id=\"\(xmlEscape(ids[n]))\" word=\"\(xmlEscape(w.form))\" pos=\"\(xmlEscape(w.xpos ?? "--"))\""
            out += " lemma=\"\(xmlEscape(w.lemma ?? "--"))\"" + extra(node)
            let sec = secondary(node)
            out += sec.isEmpty ? "/>\n" : ">\(sec)</t>\n"
        }
        out += "</terminals>\n<nonterminals>\n"
        for (n, node) in tree.nodes.enumerated() where node.word == nil {
            out += "<nt id=\"\(xmlEscape(ids[n]))\" cat=\"\(xmlEscape(node.label))\"" + extra(node) + ">"
            for e in node.children { out += "<edge\(labelAttribute(e.label)) idref=\"\(xmlEscape(ids[e.child]))\"/>" }
            out += secondary(node) + "</nt>\n"
        }
        return out + "</nonterminals>\n</graph>\n</s>\n"
    }

    private static func labelAttribute(_ label: String?) -> String {
        label.map { " label=\"\(xmlEscape($0))\"" } ?? ""
    }

    static func isXMLName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0 == "." || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}
