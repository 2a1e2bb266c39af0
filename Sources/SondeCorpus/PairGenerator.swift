import SondeBase

/// Minimal pairs made from the embedded grammar's lexicon (the words of `corpora/default.*`),
/// seeded: Number flipped in several agreement configurations, and two controls that have
/// nothing to do with Number. Sentences are lower-case words joined by spaces, ending in " .",
/// as the default treebank writes them. Nouns spelled alike in both numbers ("fish") are never
/// the word whose number decides, so every bad sentence is really bad.
public enum PairGenerator {
    /// The tasks, with their groups (BLiMP's names where BLiMP has the phenomenon).
    public static let grammarTasks: [(id: String, group: String, example: String)] = [
        ("sv-adjacent", "subject_verb_agreement", "the cook chops / *chop the onion ."),
        ("sv-pronoun", "subject_verb_agreement", "they chop / *chops the onion ."),
        ("sv-pp-same", "subject_verb_agreement", "the cook near the guest chops / *chop the onion ."),
        ("sv-pp-other", "subject_verb_agreement", "the cook near the guests chops / *chop the onion ."),
        ("sv-subject-relative", "subject_verb_agreement", "the cook that likes the guests chops / *chop the onion ."),
        ("sv-object-relative", "subject_verb_agreement", "the cook that the guests like chops / *chop the onion ."),
        ("sv-embedded", "subject_verb_agreement", "Marta says that the cooks chop / *chops the onion ."),
        ("det-noun-adjacent", "determiner_noun_agreement", "the cook chops these / *this onions ."),
        ("det-noun-adjective", "determiner_noun_agreement", "the cook chops these old / *this old onions ."),
        ("reflexive-number", "anaphor_agreement", "the cooks like themselves / *himself ."),
        ("missing-object", "control", "the cook likes the onion / *the cook likes ."),
        ("swapped-words", "control", "the cook likes the onion / *the likes cook the onion ."),
    ]

    /// `count` pairs of each task in `tasks` (all of them when empty), from `seed`.
    public static func grammar(tasks: [String] = [], count: Int, seed: UInt64) throws -> [PairTask] {
        try UnknownPairTask.check(tasks, known: grammarTasks.map(\.id), source: "grammar")
        let chosen = tasks.isEmpty ? grammarTasks : grammarTasks.filter { tasks.contains($0.id) }
        return chosen.map { task in
            var hash = FNV1a()
            hash.mix(task.id.utf8)
            var maker = Maker(random: SplitMix64(seed: seed ^ hash.value))
            var pairs: [MinimalPair] = []
            var seen = Set<String>()
            // Distinct pairs; a small lexicon may not have `count` of them, so give up after 50×.
            var attempts = 0
            while pairs.count < count && attempts < 50 * count {
                attempts += 1
                let pair = maker.pair(task.id)
                if seen.insert(pair.good + "\t" + pair.bad).inserted { pairs.append(pair) }
            }
            return PairTask(id: task.id, group: task.group, pairs: pairs)
        }
    }

    private struct Maker {
        var random: SplitMix64

        mutating func pick<T>(_ items: [T]) -> T { items[random.below(items.count)] }
        mutating func coin() -> Bool { random.below(2) == 1 }

        /// A noun whose two forms differ, from the topic.
        mutating func noun(_ topic: Topic, human: Bool = false) -> Noun {
            let humans: Set = ["cook", "guest", "gardener", "child", "sailor", "captain"]
            return pick(topic.nouns.filter { $0.singular != $0.plural && (!human || humans.contains($0.singular)) })
        }
        mutating func transitive(_ topic: Topic) -> Verb { pick(topic.verbs.filter(\.transitive)) }
        func np(_ n: Noun, _ plural: Bool) -> [String] { ["the", plural ? n.plural : n.singular] }
        func verb(_ v: Verb, plural: Bool) -> String { plural ? v.lemma : v.third }
        mutating func object(_ topic: Topic) -> [String] { np(noun(topic), coin()) }

        /// Verbs that cannot go without their object ("the cook likes ." is bad).
        static let needObject: Set = ["like", "chop", "mend", "plant", "water", "catch", "taste"]

