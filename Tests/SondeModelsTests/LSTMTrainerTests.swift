import Foundation
import SondeBase
import Testing

@testable import SondeModels

/// Training on a tiny synthetic language whose next word is predictable: the loss falls, a
/// tagger learns word classes, fine-tuning keeps the encoder, the schedule and resume rules hold.
struct LSTMTrainerTests {
    /// "the dog runs", "a cat sleeps" …: the verb follows from the noun, the noun from nothing.
    func language(_ count: Int, seed: UInt64) -> LSTMTask {
        var g = SplitMix64(seed: seed)
        let pairs = [("dog", "runs"), ("cat", "sleeps"), ("bird", "sings"), ("fish", "swims")]
        var sentences: [[String]] = [], labels: [[String]] = []
        for _ in 0..<count {
            let (noun, verb) = pairs[g.below(pairs.count)]
            let det = g.below(2) == 0 ? "the" : "a"
            sentences.append([det, noun, verb])
            labels.append(["DET", "NOUN", "VERB"])
        }
        return LSTMTask(sentences: sentences, tokenLabels: labels)
    }

    func settings(steps: Int) -> LSTMTrainingSettings {
        var s = LSTMTrainingSettings()
        (s.hidden, s.layers, s.steps, s.batchSize, s.minCount, s.dropout, s.learningRate) = (16, 1, steps, 16, 1, 0, 0.02)
        s.checkpoints = [0, steps]
        return s
    }

    func folder() -> String { NSTemporaryDirectory() + "sonde-train-\(UUID().uuidString)" }

    @Test func aLanguageModelLearnsTheLanguage() throws {
        var train = language(200, seed: 1), dev = language(50, seed: 2)
        (train.tokenLabels, dev.tokenLabels) = (nil, nil)
        let out = folder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let written = try LSTMTrainer(settings: settings(steps: 80), train: train, dev: dev).run(into: out)
        #expect(written.map(\.step) == [0, 80])
        // Untrained: about uniform over 11 words. Trained: the noun is one of 4 (after a
        // determiner of 2), the verb and </s> are certain: perplexity → (2·4)^(1/4) ≈ 1.68.
        #expect(written[0].devPerplexity! > 9 && written[1].devPerplexity! < 2.2, "\(written.map(\.devPerplexity))")
        let model = try LSTMModel(folder: out + "/step-80")
        #expect(model.config.labels == nil && model.vocabulary.count == 3 + 10)
    }

    @Test func aTaggerAndAFineTunedLanguageModel() throws {
        let train = language(200, seed: 3), dev = language(50, seed: 4)
        let out = folder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let tagger = try LSTMTrainer(settings: settings(steps: 60), train: train, dev: dev).run(into: out + "/tagger")
        #expect(tagger.last!.devAccuracy == 1 && tagger.first!.devAccuracy < 0.9, "\(tagger.map(\.devAccuracy))")
        // Pieces of one word each ("<s> runs" …): the labels of later pieces follow their words.
        var pieces = settings(steps: 60)
        pieces.maxLength = 1
        let words = LSTMTask(
            sentences: [["the"], ["a"], ["dog"], ["cat"], ["runs"], ["sleeps"]],
            tokenLabels: [["DET"], ["DET"], ["NOUN"], ["NOUN"], ["VERB"], ["VERB"]])
        let split = try LSTMTrainer(settings: pieces, train: train, dev: words).run(into: out + "/pieces")
        #expect(split.last!.devAccuracy == 1, "\(split.map(\.devAccuracy))")
        let lm = try LSTMTrainer(settings: settings(steps: 10), train: LSTMTask(sentences: train.sentences), dev: LSTMTask(sentences: dev.sentences))
        _ = try lm.run(into: out + "/lm")
        let start = try LSTMModel(folder: out + "/lm/step-10")
        // Fine-tuning on sentence labels: the encoder starts as the LM's, the decoder is new.
        var sentenceTask = LSTMTask(sentences: train.sentences, sentenceLabels: train.sentences.map { $0[1] == "dog" ? "dog" : "other" })
        let fine = try LSTMTrainer(settings: settings(steps: 30), train: sentenceTask, dev: sentenceTask, start: start)
        let encoder = start.network.offset("rnn.weight_hh_l0")
        #expect(fine.model.network.values[encoder..<(encoder + 64)] == start.network.values[encoder..<(encoder + 64)])
        #expect(fine.model.config.labels == ["dog", "other"] && fine.model.config.labelLevel == .sentence)
        let done = try fine.run(into: out + "/fine")
        #expect(done.last!.devAccuracy > 0.95)
        sentenceTask.sentenceLabels = Array(repeating: "one", count: train.sentences.count)
        #expect(throws: ModelError.self) { try LSTMTrainer(settings: settings(steps: 5), train: sentenceTask, dev: sentenceTask) }
    }

    @Test func resumeNeedsTheSameSettings() throws {
        let task = LSTMTask(sentences: language(40, seed: 5).sentences)
        let out = folder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try LSTMTrainer(settings: settings(steps: 4), train: task, dev: task).run(into: out)
        var other = settings(steps: 8)
        other.learningRate = 0.5
        #expect(throws: ModelError.self) { try LSTMTrainer(settings: other, train: task, dev: task, start: try LSTMModel(folder: out + "/step-4")) }
        // More steps with the same settings continue from step 4.
        let more = try LSTMTrainer(settings: settings(steps: 8), train: task, dev: task, start: try LSTMModel(folder: out + "/step-4"))
        #expect(try more.run(into: out).map(\.step) == [8])
        // A damaged trainer state is an error, not a silent fresh start; no dev sentences either.
        try "{\"step\": \"four\"}".write(toFile: out + "/step-4/trainer_state.json", atomically: true, encoding: .utf8)
        #expect { try LSTMTrainer(settings: settings(steps: 8), train: task, dev: task, start: try LSTMModel(folder: out + "/step-4")) } throws: {
            "\($0)".contains("step-4/trainer_state.json: not a trainer state")
        }
        #expect { try LSTMTrainer(settings: settings(steps: 8), train: task, dev: LSTMTask(sentences: [])) } throws: {
            "\($0)".contains("no dev sentences")
        }
    }

    @Test func defaultScheduleIsLogSpaced() {
        var s = LSTMTrainingSettings()
        #expect(s.checkpointSteps == [0, 16, 32, 64, 128, 256, 400])
        s.steps = 10
        #expect(s.checkpointSteps == [0, 10])
        s.checkpoints = [5, 5, 50, 0]
        #expect(s.checkpointSteps == [0, 5])
    }
}
