import Foundation

/// A study's cells as Slurm jobs: one job array per level of the plan (task I runs shard I of
/// that level), each array after the previous one succeeded (`--dependency=afterok`), then a
/// merge job. Slurm schedules; Sonde only writes the scripts. `only` limits the arrays to some
/// shards — to resubmit those that failed (cells already in the cache are skipped anyway).
public struct SlurmJobs: Sendable {
    public struct Resources: Sendable, Equatable {
        public var partition: String?
        public var time: String?
        public var cpus: Int?
        public var memory: String?
        public init(partition: String? = nil, time: String? = nil, cpus: Int? = nil, memory: String? = nil) {
            (self.partition, self.time, self.cpus, self.memory) = (partition, time, cpus, memory)
        }
    }

    /// One level's array: the shards that have cells on it.
    public struct Level: Codable, Sendable, Equatable {
        public var level: Int
        public var cells: Int
        public var shards: [Int]
    }

    public let levels: [Level]
    /// File name → contents: `level-K.sbatch`, `merge.sbatch`, `submit.sh`.
    public let files: [String: String]

    /// - Parameters: `sonde` and `experiment` as absolute paths; `folder` holds the scripts
    ///   and their logs (`logs/`).
    public init(plan: StudyPlan, shards: Int, only: [Int]? = nil, sonde: String, experiment: String, folder: String, resources: Resources) {
        precondition(shards >= 1)
        let levels = (0..<plan.levels).compactMap { level -> Level? in
            let count = plan.cells.filter { $0.level == level }.count
            let busy = (0..<shards).filter { i in plan.cells(shard: i, of: shards).contains { $0.level == level } }
            let chosen = only.map { o in busy.filter(o.contains) } ?? busy
            return chosen.isEmpty ? nil : Level(level: level, cells: count, shards: chosen)
        }
        self.levels = levels
        func header(_ name: String, log: String) -> String {
            var lines = ["#!/bin/bash", "#SBATCH --job-name=\(name)", "#SBATCH --output=\(folder)/logs/\(log)"]
            if let p = resources.partition { lines.append("#SBATCH --partition=\(p)") }
            if let t = resources.time { lines.append("#SBATCH --time=\(t)") }
            if let c = resources.cpus { lines.append("#SBATCH --cpus-per-task=\(c)") }
            if let m = resources.memory { lines.append("#SBATCH --mem=\(m)") }
            return lines.joined(separator: "\n") + "\nset -euo pipefail\n"
        }
        let (sonde, experiment) = (Self.quoted(sonde), Self.quoted(experiment))
        var files: [String: String] = [:]
        for l in levels {
            files["level-\(l.level).sbatch"] =
                header("sonde-level-\(l.level)", log: "level-\(l.level)-shard-%a.out")
                + "exec \(sonde) run \(experiment) --shard \"$SLURM_ARRAY_TASK_ID/\(shards)\" --level \(l.level)\n"
        }
        files["merge.sbatch"] = header("sonde-merge", log: "merge.out") + "exec \(sonde) run \(experiment) --merge\n"
        var submit = """
            #!/bin/bash
            # Submits the study: one job array per level, each after the previous one succeeded,
            # then the merge. Written by `sonde slurm`; prints the job ids, one line per job.
            set -euo pipefail
            cd "$(dirname "$0")"
            mkdir -p logs
            previous=""

            """
        for l in levels {
            submit += """
                previous=$(sbatch --parsable ${previous:+--dependency=afterok:$previous} --array=\(l.shards.map(String.init).joined(separator: ",")) level-\(l.level).sbatch)
                echo "level \(l.level) $previous"

                """
        }
        submit += """
            merge=$(sbatch --parsable ${previous:+--dependency=afterok:$previous} merge.sbatch)
            echo "merge $merge"

            """
        files["submit.sh"] = submit
        self.files = files
    }

    /// A path as one shell word.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
