/// Reads one Alpino XML file (`alpino_ds`, one sentence) with libxml2's streaming reader.
///
/// Nodes nest; each node's `rel` labels the edge from its mother. A node with `word` is a word;
/// words are put in surface order by their `begin` (tree order is not surface order) and must
/// match the tokens of `<sentence>`. Empty co-indexed nodes (only `index`, no word or children)
/// stay in the tree. All attributes are kept on the nodes; the label is `cat` for phrases and
/// `postag` (else `pos`) for words, which also become the XPOS.
public enum AlpinoReader {
    public static func read(path: String) throws -> Sentence {
        let xml = try XMLStream(path: path)
        var nodes: [Tree.Node] = []
        var stack: [Int] = []
        var lexical: [(begin: Int, node: Int, line: Int)] = []
        var sentenceText: String?
        var sentenceID: String?
        var comments: [String] = []
        var sawRoot = false
        while try xml.next() {
            switch xml.kind {
            case .element:
                let line = xml.line
                switch xml.name {
                case "alpino_ds": sawRoot = true
                case "node":
                    let attributes = xml.attributes()
                    func value(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
                    let label = value("cat") ?? value("postag") ?? value("pos") ?? ""
                    nodes.append(Tree.Node(label: label, attributes: attributes))
                    let n = nodes.count - 1
                    if let mother = stack.last { nodes[mother].children.append(Tree.Edge(child: n, label: value("rel"))) }
                    if value("word") != nil {
                        guard let beginText = value("begin"), let begin = Int(beginText) else {
                            throw CorpusError(path, line: line, "word node \(value("id") ?? "?") has no integer begin")
                        }
                        lexical.append((begin, n, line))
                    }
                    if !xml.isEmptyElement { stack.append(n) }
                case "sentence":
                    sentenceID = xml.attributes().first { $0.name == "sentid" }?.value
                    sentenceText = try xml.elementText()
                case "comment":
                    comments.append("comment = " + (try xml.elementText()).replacingAll("\n", with: " "))
                default: continue
                }
            case .endElement:
                if xml.name == "node" { stack.removeLast() }
            default: continue
            }
        }
        guard sawRoot else { throw CorpusError(path, line: 1, "not an Alpino file: no <alpino_ds> element") }
        guard !nodes.isEmpty else { throw CorpusError(path, line: 1, "no <node> elements") }
        guard let sentenceText else { throw CorpusError(path, line: 1, "no <sentence> element") }
        lexical.sort { $0.begin < $1.begin }
        var words: [Word] = []
        for (i, entry) in lexical.enumerated() {
            if i > 0 && lexical[i - 1].begin == entry.begin {
                throw CorpusError(path, line: entry.line, "two word nodes begin at \(entry.begin)")
            }
            let node = nodes[entry.node]
            nodes[entry.node].word = i
            words.append(
                Word(form: node.attribute("word")!, lemma: node.attribute("lemma"), xpos: node.attribute("postag") ?? node.attribute("pos")))
        }
        let tokens = sentenceText.split(separator: " ")
        guard tokens.count == words.count else {
            throw CorpusError(path, line: 1, "<sentence> has \(tokens.count) tokens but the tree has \(words.count) word nodes")
        }
        var allComments = ["sent_id = \(sentenceID ?? fileStem(path))", "text = \(sentenceText)"]
        allComments += comments
        return Sentence(comments: allComments, words: words, tree: Tree(nodes: nodes, root: 0), location: TextLocation(path: path, line: 1))
    }

    static func fileStem(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".xml") { name.removeLast(4) }
        return name
    }
}
