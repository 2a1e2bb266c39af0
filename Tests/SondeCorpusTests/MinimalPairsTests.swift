import Foundation
import SondeBase
import Testing

@testable import SondeCorpus

struct MinimalPairsTests {
    /// BLiMP as shipped: 67 paradigms × 1,000 pairs; the pairs per phenomenon counted here from
    /// the files with Python's json module (`collections.Counter` of `linguistics_term` over
    /// every line of data/*.jsonl).
    @Test(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
    func blimpHasItsPairsAndGroups() throws {
        let tasks = try MinimalPairs.read(sharedCorpora + "/blimp/data")
        #expect(tasks.count == 67 && tasks.allSatisfy { $0.pairs.count == 1000 })
        var groups: [String: Int] = [:]
        for t in tasks { groups[t.group, default: 0] += t.pairs.count }
        #expect(
            groups == [
                "island_effects": 8000, "determiner_noun_agreement": 8000, "argument_structure": 7000, "npi_licensing": 7000, "binding": 7000,
                "filler_gap_dependency": 7000, "subject_verb_agreement": 6000, "control_raising": 5000, "quantifiers": 4000,
                "anaphor_agreement": 2000, "s-selection": 2000, "ellipsis": 2000, "irregular_forms": 2000,
            ])
        let first = try #require(tasks.first { $0.id == "anaphor_number_agreement" }?.pairs.first)
        #expect(first == MinimalPair(good: "Susan revealed herself.", bad: "Susan revealed themselves.", prefix: "Susan revealed"))
        // The set's own flaw: 7 pairs whose sentences are the same (found with Python).
        #expect(tasks.reduce(0) { $0 + $1.pairs.filter { $0.good == $0.bad }.count } == 7)
    }

    @Test func tsvRoundTripsAndSplitsBySeed() throws {
        let folder = temporaryFolder()
        let tasks = try PairGenerator.grammar(tasks: ["sv-adjacent", "missing-object"], count: 40, seed: 3)
        try MinimalPairs.writeTSV(tasks, to: folder + "/pairs.tsv")
        #expect(try MinimalPairs.read(folder) == tasks)
        let (train, test) = tasks[0].split(testShare: 0.25, seed: 9)
        #expect(test.count == 10 && train.count == 30 && Set((train + test).map(\.good)) == Set(tasks[0].pairs.map(\.good)))
        #expect(tasks[0].split(testShare: 0.25, seed: 9).test == test && tasks[0].split(testShare: 0.25, seed: 10).test != test)
    }

    @Test func malformedLinesAreLocated() throws {
        let folder = temporaryFolder()
        let tsv = write("t\tg\tgood .\tbad .\nt\tg\tonly three\n", name: "p.tsv", in: folder)
        #expect(throws: CorpusError(tsv, line: 2, "expected 4 or 5 tab-separated columns (task, group, good, bad[, prefix]); found 3")) {
            try MinimalPairs.read(tsv)
        }
        let jsonl = write(
            "{\"sentence_good\": \"a b.\", \"sentence_bad\": \"b a.\", \"UID\": \"x\", \"linguistics_term\": \"y\"}\n{oops\n", name: "b.jsonl",
            in: folder)
        #expect(throws: CorpusError(jsonl, line: 2, "not a JSON object (BLiMP files hold one per line)")) { try MinimalPairs.read(jsonl) }
        let group = write("t\tg\ta .\tb .\nt\th\ta .\tc .\n", name: "q.tsv", in: folder)
        #expect(throws: CorpusError(group, line: 2, "task 't' is in group 'g' above and 'h' here")) { try MinimalPairs.read(group) }
        let empty = write("# task\tgroup\tgood\tbad\n", name: "e.tsv", in: folder)
        #expect(throws: CorpusError(empty, line: 1, "no minimal pairs in the file")) { try MinimalPairs.read(empty) }
        let truncated = write("{\"sentence_good\": \"a b.\", \"sente", name: "cut.jsonl", in: folder)
        #expect(throws: CorpusError(truncated, line: 1, "not a JSON object (BLiMP files hold one per line)")) { try MinimalPairs.read(truncated) }
        let none = folder + "/none"
        try FileManager.default.createDirectory(atPath: none, withIntermediateDirectories: true)
        _ = write("not pairs", name: "notes.txt", in: none)
        #expect(throws: FileError.self) { try MinimalPairs.read(none) }
        // A hostile word: 300,000 brackets split in linear time, then refused by the word limit.
        let brackets = String(repeating: "(", count: 150_000) + "a" + String(repeating: ")", count: 150_000)
        #expect(MinimalPairs.words(brackets).count == 300_001)
        let long = write("t\tg\tthe \(String(repeating: "x", count: 2_000)) .\tb .\n", name: "long.tsv", in: folder)
        let error = #expect(throws: CorpusError.self) { try MinimalPairs.read(long) }
        #expect(error?.line == 1 && error?.message.contains("2000 bytes long") == true)
    }

    @Test func wordsSplitAsATreebank() {
        #expect(MinimalPairs.words("Renee hasn't hurt herself.") == ["Renee", "has", "n't", "hurt", "herself", "."])
        #expect(MinimalPairs.words("\"Who's there?\" she asked.") == ["\"", "Who", "'s", "there", "?", "\"", "she", "asked", "."])
        #expect(MinimalPairs.words("the cook chops .") == ["the", "cook", "chops", "."])
    }

    /// Every generated pair: the same words but one (or two swapped), agreement decided by a
    /// word whose number shows, and the bad sentence bad by construction.
    @Test func grammarPairsFlipNumber() throws {
        let tasks = try PairGenerator.grammar(count: 60, seed: 1)
        #expect(tasks.map(\.id) == PairGenerator.grammarTasks.map(\.id))
        #expect(try PairGenerator.grammar(count: 60, seed: 1) == tasks)
        let singularVerbs = Set(Topic.all.flatMap(\.verbs).map(\.third)), pluralVerbs = Set(Topic.all.flatMap(\.verbs).map(\.lemma))
        for task in tasks {
            #expect(task.pairs.count == 60 || task.id == "reflexive-number", "\(task.id): \(task.pairs.count)")
            for pair in task.pairs {
                let g = pair.good.split(separator: " "), b = pair.bad.split(separator: " ")
                #expect(pair.good != pair.bad)
                #expect(pair.good.hasPrefix(pair.prefix ?? "") && pair.bad.hasPrefix(pair.prefix ?? ""))
                if task.id.hasPrefix("sv-") {
                    let differ = zip(g, b).enumerated().filter { $0.element.0 != $0.element.1 }
                    #expect(g.count == b.count && differ.count == 1)
                    let (good, bad) = (String(differ[0].element.0), String(differ[0].element.1))
                    #expect(
                        (singularVerbs.contains(good) && pluralVerbs.contains(bad)) || (pluralVerbs.contains(good) && singularVerbs.contains(bad)))
                }
                if task.id == "sv-adjacent" {
                    // The subject's number decides: a plural noun takes the plain form.
                    let plural = Topic.all.flatMap(\.nouns).contains { $0.plural == g[1] }
                    #expect(pluralVerbs.contains(String(g[2])) == plural)
                }
            }
        }
        #expect(throws: UnknownPairTask.self) { try PairGenerator.grammar(tasks: ["nope"], count: 1, seed: 1) }
    }
}

