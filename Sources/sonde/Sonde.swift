import ArgumentParser
import Foundation
import SondeBase

@main
struct Sonde: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "sonde",
        abstract: "Neuron-level probing workbench for neural language models.",
        discussion: """
            Sonde reads annotated treebanks and model activations, finds the neurons that encode a \
            linguistic property, measures how redundant that encoding is, and follows it across \
            training checkpoints and fine-tuning; with minimal pairs it scores phenomena and builds \
            task spaces (how tuning on one phenomenon transfers to the others).

            Start with `sonde demo` (the bundled study: an LSTM trained over checkpoints, probes, \
            ablation, similarity over training, a report), then `sonde demo --print-experiment` \
            for an experiment file of your own (`sonde run FILE`).

            Examples:
              sonde demo --out sonde-demo
              sonde corpus stats en_ewt-ud-train.conllu --property upos
              sonde extract --model gpt2/ --corpus train.conllu --out acts.safetensors
              sonde probe --train acts.safetensors --layer 6 --train-corpus train.conllu --property upos
              sonde run study.toml --dry-run
              sonde pairs score --model gpt2/ --pairs blimp/data
              sonde taskspace --model lm/step-400 --pairs pairs/ --out ts

            Every command prints its result as one JSON object on stdout with --json; messages \
            and progress go to stderr (none but errors and warnings with --quiet); --threads N sets \
            the threads of the numerics. Shell completion: sonde --generate-completion-script bash \
            (or zsh, fish). Exit status: 0 success, 64 bad usage, 65 malformed input, \
            66 missing input, 69 a service failed (sbatch), 71 not enough memory for the job \
            (SONDE_MAX_MEMORY), 73 cannot write the output.
            """,
        version: version,
        subcommands: [
            CorpusCommand.self, ExtractCommand.self, ProbeCommand.self, RankCommand.self, ScoreCommand.self, SimilarityCommand.self,
            DynamicsCommand.self, CompareCommand.self, AblateCommand.self, RedundancyCommand.self, TopWordsCommand.self, Inspect.self,
            LMCommand.self, TaggerCommand.self, FinetuneCommand.self, RunCommand.self, SlurmCommand.self, DemoCommand.self, PairsCommand.self,
            TaskSpaceCommand.self, AlignCommand.self, InteractionsCommand.self, SyntheticCommand.self, EraseCommand.self, SparseProbeCommand.self, InterveneCommand.self, TokenizeCommand.self,
        ])

    /// ArgumentParser's entry point, after handlers that remove half-written files on Ctrl-C,
    /// SIGTERM and SIGHUP and then end the process as the signal would.
    static func main() {
        // A parent may hand down these signals blocked (test runners do): unblock them, or an
        // interrupt would wait until the work is done.
        var set = sigset_t()
        sigemptyset(&set)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                AtomicFile.removePendingFiles()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CategorizedError {
            writeMessage("sonde: \(error)\n")
            exit(withError: ExitCode(error.category))
        } catch {
            exit(withError: error)  // ArgumentParser's own: usage errors 64 with the usage, ExitCode as it is
        }
    }
}

extension ExitCode {
    /// The one mapping from a failure's category to its exit status (sysexits.h; README.md lists them).
    init(_ category: ErrorCategory) {
        switch category {
        case .usage: self.init(64)  // EX_USAGE
        case .malformedInput: self.init(65)  // EX_DATAERR
        case .missingInput: self.init(66)  // EX_NOINPUT
        case .service: self.init(69)  // EX_UNAVAILABLE
        case .resources: self.init(71)  // EX_OSERR: not enough memory for the job
        case .output: self.init(73)  // EX_CANTCREAT
        }
    }
}
