import Foundation

/// The revisions of one model as they lie on disk, in training-step order: a Hugging Face hub
/// cache folder (`models--org--name`: `refs/<revision>` holds a commit, `snapshots/<commit>/` its
/// files — Pythia's revisions `step1000`, OLMo-2's `stage1-step140000-tokens587B`), or a folder with
/// one subfolder per revision. A revision's step is the number after `step` in its name;
/// revisions without one (`main`) are left out.
public enum CheckpointSeries {
    public struct Revision: Sendable, Equatable {
        public let name: String
        public let step: Int
        public let folder: String
    }

    public static func list(_ root: String) throws -> [Revision] {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw ModelError(.missing, root, "no such folder; point it at a hub cache folder (refs/, snapshots/) or a folder of stepN/ revisions")
        }
        var revisions: [Revision] = []
        if manager.fileExists(atPath: root + "/refs"), manager.fileExists(atPath: root + "/snapshots") {
            for name in try manager.contentsOfDirectory(atPath: root + "/refs").sorted() {
                guard let step = step(in: name) else { continue }
                let ref = root + "/refs/" + name
                guard let handle = FileHandle(forReadingAtPath: ref) else { throw ModelError(.missing, ref, "cannot read the revision's commit") }
                defer { try? handle.close() }
                // The throwing read: a ref that is a folder fails here instead of trapping.
                guard let data = try? handle.read(upToCount: 128) else { throw ModelError(.malformed, ref, "cannot read the revision's commit") }
                let commit = String(decoding: data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !commit.isEmpty, commit.count <= 64, commit.allSatisfy({ $0.isHexDigit }) else {
                    throw ModelError(.malformed, ref + ":1", "expected a commit hash, found \(commit.prefix(70).debugDescription)")
                }
                let folder = root + "/snapshots/" + commit
                guard manager.fileExists(atPath: folder + "/config.json") else {
                    throw ModelError(
                        .malformed, ref + ":1", "names commit \(commit), but snapshots/\(commit)/config.json does not exist (download that revision)")
                }
                revisions.append(Revision(name: name, step: step, folder: folder))
            }
        } else {
            for name in try manager.contentsOfDirectory(atPath: root).sorted() {
                guard let step = step(in: name), manager.fileExists(atPath: root + "/" + name + "/config.json") else { continue }
                revisions.append(Revision(name: name, step: step, folder: root + "/" + name))
            }
        }
        guard !revisions.isEmpty else {
            throw ModelError(.missing, root, "no revision whose name holds a step (stepN) and that has a config.json")
        }
        revisions.sort { ($0.step, $0.name) < ($1.step, $1.name) }
        for (a, b) in zip(revisions, revisions.dropFirst()) where a.step == b.step {
            throw ModelError(.malformed, root, "revisions '\(a.name)' and '\(b.name)' are both step \(a.step); list the checkpoints by hand")
        }
        return revisions
    }

    /// The number after the last `step` in `name` (`step1000`, `stage1-step140000-tokens587B`).
    static func step(in name: String) -> Int? {
        guard let range = name.range(of: "step", options: .backwards) else { return nil }
        let digits = name[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty || digits.count > 12 ? nil : Int(digits)
    }
}