struct TreebankPairsTests {
    static let treebank = """
        # sent_id = 1
        1\tthe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
        2\tdogs\tdog\tNOUN\tNNS\tNumber=Plur\t3\tnsubj\t_\t_
        3\tbark\tbark\tVERB\tVBP\tMood=Ind|Tense=Pres|VerbForm=Fin\t0\troot\t_\t_
        4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

        # sent_id = 2
        1\tThis\tthis\tDET\tDT\tNumber=Sing|PronType=Dem\t2\tdet\t_\t_
        2\tdog\tdog\tNOUN\tNN\tNumber=Sing\t3\tnsubj\t_\t_
        3\tbarks\tbark\tVERB\tVBZ\tMood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin\t0\troot\t_\t_

        # sent_id = 3
        1\tI\tI\tPRON\tPRP\tNumber=Sing|Person=1\t2\tnsubj\t_\t_
        2\tcut\tcut\tVERB\tVBP\tMood=Ind|Number=Sing|Person=1|Tense=Pres|VerbForm=Fin\t0\troot\t_\t_
        3\tit\tit\tPRON\tPRP\t_\t2\tobj\t_\t_

        # sent_id = 4
        1\tthey\tthey\tPRON\tPRP\tNumber=Plur\t2\tnsubj\t_\t_
        2\tcut\tcut\tVERB\tVBP\tMood=Ind|Tense=Pres|VerbForm=Fin\t0\troot\t_\t_

        # sent_id = 5
        1\twe\twe\tPRON\tPRP\tNumber=Plur\t2\tnsubj\t_\t_
        2\tsing\tsing\tVERB\tVBP\tMood=Ind|Tense=Pres|VerbForm=Fin\t0\troot\t_\t_


        """

    /// Swaps in the other Number's form found in the treebank; "cut" (alike in both numbers) and
    /// "sing" (no singular in the treebank) are skipped and counted; the demonstrative keeps its case.
    @Test func swapsTheCriticalWord() throws {
        let folder = temporaryFolder()
        let corpus = try read(write(Self.treebank, name: "t.conllu", in: folder))
        let made = try TreebankPairs.make(corpus, seed: 1)
        let sv = made.tasks[0].pairs.sorted { $0.good < $1.good }
        #expect(
            sv == [
                MinimalPair(good: "This dog barks", bad: "This dog bark", prefix: "This dog"),
                MinimalPair(good: "the dogs bark .", bad: "the dogs barks .", prefix: "the dogs"),
            ])
        #expect(made.skipped["treebank-subject-verb"] == ["both numbers spelled alike": 2, "no form of the other number in the treebank": 1])
        #expect(made.tasks[1].pairs == [MinimalPair(good: "This dog barks", bad: "These dog barks", prefix: "")])
    }
}