        mutating func pair(_ task: String) -> MinimalPair {
            let topic = pick(Topic.all)
            let plural = coin()
            let subject = noun(topic)
            let v = transitive(topic)
            func agreement(_ before: [String], _ after: [String]) -> MinimalPair {
                let good = before + [verb(v, plural: plural)] + after, bad = before + [verb(v, plural: !plural)] + after
                return MinimalPair(good: good.joined(separator: " "), bad: bad.joined(separator: " "), prefix: before.joined(separator: " "))
            }
            switch task {
            case "sv-adjacent":
                return agreement(np(subject, plural), object(topic) + ["."])
            case "sv-pronoun":
                let pronoun = plural ? pick(["they", "we"]) : pick(["he", "she", "it"])
                // "we" takes the plain form like a plural; "I"/"you" are left out (plain form in the singular).
                return agreement([pronoun], object(topic) + ["."])
            case "sv-pp-same", "sv-pp-other":
                let attractor = np(noun(topic), task == "sv-pp-same" ? plural : !plural)
                return agreement(np(subject, plural) + [pick(Lexicon.prepositions).form] + attractor, object(topic) + ["."])
            case "sv-subject-relative":
                let inner = transitive(topic)
                return agreement(np(subject, plural) + ["that", verb(inner, plural: plural)] + object(topic), object(topic) + ["."])
            case "sv-object-relative":
                let inner = transitive(topic), innerPlural = coin()
                return agreement(
                    np(subject, plural) + ["that"] + np(noun(topic), innerPlural) + [verb(inner, plural: innerPlural)], object(topic) + ["."])
            case "sv-embedded":
                let say = pick(Topic.sharedVerbs.filter(\.takesClause))
                return agreement([pick(topic.names).form, say.third, "that"] + np(subject, plural), object(topic) + ["."])
            case "det-noun-adjacent", "det-noun-adjective":
                let n = noun(topic), near = coin()
                let det = plural ? (near ? "these" : "those") : (near ? "this" : "that")
                let flipped = plural ? (near ? "this" : "that") : (near ? "these" : "those")
                let adjective = task == "det-noun-adjective" ? [pick(Lexicon.adjectives).form] : []
                let subjectPlural = coin()
                let before = np(subject, subjectPlural) + [verb(v, plural: subjectPlural)]
                let after = adjective + [plural ? n.plural : n.singular, "."]
                return MinimalPair(
                    good: (before + [det] + after).joined(separator: " "), bad: (before + [flipped] + after).joined(separator: " "),
                    prefix: before.joined(separator: " "))
            case "reflexive-number":
                let person = noun(topic, human: true)
                let singular = pick(["himself", "herself"])
                let good = plural ? "themselves" : singular, bad = plural ? singular : "themselves"
                let before = np(person, plural) + [verb(v, plural: plural)]
                return MinimalPair(
                    good: (before + [good, "."]).joined(separator: " "), bad: (before + [bad, "."]).joined(separator: " "),
                    prefix: before.joined(separator: " "))
            case "missing-object":
                let needs = pick(topic.verbs.filter { Self.needObject.contains($0.lemma) })
                let before = np(subject, plural) + [verb(needs, plural: plural)]
                return MinimalPair(
                    good: (before + object(topic) + ["."]).joined(separator: " "), bad: (before + ["."]).joined(separator: " "),
                    prefix: before.joined(separator: " "))
            default:  // swapped-words
                let words = np(subject, plural) + [verb(v, plural: plural)] + object(topic) + ["."]
                let i = random.below(words.count - 2)  // never the final period
                var swapped = words
                swapped.swapAt(i, i + 1)
                return MinimalPair(
                    good: words.joined(separator: " "), bad: swapped.joined(separator: " "), prefix: words[..<i].joined(separator: " "))
            }
        }
    }
}

/// Minimal pairs from a CoNLL-U treebank: a real sentence and the same sentence with its
/// critical word swapped for a form of the same lemma with the other Number, found in the
/// treebank itself — the finite present-tense verb of an `nsubj` (subject–verb), or the
/// demonstrative of a noun (this/these, that/those). A verb whose two forms are spelled alike
/// ("put") or whose other form the treebank lacks is skipped, and counted.
public enum TreebankPairs {
    public static let tasks: [(id: String, group: String)] = [
        ("treebank-subject-verb", "subject_verb_agreement"), ("treebank-determiner-noun", "determiner_noun_agreement"),
    ]

    /// Pairs made and sentences skipped per task, with why.
    public struct Made: Sendable {
        public var tasks: [PairTask]
        /// Per task: reason → count.
        public var skipped: [String: [String: Int]]
    }

