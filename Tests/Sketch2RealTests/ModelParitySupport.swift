import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest
@testable import Sketch2Real

// MARK: Fixture access

/// One file written by make_model_fixtures.py; integer-coded tensors are decoded to float32.
struct ModelFixture {
    let name: String
    let file: SafeTensors
    let tensors: [String: Tensor]
    /// Step of every integer-coded tensor: value = stored integer × step.
    let steps: [String: Double]

    init(_ name: String) throws {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures/models") else {
            throw TorchError("model fixture \(name).safetensors is missing; run Tests/Fixtures/make_model_fixtures.py")
        }
        self.name = name
        file = try SafeTensors.load(path: url.path)
        tensors = file.dictionary
        guard let encoding = file.metadata["encoding"] else { throw TorchError("model fixture \(name) has no encoding") }
        steps = try JSONDecoder().decode([String: Double].self, from: Data(encoding.utf8))
    }

    var cases: [String] { file.metadata.keys.filter { $0 != "encoding" }.sorted() }

    func tensor(_ key: String) throws -> Tensor {
        guard let t = tensors[key] else { throw TorchError("model fixture \(name) has no tensor \(key)") }
        guard let step = steps[key] else { return t }
        return t.to(.float32) * step
    }

    /// How far a stored value may lie from the float32 value it encodes.
    func step(_ key: String) -> Double {
        guard let t = tensors[key], t.dtype == .int16, let s = steps[key] else { return 0 }
        return s
    }

    /// Root mean square of all the reference gradients of case `prefix`'s backward pass
    /// (inputs, codes and parameters): the scale of `RoundingTolerance` for gradients.
    func gradientScale(_ prefix: String) throws -> Double {
        let keys = tensors.keys.filter { key in
            ["x", "dz", "param."].contains { key.hasPrefix("\(prefix).grad.\($0)") }
        }
        return RoundingTolerance.rms(try keys.map { try tensor($0) })
    }

    /// The state dict of case `prefix`.
    func state(_ prefix: String) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for key in tensors.keys where key.hasPrefix(prefix + ".state.") {
            out[String(key.dropFirst(prefix.count + 7))] = try tensor(key)
        }
        if out.isEmpty { throw TorchError("model fixture \(name) has no state for \(prefix)") }
        return out
    }

    func info<C: Decodable>(_ name: String, config: C.Type) throws -> CaseInfo<C> {
        guard let text = file.metadata[name] else { throw TorchError("model fixture \(self.name) has no case \(name)") }
        return try JSONDecoder().decode(CaseInfo<C>.self, from: Data(text.utf8))
    }

    func generatorCase(_ name: String) throws -> GeneratorCase {
        let kind = try info(name, config: IgnoredConfig.self).model
        switch kind {
        case "sragan": return .sragan(try info(name, config: SRAGANConfig.self))
        case "pix2pix": return .pix2pix(try info(name, config: Pix2PixConfig.self))
        default: throw TorchError("model fixture \(self.name): unknown generator kind \(kind)")
        }
    }
}

/// A case's metadata; `config` decodes with the Swift configuration type, so the fixture also
/// checks that the field names in reference/ match the Codable encoding.
struct CaseInfo<Config: Decodable>: Decodable {
    let model: String
    let config: Config
    let stateNames: [String]
    let bufferNames: [String]
    let sizes: [Int]?
    let modes: [String]?
    let storedModes: [String]?
    let batch2: Bool?
    let gradient: Bool?

    enum CodingKeys: String, CodingKey {
        case model, config, sizes, modes, batch2, gradient
        case stateNames = "state_names", bufferNames = "buffer_names", storedModes = "stored_modes"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        // The library's configurations read with its one rule (missing fields take defaults).
        if let type = Config.self as? any DefaultedConfiguration.Type {
            let tree = try c.decode(JSONTree.self, forKey: .config)
            config = try type.decoded(from: JSONEncoder().encode(tree)) as! Config
        } else {
            config = try c.decode(Config.self, forKey: .config)
        }
        stateNames = try c.decode([String].self, forKey: .stateNames)
        bufferNames = try c.decode([String].self, forKey: .bufferNames)
        sizes = try c.decodeIfPresent([Int].self, forKey: .sizes)
        modes = try c.decodeIfPresent([String].self, forKey: .modes)
        storedModes = try c.decodeIfPresent([String].self, forKey: .storedModes)
        batch2 = try c.decodeIfPresent(Bool.self, forKey: .batch2)
        gradient = try c.decodeIfPresent(Bool.self, forKey: .gradient)
    }
}

struct IgnoredConfig: Decodable {}

struct BlockConfig: Decodable {
    let channels: Int
    let reduction: Int
    let norm: NormKind?
    let dropout: Bool?
    let attention: Bool?
}

enum GeneratorCase {
    case sragan(CaseInfo<SRAGANConfig>)
    case pix2pix(CaseInfo<Pix2PixConfig>)

    var info: CaseInfo<IgnoredConfig> {
        switch self {
        case .sragan(let i): CaseInfo(i)
        case .pix2pix(let i): CaseInfo(i)
        }
    }

    var latent: Int {
        if case .sragan(let i) = self { return i.config.latentChannels }
        return 0
    }

    func build() throws -> (module: Module, forward: (Tensor, Tensor?) -> Tensor) {
        switch self {
        case .sragan(let i):
            let g = try SRAGANGenerator(i.config)
            return (g, { x, z in g(x, z: z) })
        case .pix2pix(let i):
            let g = try Pix2PixGenerator(i.config)
            return (g, { x, _ in g(x) })
        }
    }
}

extension CaseInfo where Config == IgnoredConfig {
    init<Other>(_ other: CaseInfo<Other>) {
        model = other.model
        config = IgnoredConfig()
        stateNames = other.stateNames
        bufferNames = other.bufferNames
        sizes = other.sizes
        modes = other.modes
        storedModes = other.storedModes
        batch2 = other.batch2
        gradient = other.gradient
    }
}

/// The largest difference seen per group, printed so test logs show the margins.
struct Worst {
    var values: [(String, Double)] = []

    mutating func note(_ group: String, _ value: Double) {
        if let i = values.firstIndex(where: { $0.0 == group }) {
            values[i].1 = Swift.max(values[i].1, value)
        } else {
            values.append((group, value))
        }
    }

    func print(_ title: String) {
        let overall = values.map(\.1).max() ?? 0
        Swift.print("model parity, \(title): worst \(String(format: "%.3f", overall))")
        for (group, value) in values { Swift.print("  \(group): \(String(format: "%.3f", value))") }
    }
}
