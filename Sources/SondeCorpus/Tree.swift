/// A constituency graph: phrase nodes with labelled edges to their daughters. PTB and Alpino
/// give trees; TIGER-XML allows discontinuous phrases, secondary edges and unattached nodes, so
/// the structure is a graph over `nodes` with a designated root.
public struct Tree: Sendable, Equatable {
    public struct Edge: Sendable, Equatable {
        public var child: Int
        /// The function of the daughter (TIGER edge label, Alpino `rel`); nil when unlabelled.
        public var label: String?

        public init(child: Int, label: String? = nil) {
            self.child = child
            self.label = label
        }
    }

    public struct Node: Sendable, Equatable {
        /// The category (`NP-SBJ-1`, `cat`) or, for a terminal, the part of speech.
        public var label: String
        /// The word this terminal is (index into the sentence's words), if it is one.
        public var word: Int?
        /// The text of a leaf that is not a word: an empty element (`*T*-1` under `-NONE-`),
        /// or the text of an `ID`/`CODE` node of Penn-style historical corpora.
        public var leafText: String?
        public var children: [Edge]
        /// Secondary edges (TIGER `<secedge>`), stored on the daughter: (label, mother).
        public var secondaryParents: [Edge]
        /// Every other attribute the source gave this node, in source order (TIGER features
        /// such as `morph`, Alpino attributes such as `index` or `postag`).
        public var attributes: [Attribute]

        public init(
            label: String, word: Int? = nil, leafText: String? = nil, children: [Edge] = [],
            secondaryParents: [Edge] = [], attributes: [Attribute] = []
        ) {
            self.label = label
            self.word = word
            self.leafText = leafText
            self.children = children
            self.secondaryParents = secondaryParents
            self.attributes = attributes
        }

        public func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
    }

    public var nodes: [Node]
    public var root: Int

    public init(nodes: [Node], root: Int) {
        self.nodes = nodes
        self.root = root
    }

    /// For each node, its first mother and the label of that edge (nil for the root and for
    /// nodes no edge reaches).
    public func parents() -> [(parent: Int, label: String?)?] {
        var result = [(parent: Int, label: String?)?](repeating: nil, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for edge in node.children where result[edge.child] == nil { result[edge.child] = (i, edge.label) }
        }
        return result
    }

    /// Depth of every node below the root (root 0; unreachable nodes nil).
    public func depths() -> [Int?] {
        var depth = [Int?](repeating: nil, count: nodes.count)
        guard root < nodes.count else { return depth }
        var stack = [(root, 0)]
        while let (n, d) = stack.popLast() {
            if depth[n] != nil { continue }
            depth[n] = d
            for edge in nodes[n].children { stack.append((edge.child, d + 1)) }
        }
        return depth
    }

    /// What makes this graph unfit for a tree walk, if anything: an edge to no node, a node that
    /// two edges reach (its words would be written twice), or a cycle (a walk would never end).
    /// Nodes no edge reaches are allowed (TIGER keeps unattached punctuation). Linear time, no
    /// recursion, so a deep or hostile graph cannot exhaust the stack.
    public func structuralProblem() -> StructuralProblem? {
        guard root >= 0 && root < nodes.count else { return .rootOutOfRange }
        var mother = [Int](repeating: -1, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for edge in node.children {
                guard edge.child >= 0 && edge.child < nodes.count else { return .dangling(node: i) }
                if mother[edge.child] >= 0 { return .sharedNode(node: edge.child, mothers: [mother[edge.child], i]) }
                mother[edge.child] = i
            }
        }
        // With at most one mother each, a node lies on a cycle exactly when no motherless node
        // reaches it.
        var reached = [Bool](repeating: false, count: nodes.count)
        var stack = nodes.indices.filter { mother[$0] < 0 }
        while let n = stack.popLast() {
            reached[n] = true
            for edge in nodes[n].children { stack.append(edge.child) }
        }
        guard let start = reached.firstIndex(of: false) else { return nil }
        var cycle = [start]
        var n = mother[start]
        while n != start && cycle.count <= nodes.count {
            cycle.append(n)
            n = mother[n]
        }
        return .cycle(nodes: cycle.reversed())
    }

    public enum StructuralProblem: Equatable, Sendable {
        case rootOutOfRange
        case dangling(node: Int)
        case sharedNode(node: Int, mothers: [Int])
        case cycle(nodes: [Int])
    }

    /// The node of each word (index = word index).
    public func terminals(wordCount: Int) -> [Int?] {
        var result = [Int?](repeating: nil, count: wordCount)
        for (i, node) in nodes.enumerated() {
            if let w = node.word, w < wordCount { result[w] = i }
        }
        return result
    }
}

/// A name/value attribute of a tree node.
public struct Attribute: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The declarations of a TIGER-XML `<head>`: kept so a converted corpus can be written back.
public struct TigerHeader: Sendable, Equatable {
    public struct Feature: Sendable, Equatable {
        public var name: String
        /// "T" (terminals), "NT" (nonterminals) or "FREC" (both).
        public var domain: String
        /// Declared values with their descriptions; empty for an open value set.
        public var values: [Attribute]

        public init(name: String, domain: String, values: [Attribute]) {
            self.name = name
            self.domain = domain
            self.values = values
        }
    }

    public var corpusID: String
    /// `<meta>` children (name, author, date, …) in order.
    public var meta: [Attribute]
    public var features: [Feature]
    public var edgeLabels: [Attribute]
    public var secondaryEdgeLabels: [Attribute]

    public init(
        corpusID: String, meta: [Attribute] = [], features: [Feature] = [], edgeLabels: [Attribute] = [], secondaryEdgeLabels: [Attribute] = []
    ) {
        self.corpusID = corpusID
        self.meta = meta
        self.features = features
        self.edgeLabels = edgeLabels
        self.secondaryEdgeLabels = secondaryEdgeLabels
    }
}
