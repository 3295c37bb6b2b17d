import Foundation
import NN
import Torch

/// `train --init-from RUN|FILE`: a new run starts from the weights of an earlier run (its latest
/// checkpoint: generator, discriminators and encoder) or of an exported model (generator and
/// encoder), for pretraining on synthetic scenes and fine-tuning on photos. Optimiser state,
/// counters and the schedule start afresh; networks the source lacks keep their initialisation.
enum WarmStart {
    /// Loads what `source` holds into the matching `networks` (by checkpoint name: G, D, E, D2)
    /// and returns the names loaded. Every shared network must match exactly, and the generator
    /// must be among them; nothing is changed otherwise.
    static func apply(_ source: String, to networks: [String: Module]) throws -> [String] {
        let stored = try GeneratorFile.read(source)
        var weights = stored.otherNetworks
        weights["G"] = stored.generator
        if let e = stored.encoder { weights["E"] = e }
        let shared = networks.keys.filter { weights[$0] != nil }.sorted()
        guard shared.contains("G") else {
            throw ModelError("--init-from \(source): it holds no generator for this model")
        }
        for name in shared {
            let widened = weights[name]!.mapValues { $0.dtype == .float16 ? $0.to(.float32) : $0 }
            do {
                try Checkpoint.checkCompatible(networks[name]!, widened, network: name)
            } catch let e as TorchError {
                throw ModelError("--init-from \(source): \(e.message) (it was trained as \(stored.config.model.rawValue); start from a run of the same architecture)")
            }
            weights[name] = widened
        }
        for name in shared { try networks[name]!.loadStateDict(weights[name]!) }
        return shared
    }
}
