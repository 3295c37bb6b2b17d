import Foundation
import Torch

/// A training checkpoint: model weights, optimiser and scheduler state, the random
/// generator, counters and the model configuration, in one safetensors file.
///
/// Tensor names: `model.<network>.<state-dict name>`, `optimizer.<name>.state.<i>.<field>`,
/// `rng.cpu`. Metadata: `format`, `format_version`, `step`, `epoch`, `configuration`
/// (JSON), `optimizers`, `schedulers`, `extra` and `checksum` — a CRC-32 over the data
/// section and the other metadata, checked on load so a damaged file is refused.
public struct Checkpoint {
    public static let format = "sketch2real-checkpoint"
    public static let formatVersion = "1"

    public var step: Int
    public var epoch: Int
    /// The model configuration as JSON, so loading never needs architecture flags.
    public var configuration: String
    public var extra: [String: String]
    public var networks: [String: [String: Tensor]]
    public var optimizers: [String: OptimizerState]
    public var schedulers: [String: LearningRateScheduler.State]
    public var rngState: [UInt8]?

    public init(step: Int, epoch: Int, configuration: String, extra: [String: String] = [:],
                networks: [String: Module] = [:], optimizers: [String: any Optimizer] = [:],
                schedulers: [String: LearningRateScheduler] = [:], includeRNG: Bool = true) {
        self.step = step
        self.epoch = epoch
        self.configuration = configuration
        self.extra = extra
        self.networks = networks.mapValues { Dictionary($0.stateDict(), uniquingKeysWith: { a, _ in a }) }
        self.optimizers = optimizers.mapValues { $0.state() }
        self.schedulers = schedulers.mapValues(\.state)
        rngState = includeRNG ? Torch.rngState() : nil
    }

    // MARK: Writing

