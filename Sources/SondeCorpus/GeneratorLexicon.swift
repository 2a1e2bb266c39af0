/// A document topic of the generated treebank: its own nouns, verbs, adjectives, adverbs and
/// names, so a word several sentences away predicts the topic (`genre`).
struct Topic {
    var name: String
    var nouns: [Noun]
    var verbs: [Verb]
    var adjectives: [Lexeme]
    var adverbs: [Lexeme]
    var names: [Lexeme]

    /// `nouns` as "singular/plural" (or one form for both), `verbs` as "lemma third past
    /// participle" with `+t` for transitive and `+c` for a verb that takes a clause.
    init(_ name: String, nouns: [String], verbs: [String], adjectives: [String], adverbs: [String], names: [String]) {
        self.name = name
        self.nouns = nouns.map { n in
            let forms = n.split(separator: "/").map(String.init)
            return Noun(singular: forms[0], plural: forms.count > 1 ? forms[1] : forms[0])
        }
        self.verbs = Self.sharedVerbs + verbs.map(Self.verb)
        self.adjectives = adjectives.map { Lexeme(form: $0, lemma: $0, upos: "ADJ", xpos: "JJ", feats: "Degree=Pos") }
        self.adverbs = adverbs.map { Lexeme(form: $0, lemma: $0, upos: "ADV", xpos: "RB") }
        self.names = names.map { Lexeme(form: $0, lemma: $0, upos: "PROPN", xpos: "NNP", feats: "Number=Sing") }
    }

    private static func verb(_ entry: String) -> Verb {
        let w = entry.split(separator: " ").map(String.init)
        return Verb(lemma: w[0], third: w[1], pastForm: w[2], participleForm: w[3], transitive: w.contains("+t"), takesClause: w.contains("+c"))
    }

    static let sharedVerbs = [
        "see sees saw seen +t", "like likes liked liked +t", "say says said said +c", "think thinks thought thought +c", "wait waits waited waited",
    ].map(verb)

    static let all = [
        Topic(
            "kitchen",
            nouns: [
                "cook/cooks", "knife/knives", "pot/pots", "onion/onions", "dish/dishes", "recipe/recipes", "oven/ovens", "guest/guests",
                "spoon/spoons", "pepper/peppers", "kettle/kettles", "plate/plates", "sauce/sauces", "loaf/loaves",
            ],
            verbs: [
                "cook cooks cooked cooked +t", "chop chops chopped chopped +t", "taste tastes tasted tasted +t", "eat eats ate eaten +t",
                "stir stirs stirred stirred +t", "bake bakes baked baked +t", "boil boils boiled boiled", "fry fries fried fried +t",
            ],
            adjectives: ["hot", "salty", "sweet", "spicy", "crisp", "greasy"],
            adverbs: ["gently", "hungrily", "thoroughly"],
            names: ["Marta", "Olu", "Chen", "Rosa"]),
        Topic(
            "garden",
            nouns: [
                "gardener/gardeners", "rose/roses", "tree/trees", "seed/seeds", "bee/bees", "leaf/leaves", "spade/spades", "child/children",
                "hedge/hedges", "tulip/tulips", "worm/worms", "lawn/lawns", "shed/sheds", "branch/branches",
            ],
            verbs: [
                "plant plants planted planted +t", "water waters watered watered +t", "grow grows grew grown", "dig digs dug dug",
                "prune prunes pruned pruned +t", "bloom blooms bloomed bloomed", "weed weeds weeded weeded +t", "rake rakes raked raked +t",
            ],
            adjectives: ["leafy", "muddy", "sunny", "fragrant", "wild", "thorny"],
            adverbs: ["patiently", "outside", "carefully"],
            names: ["Ada", "Bram", "Ines", "Tove"]),
        Topic(
            "harbour",
            nouns: [
                "sailor/sailors", "boat/boats", "net/nets", "fish", "storm/storms", "rope/ropes", "captain/captains", "gull/gulls",
                "anchor/anchors", "wave/waves", "dock/docks", "crab/crabs", "mast/masts", "ferry/ferries",
            ],
            verbs: [
                "sail sails sailed sailed", "catch catches caught caught +t", "mend mends mended mended +t", "sink sinks sank sunk",
                "row rows rowed rowed", "tie ties tied tied +t", "haul hauls hauled hauled +t", "drift drifts drifted drifted",
            ],
            adjectives: ["briny", "wet", "stormy", "rusty", "windy", "grey"],
            adverbs: ["ashore", "seaward", "roughly"],
            names: ["Ivo", "Noor", "Sami", "Elin"]),
    ]
}

enum Lexicon {
    static let singularDeterminers = [
        Lexeme(form: "the", lemma: "the", upos: "DET", xpos: "DT", feats: "Definite=Def|PronType=Art"),
        Lexeme(form: "a", lemma: "a", upos: "DET", xpos: "DT", feats: "Definite=Ind|PronType=Art"),
        Lexeme(form: "this", lemma: "this", upos: "DET", xpos: "DT", feats: "Number=Sing|PronType=Dem"),
        Lexeme(form: "that", lemma: "that", upos: "DET", xpos: "DT", feats: "Number=Sing|PronType=Dem"),
    ]
    static let pluralDeterminers = [
        Lexeme(form: "the", lemma: "the", upos: "DET", xpos: "DT", feats: "Definite=Def|PronType=Art"),
        Lexeme(form: "these", lemma: "this", upos: "DET", xpos: "DT", feats: "Number=Plur|PronType=Dem"),
        Lexeme(form: "those", lemma: "that", upos: "DET", xpos: "DT", feats: "Number=Plur|PronType=Dem"),
        Lexeme(form: "some", lemma: "some", upos: "DET", xpos: "DT", feats: "PronType=Ind"),
    ]
    static let adjectives = ["old", "new", "small", "big", "quiet", "green", "busy"].map {
        Lexeme(form: $0, lemma: $0, upos: "ADJ", xpos: "JJ", feats: "Degree=Pos")
    }
    static let prepositions = ["in", "near", "with", "behind", "under"].map { Lexeme(form: $0, lemma: $0, upos: "ADP", xpos: "IN") }
    static let adverbs = ["quickly", "slowly", "again", "today"].map { Lexeme(form: $0, lemma: $0, upos: "ADV", xpos: "RB") }
    static let coordinators = ["and", "but"].map { Lexeme(form: $0, lemma: $0, upos: "CCONJ", xpos: "CC") }
    static let pronouns = [
        Pronoun("I", "me", person: 1, plural: false), Pronoun("you", "you", person: 2, plural: false),
        Pronoun("he", "him", person: 3, plural: false), Pronoun("she", "her", person: 3, plural: false),
        Pronoun("it", "it", person: 3, plural: false), Pronoun("we", "us", person: 1, plural: true),
        Pronoun("they", "them", person: 3, plural: true),
    ]
    static let has = Lexeme(form: "has", lemma: "have", upos: "AUX", xpos: "VBZ", feats: "Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin")
    static let have = Lexeme(form: "have", lemma: "have", upos: "AUX", xpos: "VBP", feats: "Mood=Ind|Tense=Pres|VerbForm=Fin")
}
