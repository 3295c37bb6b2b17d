import Foundation
import NN
import Torch

/// Turns a PyTorch state dict into a Sketch2Real model file: the tensors are matched by name to
/// the network the configuration builds (pix2pix's generators already use the names of
/// pytorch-CycleGAN-and-pix2pix), and every missing, unexpected or wrongly shaped tensor is
/// named in the error.
public enum PyTorchImport {
    /// pytorch-CycleGAN-and-pix2pix's `--netG` names.
    public static let pix2pixGenerators: [String: Pix2PixArchitecture] = [
        "unet_256": .unet256, "unet_128": .unet128, "resnet_9blocks": .resnet9, "resnet_6blocks": .resnet6,
    ]

    /// Keys without DataParallel's `module.` prefix.
    static func unwrapped(_ weights: [String: Tensor]) -> [String: Tensor] {
        guard !weights.isEmpty, weights.keys.allSatisfy({ $0.hasPrefix("module.") }) else { return weights }
        return Dictionary(uniqueKeysWithValues: weights.map { (String($0.key.dropFirst("module.".count)), $0.value) })
    }

    /// A pix2pix generator (`latest_net_G.pth`): channels, width, normalisation and (for the
    /// ResNets) dropout are read from the tensors; `netG` names the architecture.
    public static func pix2pix(_ state: [String: Tensor], netG: String, source: String) throws -> (generator: any SketchToImageGenerator, config: TrainingConfig) {
        guard let architecture = pix2pixGenerators[netG] else {
            throw ImportError("--netG \(netG) is not a pix2pix generator Sketch2Real builds (\(pix2pixGenerators.keys.sorted().joined(separator: ", ")))")
        }
        let weights = unwrapped(state)
        let unet = architecture == .unet256 || architecture == .unet128
        func shape(_ key: String) throws -> [Int] {
            guard let t = weights[key] else {
                throw ImportError("\(source): no tensor '\(key)', which a pix2pix \(netG) generator has; is --netG right? (the file has \(Module.abbreviate(weights.keys.sorted())))")
            }
            return t.shape
        }
        let first = try shape(unet ? "model.model.0.weight" : "model.1.weight")
        let lastKey = unet ? "model.model.3.weight"
            : weights.keys.filter { $0.hasPrefix("model.") && $0.hasSuffix(".weight") && !$0.contains("conv_block") }
                .max { Int($0.split(separator: ".")[1]) ?? 0 < Int($1.split(separator: ".")[1]) ?? 0 } ?? "model.?.weight"
        let last = try shape(lastKey)
        var config = TrainingConfig.defaults(for: .pix2pix, size: architecture == .unet128 ? 128 : 256)
        config.pix2pix.architecture = architecture
        config.pix2pix.ngf = first[0]
        config.data.inputChannels = first[1]
        // A transposed convolution's weight is in × out × k × k; a convolution's out × in × k × k.
        config.data.outputChannels = unet ? last[1] : last[0]
        let batchNorm = weights.keys.contains { $0.hasSuffix(".running_mean") }
        config.pix2pix.norm = batchNorm ? .batch : .instance
        config.discriminator.norm = config.pix2pix.norm
        // pix2pix's ResNet blocks hold a Dropout layer when trained with dropout, which moves the
        // second convolution from conv_block.5 to conv_block.6; a U-Net's dropout has no tensors
        // (pix2pix's default, on, is kept).
        if !unet { config.pix2pix.dropout = weights.keys.contains { $0.contains("conv_block.6.") } }
        config.syncChannels()
        config.data.preprocess.multiple = config.generatorStride
        try config.validate()
        let generator = try GeneratorFile.make(config)
        try load(weights, into: generator, source: source, what: "pix2pix \(netG) generator")
        return (generator, config)
    }

    /// Checks names and shapes, then copies; batch norm's `num_batches_tracked` (absent from
    /// checkpoints saved before PyTorch 0.4.1, and unused by inference) may be missing.
    static func load(_ weights: [String: Tensor], into module: Module, source: String, what: String) throws {
        var filled = weights
        for (name, t) in module.stateDict() where name.hasSuffix("num_batches_tracked") && filled[name] == nil {
            filled[name] = Tensor.zeros(t.shape, dtype: t.dtype)
        }
        do {
            try Checkpoint.checkCompatible(module, filled, network: what)
        } catch let e as TorchError {
            throw ImportError("\(source): \(e.message.replacingOccurrences(of: "checkpoint network '\(what)' does not match the model", with: "the tensors do not match a \(what)"))")
        }
        try module.loadStateDict(filled.mapValues { $0.dtype == .float16 || $0.dtype == .bfloat16 || $0.dtype == .float64 ? $0.to(.float32) : $0 })
    }
}