    /// Up to `count` pairs of each task (all when nil), from sentences in a seeded order; a
    /// sentence gives at most one pair per task (its first critical word).
    public static func make(_ corpus: Corpus, tasks wanted: [String] = [], count: Int? = nil, seed: UInt64) throws -> Made {
        try UnknownPairTask.check(wanted, known: tasks.map(\.id), source: "treebank")
        // lemma → Number → the most frequent form (ties: the first in alphabetical order).
        var verbForms: [String: [String: [String: Int]]] = [:]
        for s in corpus.sentences {
            for w in s.words where w.upos == "VERB" || w.upos == "AUX" {
                guard w.feature("VerbForm") == "Fin", w.feature("Tense") == "Pres", let lemma = w.lemma else { continue }
                let number = number(of: w)
                verbForms[lemma.lowercased(), default: [:]][number, default: [:]][w.form.lowercased(), default: 0] += 1
            }
        }
        func form(_ lemma: String, _ number: String) -> String? {
            verbForms[lemma]?[number]?.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        }
        var generator = SplitMix64(seed: seed)
        let order = generator.shuffled(Array(corpus.sentences.indices))
        var result: [PairTask] = []
        var skipped: [String: [String: Int]] = [:]
        for task in tasks where wanted.isEmpty || wanted.contains(task.id) {
            var pairs: [MinimalPair] = []
            var reasons: [String: Int] = [:]
            for index in order {
                if let count, pairs.count >= count { break }
                let words = corpus.sentences[index].words
                var swap: (Int, String)?
                if task.id == "treebank-subject-verb" {
                    guard let subject = words.first(where: { $0.deprel == "nsubj" }), let h = subject.head, h >= 1, h <= words.count else {
                        continue
                    }
                    let verb = words[h - 1]
                    guard verb.feature("VerbForm") == "Fin", verb.feature("Tense") == "Pres", let lemma = verb.lemma?.lowercased() else { continue }
                    let number = number(of: verb)
                    guard let other = form(lemma, number == "Sing" ? "Plur" : "Sing") else {
                        reasons["no form of the other number in the treebank", default: 0] += 1
                        continue
                    }
                    guard other != verb.form.lowercased() else {
                        reasons["both numbers spelled alike", default: 0] += 1
                        continue
                    }
                    swap = (h - 1, matchCase(other, verb.form))
                } else {
                    let flips = ["this": "these", "these": "this", "that": "those", "those": "that"]
                    guard
                        let i = words.indices.first(where: { i in
                            flips[words[i].form.lowercased()] != nil && words[i].upos == "DET"
                                && words[i].head.map { $0 >= 1 && $0 <= words.count && words[$0 - 1].upos == "NOUN" } == true
                        })
                    else { continue }
                    swap = (i, matchCase(flips[words[i].form.lowercased()]!, words[i].form))
                }
                guard let (i, replacement) = swap else { continue }
                let good = words.map(\.form)
                var bad = good
                bad[i] = replacement
                pairs.append(
                    MinimalPair(good: good.joined(separator: " "), bad: bad.joined(separator: " "), prefix: good[..<i].joined(separator: " ")))
            }
            result.append(PairTask(id: task.id, group: task.group, pairs: pairs))
            skipped[task.id] = reasons
        }
        return Made(tasks: result, skipped: skipped)
    }

    /// A verb's grammatical number: its Number feature, or Plur for a finite present form
    /// without one that is not third person singular (English "they see" is tagged VBP).
    static func number(of w: Word) -> String {
        if let n = w.feature("Number") { return n }
        return w.xpos == "VBZ" ? "Sing" : "Plur"
    }

    static func matchCase(_ form: String, _ like: String) -> String {
        like.first?.isUppercase == true ? form.prefix(1).uppercased() + form.dropFirst() : form
    }
}

/// A task name no generator makes; the message lists the ones it does.
public struct UnknownPairTask: CategorizedError, Sendable {
    public let description: String
    public var category: ErrorCategory { .usage }

    static func check(_ wanted: [String], known: [String], source: String) throws {
        if let unknown = wanted.first(where: { !known.contains($0) }) {
            throw UnknownPairTask(description: "unknown \(source) task '\(unknown)'; tasks: \(known.joined(separator: ", "))")
        }
    }
}
