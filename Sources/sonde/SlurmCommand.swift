import ArgumentParser
import Foundation
import SondeBase
import SondeExperiment
import SondeStudy

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write (and with --submit, submit) Slurm job arrays that run a study's cells in shards, then merge them.",
        discussion: """
            One job array per level of the study's plan (`sonde run FILE --plan`): task I runs \
            `sonde run FILE --shard I/N --level K`; each array starts after the previous one \
            succeeded (--dependency=afterok), and a last job merges the cache into results.json and \
            report.html. Shards write content-addressed files into OUTPUT/cache atomically, so no two \
            shards write the same file and a resubmitted shard skips what is done. The folder gets \
            level-K.sbatch, merge.sbatch, submit.sh and logs/. After a failure, \
            `sonde run FILE --plan --shards N` names the shards not complete; resubmit them alone \
            with --only. The output (and cache) folder must be on a file system every node sees; a study \
            that names another's cache is submitted after that one has finished.

            Examples:
              sonde slurm study.toml --out jobs --array 8 --partition cpu --time 2:00:00 --cpus 4 --mem 16G
              sonde slurm study.toml --out jobs --array 8 --submit
              sonde slurm study.toml --out jobs --array 8 --only 3,7 --submit
            """)

    @Argument(help: "The experiment file.") var file: String
    @Option(name: .shortAndLong, help: "The folder for the job scripts and their logs.") var out: String
    @Option(help: "Shards per level (array tasks).") var array = 4
    @Option(help: "Only these shards, e.g. 3,7 (to resubmit the ones that failed).") var only: String?
    @Option(help: "Slurm partition (#SBATCH --partition).") var partition: String?
    @Option(help: "Time limit per task (#SBATCH --time), e.g. 1:00:00.") var time: String?
    @Option(help: "CPUs per task (#SBATCH --cpus-per-task).") var cpus: Int?
    @Option(help: "Memory per task (#SBATCH --mem), e.g. 8G.") var mem: String?
    @Flag(help: "Submit through sbatch (else only write the scripts).") var submit = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if array < 1 { throw ValidationError("--array must be at least 1") }
        if let cpus, cpus < 1 { throw ValidationError("--cpus must be at least 1") }
        for value in [partition, time, mem].compactMap({ $0 }) where value.contains(where: { $0.isWhitespace || $0 == "'" }) {
            throw ValidationError("'\(value)': Slurm values cannot hold spaces or quotes")
        }
        if out.contains(where: \.isWhitespace) { throw ValidationError("--out: #SBATCH lines cannot quote a folder with spaces; choose another") }
    }

    struct Report: Encodable {
        let folder: String
        let shards: Int
        let levels: [SlurmJobs.Level]
        let scripts: [String]
        /// "level K" / "merge" → job id, when submitted.
        let jobs: [String: String]?
    }

    func run() throws {
        let experiment = try Experiment.read(file)
        let shards = try only.map { text in
            try text.split(separator: ",").map { item -> Int in
                guard let i = Int(item), (0..<array).contains(i) else { throw ValidationError("--only: '\(item)' is not a shard of 0…\(array - 1)") }
                return i
            }
        }
        let plan = try ExperimentRunner(experiment).plan()
        let folder = URL(fileURLWithPath: out).standardizedFileURL.path
        let sonde = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let jobs = SlurmJobs(
            plan: plan, shards: array, only: shards, sonde: URL(fileURLWithPath: sonde).standardizedFileURL.path,
            experiment: URL(fileURLWithPath: file).standardizedFileURL.path, folder: folder,
            resources: .init(partition: partition, time: time, cpus: cpus, memory: mem))
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        for (name, text) in jobs.files.sorted(by: { $0.key < $1.key }) {
            try AtomicFile.write(to: folder + "/" + name) { try $0.write(Array(text.utf8)) }
        }
        var submitted: [String: String]?
        if submit {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [folder + "/submit.sh"]
            let pipe = Pipe(), errors = Pipe()
            (process.standardOutput, process.standardError) = (pipe, errors)
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CLIError(
                    "sbatch failed (\(message.trimmingCharacters(in: .whitespacesAndNewlines))); is this a Slurm submit host? The scripts are in \(folder): submit them with bash \(folder)/submit.sh",
                    .service)
            }
            submitted = Dictionary(
                text.split(separator: "\n").compactMap { line in
                    let parts = line.split(separator: " ")
                    return parts.count >= 2 ? (parts.dropLast().joined(separator: " "), String(parts.last!)) : nil
                }, uniquingKeysWith: { a, _ in a })
        }
        let report = Report(folder: folder, shards: array, levels: jobs.levels, scripts: jobs.files.keys.sorted(), jobs: submitted)
        if output.json { return try printJSON(report) }
        for l in jobs.levels {
            print(
                "level \(l.level): \(l.cells) cells in shards \(l.shards.map(String.init).joined(separator: ","))\(submitted?["level \(l.level)"].map { " — job \($0)" } ?? "")"
            )
        }
        if let submitted {
            print("merge job \(submitted["merge"] ?? "?"): results in \(experiment.output)/results.json; logs in \(folder)/logs")
        } else {
            print("wrote \(folder)/submit.sh and \(jobs.files.count - 1) job scripts; submit with: bash \(folder)/submit.sh (or rerun with --submit)")
        }
    }
}
