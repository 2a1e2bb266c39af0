import Foundation
import SondeBase
import SondeLinalg

/// Saved probes: a safetensors file with the tensors `weights` [C, D], `intercepts` [C],
/// `scales` [D] and `means` [D] (F64, so a loaded probe predicts exactly as the saved one), and in
/// `__metadata__` the format (`sonde-probe/1`), the classes, the settings and the diagnostics as
/// JSON.
public enum ProbeFile {
    public static let format = "sonde-probe/1"

    public static func write(_ probe: FittedProbe, to path: String) throws {
        func json<T: Encodable>(_ value: T) throws -> String { try JSONCoding.text(value) }
        let (c, d) = (probe.classes.count, probe.neurons)
        try Safetensors.write(
            [
                TensorPayload(name: "weights", shape: [c, d], dtype: .float64, values: .double(probe.weights.elements)),
                TensorPayload(name: "intercepts", shape: [c], dtype: .float64, values: .double(probe.intercepts)),
                TensorPayload(name: "scales", shape: [d], dtype: .float64, values: .double(probe.scales)),
                TensorPayload(name: "means", shape: [d], dtype: .float64, values: .double(probe.means)),
            ],
            metadata: [
                "format": format, "classes": try json(probe.classes), "settings": try json(probe.settings),
                "diagnostics": try json(probe.diagnostics),
            ], to: path)
    }

    public static func read(_ path: String) throws -> FittedProbe {
        let file = try TensorCollection.read(path)
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, message) }
        guard file.metadata["format"] == format else {
            throw fail("not a saved Sonde probe (its __metadata__ has no format = \(format)); save one with `sonde probe --save`")
        }
        let decoder = JSONCoding.decoder()
        func decode<T: Decodable>(_ key: String, as _: T.Type) throws -> T {
            guard let text = file.metadata[key], let value = try? decoder.decode(T.self, from: Data(text.utf8)) else {
                throw fail("the probe's metadata '\(key)' is missing or malformed")
            }
            return value
        }
        let classes = try decode("classes", as: [String].self)
        let settings = try decode("settings", as: ProbeSettings.self)
        let diagnostics = try decode("diagnostics", as: FittedProbe.Diagnostics.self)
        func tensor(_ name: String, shape: [Int]) throws -> [Double] {
            guard let t = file[name] else { throw fail("the probe has no '\(name)' tensor") }
            guard t.shape == shape else { throw fail("tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            return t.doubles()
        }
        guard let w = file["weights"], w.shape.count == 2, w.shape[0] == classes.count, classes.count >= 2 else {
            throw fail("the probe's 'weights' must be [classes, neurons] with \(classes.count) classes")
        }
        let d = w.shape[1]
        return FittedProbe(
            classes: classes, weights: Matrix(rows: classes.count, columns: d, elements: w.doubles()),
            intercepts: try tensor("intercepts", shape: [classes.count]), scales: try tensor("scales", shape: [d]),
            means: try tensor("means", shape: [d]), settings: settings, diagnostics: diagnostics)
    }
}