    public func encode() throws -> Data {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (net, dict) in networks.sorted(by: { $0.key < $1.key }) {
            for (name, t) in dict.sorted(by: { $0.key < $1.key }) { tensors.append(("model.\(net).\(name)", t)) }
        }
        var hyper: [String: [String: Double]] = [:]
        for (opt, state) in optimizers.sorted(by: { $0.key < $1.key }) {
            hyper[opt] = state.hyperparameters
            for (name, t) in state.tensors { tensors.append(("optimizer.\(opt).\(name)", t)) }
        }
        if let rngState { tensors.append(("rng.cpu", Tensor(rngState, shape: [rngState.count]))) }
        var metadata: [String: String] = [
            "format": Self.format,
            "format_version": Self.formatVersion,
            "step": String(step),
            "epoch": String(epoch),
            "configuration": configuration,
            "optimizers": try Self.json(hyper),
            "schedulers": try Self.json(schedulers),
            "extra": try Self.json(extra),
        ]
        metadata["checksum"] = Self.placeholder
        var data = try SafeTensors(tensors: tensors, metadata: metadata).encode()
        metadata["checksum"] = nil
        let sum = Self.checksum(of: data, metadata: metadata)
        // The placeholder has the final width, so the header keeps its length.
        let placeholder = Data(Self.placeholder.utf8)
        guard let range = data.range(of: placeholder, in: 8 ..< Self.dataStart(data)) else {
            throw TorchError("internal error: checksum placeholder missing")
        }
        data.replaceSubrange(range, with: Data(("crc32:" + sum).utf8))
        return data
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func save(path: String) throws {
        try AtomicFile.write(try encode(), to: path)
    }

    // MARK: Reading

    public static func load(path: String) throws -> Checkpoint {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw TorchError("\(path): no such checkpoint") }
            throw TorchError("\(path): cannot read the checkpoint (\(FileErrorText.reason(error)))")
        }
        return try decode(data, source: path)
    }

    public static func decode(_ data: Data, source: String) throws -> Checkpoint {
        let file: SafeTensors
        do {
            file = try SafeTensors.decode(data, source: source)
        } catch let e as TorchError {
            throw TorchError("\(e.message) — not a readable checkpoint")
        }
        var meta = file.metadata
        guard meta["format"] == format else {
            throw TorchError("\(source): not a Sketch2Real checkpoint (safetensors file without format '\(format)')")
        }
        guard meta["format_version"] == formatVersion else {
            throw TorchError("\(source): checkpoint format version \(meta["format_version"] ?? "?") is not supported (expected \(formatVersion))")
        }
        guard let stored = meta.removeValue(forKey: "checksum"), stored.hasPrefix("crc32:") else {
            throw TorchError("\(source): checkpoint has no checksum")
        }
        let actual = checksum(of: data, metadata: meta)
        guard stored == "crc32:" + actual else {
            throw TorchError("\(source): checkpoint is damaged (checksum \(actual) does not match the recorded \(stored.dropFirst(6)))")
        }
        guard let step = Int(meta["step"] ?? ""), let epoch = Int(meta["epoch"] ?? "") else {
            throw TorchError("\(source): checkpoint lacks step or epoch")
        }
        let decoder = JSONDecoder()
        let hyper = try decoder.decode([String: [String: Double]].self, from: Data((meta["optimizers"] ?? "{}").utf8))
        let schedulers = try decoder.decode([String: LearningRateScheduler.State].self, from: Data((meta["schedulers"] ?? "{}").utf8))
        let extra = try decoder.decode([String: String].self, from: Data((meta["extra"] ?? "{}").utf8))

        var networks: [String: [String: Tensor]] = [:]
        var optimizerTensors: [String: [(name: String, tensor: Tensor)]] = [:]
        var rng: [UInt8]?
        for (name, t) in file.tensors {
            if name == "rng.cpu" {
                rng = t.toArray(UInt8.self)
            } else if name.hasPrefix("model.") {
                let rest = name.dropFirst(6)
                guard let dot = rest.firstIndex(of: ".") else { throw TorchError("\(source): bad tensor name \(name)") }
                networks[String(rest[..<dot]), default: [:]][String(rest[rest.index(after: dot)...])] = t
            } else if name.hasPrefix("optimizer.") {
                let rest = name.dropFirst(10)
                guard let dot = rest.firstIndex(of: ".") else { throw TorchError("\(source): bad tensor name \(name)") }
                optimizerTensors[String(rest[..<dot]), default: []].append((String(rest[rest.index(after: dot)...]), t))
            } else {
                throw TorchError("\(source): unexpected tensor \(name) in checkpoint")
            }
        }
        var optimizers: [String: OptimizerState] = [:]
        for (name, h) in hyper { optimizers[name] = OptimizerState(tensors: optimizerTensors[name] ?? [], hyperparameters: h) }
        return Checkpoint(step: step, epoch: epoch, configuration: meta["configuration"] ?? "{}", extra: extra,
                          networks: networks, optimizers: optimizers, schedulers: schedulers, rngState: rng)
    }

    init(step: Int, epoch: Int, configuration: String, extra: [String: String], networks: [String: [String: Tensor]],
         optimizers: [String: OptimizerState], schedulers: [String: LearningRateScheduler.State], rngState: [UInt8]?) {
        self.step = step
        self.epoch = epoch
        self.configuration = configuration
        self.extra = extra
        self.networks = networks
        self.optimizers = optimizers
        self.schedulers = schedulers
        self.rngState = rngState
    }

    /// Puts the saved state back into live objects. Every named object must be in the
    /// checkpoint and match it; nothing is changed unless all of them do.
    public func restore(networks targets: [String: Module], optimizers targetOptimizers: [String: any Optimizer] = [:],
                        schedulers targetSchedulers: [String: LearningRateScheduler] = [:], restoreRNG: Bool = true) throws {
        for name in targets.keys where networks[name] == nil {
            throw TorchError("checkpoint has no network '\(name)' (it has: \(networks.keys.sorted().joined(separator: ", ")))")
        }
        for name in targetOptimizers.keys where optimizers[name] == nil {
            throw TorchError("checkpoint has no optimizer '\(name)'")
        }
        for name in targetSchedulers.keys where schedulers[name] == nil {
            throw TorchError("checkpoint has no scheduler '\(name)'")
        }
        // Check every network before changing any, so a mismatch leaves the model untouched.
        for (name, module) in targets { try Self.checkCompatible(module, networks[name]!, network: name) }
        // Optimisers and schedulers can still refuse their state, so they go before the networks.
        for (name, o) in targetOptimizers { try o.loadState(optimizers[name]!) }
        for (name, s) in targetSchedulers { try s.load(schedulers[name]!) }
        for (name, module) in targets { try module.loadStateDict(networks[name]!) }
        if restoreRNG, let rngState { try Torch.setRNGState(rngState) }
    }

    public static func checkCompatible(_ module: Module, _ values: [String: Tensor], network: String) throws {
        let expected = Dictionary(module.stateDict(), uniquingKeysWith: { a, _ in a })
        let missing = expected.keys.filter { values[$0] == nil }.sorted()
        let unexpected = values.keys.filter { expected[$0] == nil }.sorted()
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing \(Module.abbreviate(missing))") }
        if !unexpected.isEmpty { problems.append("unexpected \(Module.abbreviate(unexpected))") }
        for (k, v) in expected.sorted(by: { $0.key < $1.key }) {
            if let got = values[k], got.shape != v.shape {
                problems.append("\(k) is \(got.shape) in the checkpoint but \(v.shape) in the model")
            }
        }
        if !problems.isEmpty {
            throw TorchError("checkpoint network '\(network)' does not match the model: " + problems.joined(separator: "; "))
        }
    }

    // MARK: Helpers

    static let placeholder = "crc32:00000000"

    static func dataStart(_ data: Data) -> Int {
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        return 8 + Int(n)
    }

    static func checksum(of data: Data, metadata: [String: String]) -> String {
        var crc = CRC32()
        data.withUnsafeBytes { raw in crc.update(UnsafeRawBufferPointer(rebasing: raw[dataStart(data)...])) }
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { crc.update(Array("\(k)=\(v)\n".utf8)) }
        return crc.hex
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
