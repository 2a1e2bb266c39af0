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
        let known = Set(grammarTasks.map(\.id))
        if let unknown = tasks.first(where: { !known.contains($0) }) {
            throw CorpusError("--tasks", line: 0, "unknown grammar task '\(unknown)'; tasks: \(grammarTasks.map(\.id).joined(separator: ", "))")
        }
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
