import Foundation
import SondeBase
import ZIPFoundation

/// numpy's .npz: a zip archive of .npy members (`np.savez` stores them, `np.savez_compressed`
/// deflates them); the tensor names are the member names without ".npy".
public enum NPZ {
    static func read(_ path: String) throws -> TensorCollection {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw TensorFileError(.malformed, path, "not a readable zip archive (.npz): truncated or corrupt? (\(error))")
        }
        var tensors: [Tensor] = []
        for entry in archive where entry.type == .file {
            let member = entry.path
            var data = Data()
            // The consumer receives the bytes actually inflated: no allocation trusts the sizes
            // the zip directory claims, and inflation stops at a bounded ratio (zip bombs).
            let allowed = max(
                64 << 20, Int(clamping: entry.compressedSize).multipliedReportingOverflow(by: InputLimits.inflationRatio.value).partialValue)
            struct Inflated: Error {}
            let checksum: CRC32
            do {
                checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard data.count + chunk.count <= allowed else { throw Inflated() }
                    data.append(chunk)
                }
            } catch is Inflated {
                throw TensorFileError(
                    .malformed, path, InputLimits.inflationRatio.message("member '\(member)' inflates past \(allowed) bytes (a zip bomb?)"))
            } catch {
                throw TensorFileError(.malformed, path, "member '\(member)' cannot be extracted (\(error)): truncated or corrupt?")
            }
            guard checksum == entry.checksum else {
                throw TensorFileError(.malformed, path, "member '\(member)' fails its CRC-32 check: the archive is corrupt")
            }
            let storage = data.withUnsafeBytes { TensorBytes(copying: $0) }
            let name = member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
            tensors.append(try NPY.parse(storage, name: name, path: "\(path)[\(member)]"))
        }
        return TensorCollection(path: path, format: .npz, tensors: tensors, metadata: [:])
    }

    /// Writes `tensors` as an uncompressed .npz (like `np.savez`), atomically.
    public static func write(_ tensors: [TensorPayload], to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let prefix = ".\((path as NSString).lastPathComponent).parts-"
        // A scratch folder that a killed write left (its process is gone) is removed first.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix(prefix) {
            if let pid = Int32(entry.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: folder + "/" + entry)
            }
        }
        let scratch = folder + "/" + prefix + "\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        } catch {
            throw FileError(.cannotWrite, path, "cannot create a scratch folder beside it (\(error.localizedDescription))")
        }
        let zipPath = scratch + "/archive.zip"
        let memberPath = scratch + "/member.npy"
        // Removed by a SIGINT/SIGTERM handler too (AtomicFile.removePendingFiles).
        let guarded = [scratch, zipPath, memberPath].map(AtomicFile.registerPending)
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            guarded.forEach(AtomicFile.unregisterPending)
        }
        do {
            let archive = try Archive(url: URL(fileURLWithPath: zipPath), accessMode: .create)
            for t in tensors {
                try NPY.write(t, to: memberPath)
                try archive.addEntry(
                    with: t.name + ".npy", fileURL: URL(fileURLWithPath: memberPath), compressionMethod: .none)
                try FileManager.default.removeItem(atPath: memberPath)
            }
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(.cannotWrite, path, "cannot write the archive (\(error))")
        }
        guard rename(zipPath, path) == 0 else {
            throw FileError(.cannotWrite, path, "cannot move the archive into place (\(String(cString: strerror(errno))))")
        }
    }
}
