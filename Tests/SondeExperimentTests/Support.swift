import Foundation

/// A new empty folder under the system's temporary folder, named `prefix-UUID`.
func temporaryFolder(_ prefix: String) -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
