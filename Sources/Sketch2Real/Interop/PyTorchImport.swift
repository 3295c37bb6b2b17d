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
            throw InteropError("--netG \(netG) is not a pix2pix generator Sketch2Real builds (\(pix2pixGenerators.keys.sorted().joined(separator: ", ")))")
        }
        let weights = unwrapped(state)
        let unet = architecture == .unet256 || architecture == .unet128
        func shape(_ key: String) throws -> [Int] {
            guard let t = weights[key] else {
                throw InteropError("\(source): no tensor '\(key)', which a pix2pix \(netG) generator has; is --netG right? (the file has \(Module.abbreviate(weights.keys.sorted())))")
            }
            return try convolutionShape(t, key, source: source)
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
        config = config.resolved
        config.data.preprocess.multiple = config.generatorStride
        try config.validate()
        let generator = try GeneratorFile.make(config)
        try load(weights, into: generator, source: source, what: "pix2pix \(netG) generator")
        return (generator, config)
    }

    /// A BicycleGAN generator (`latest_net_G.pth`: G_Unet_add_all, or G_Unet_add_input, which
    /// becomes an MSGAN-style model) and optionally its encoder (`latest_net_E.pth`: E_ResNet).
    /// Levels, widths, channels, code length and normalisation are read from the tensors;
    /// `nz` is needed only without an encoder, when the code length cannot be told from G alone.
    public static func bicycleGAN(generator state: [String: Tensor], encoder encoderState: [String: Tensor]?, nz given: Int?,
                                  source: String) throws -> MultimodalModel {
        let g = unwrapped(state)
        func shape(_ weights: [String: Tensor], _ key: String, _ what: String, rank: Int = 4) throws -> [Int] {
            guard let t = weights[key] else {
                throw InteropError("\(source): no tensor '\(key)', which a BicycleGAN \(what) has (the file has \(Module.abbreviate(weights.keys.sorted())))")
            }
            return try convolutionShape(t, key, rank: rank, source: source)
        }
        // Levels: how deep `submodule.` nests below `model.`.
        var levels = 0
        while g.keys.contains(where: { $0.hasPrefix("model." + String(repeating: "submodule.", count: levels) + "down.") }) { levels += 1 }
        guard levels >= 5 else { throw InteropError("\(source): \(levels) U-Net levels found (model.down…, model.submodule.down…); BicycleGAN's generator has at least 5") }
        let outerDown = try shape(g, "model.down.0.weight", "generator")
        let innerDown = try shape(g, "model.submodule.down.1.weight", "generator")
        let outerUp = try shape(g, "model.up.1.weight", "generator")
        let ngf = outerDown[0]
        var nz = given
        var encoder: [String: Tensor]?
        var e = LatentEncoderConfig()
        if let encoderState {
            let weights = unwrapped(encoderState)
            encoder = weights
            let first = try shape(weights, "conv.0.weight", "encoder (E_ResNet)")
            let head = try shape(weights, "fc.0.weight", "encoder (E_ResNet)", rank: 2)
            e.nef = first[0]
            e.inputChannels = first[1]
            e.latentChannels = head[0]
            e.blocks = (1...).first { !weights.keys.contains("conv.\($0).shortcut.1.weight") }! - 1
            e.norm = weights.keys.contains { $0.hasSuffix(".running_mean") } ? .batch : .instance
            if let given, given != head[0] { throw InteropError("--nz \(given) disagrees with the encoder's code length \(head[0])") }
            nz = head[0]
        }
        // Every level takes the code (G_Unet_add_all) when the second level's convolution reads
        // ngf + nz channels; only the input (G_Unet_add_input) when it reads ngf.
        let everyLevel = innerDown[1] != ngf
        if nz == nil, everyLevel { nz = innerDown[1] - ngf }
        guard let nz, nz >= 1 else {
            throw InteropError("\(source): the code length cannot be read from a generator that takes it at the input only; give --nz (or --encoder)")
        }
        guard outerDown[1] > nz else { throw InteropError("\(source): the first convolution reads \(outerDown[1]) channels, not more than the code's \(nz)") }
        let kind: ModelKind = everyLevel ? .bicyclegan : .msgan
        var config = TrainingConfig.defaults(for: kind, size: Swift.max(256, 1 << levels))
        config.latentUNet.levels = levels
        config.latentUNet.ngf = ngf
        config.latentUNet.latentAtEveryLevel = everyLevel
        config.latentUNet.norm = g.keys.contains { $0.hasSuffix(".running_mean") } ? .batch : .instance
        config.multimodal.nz = nz
        config.data.inputChannels = outerDown[1] - nz
        config.data.outputChannels = outerUp[1]
        if encoder != nil {
            (config.encoder.nef, config.encoder.blocks, config.encoder.norm) = (e.nef, e.blocks, e.norm)
            guard e.inputChannels == config.data.outputChannels else {
                throw InteropError("the encoder reads \(e.inputChannels)-channel images but the generator draws \(config.data.outputChannels)-channel ones")
            }
        }
        config = config.resolved
        config.data.preprocess.multiple = config.generatorStride
        try config.validate()
        let generator = try GeneratorFile.makeLatent(config)
        try load(g, into: generator, source: source, what: "\(kind.rawValue) generator")
        var encoderNetwork: LatentEncoder?
        if let encoder {
            let network = try LatentEncoder(config.encoder)
            try load(encoder, into: network, source: source + " (encoder)", what: "BicycleGAN encoder")
            encoderNetwork = network
        }
        return MultimodalModel(generator: generator, encoder: kind.usesEncoder ? encoderNetwork : nil, config: config)
    }

    /// An SRAGAN or LSRAGAN generator saved from reference/sragan.py's `SRAGANGenerator` (and,
    /// for LSRAGAN, optionally reference/multimodal.py's `LatentEncoder`): the architecture is
    /// the `SRAGANConfig` JSON the reference was built with (its `config` dict).
    public static func sragan(generator state: [String: Tensor], encoder encoderState: [String: Tensor]?, settings: Data,
                              multimodal: Bool, source: String) throws -> (generator: any SketchToImageGenerator, encoder: LatentEncoder?, config: TrainingConfig) {
        let kind: ModelKind = multimodal ? .lsragan : .sragan
        let sragan: SRAGANConfig
        do { sragan = try SRAGANConfig.decoded(from: settings) } catch {
            throw InteropError("the --config file is not an SRAGAN configuration: \(error)")
        }
        var config = TrainingConfig.defaults(for: kind, size: 256)
        config.sragan = sragan
        config.data.inputChannels = sragan.inputChannels
        config.data.outputChannels = sragan.outputChannels
        if multimodal {
            guard sragan.latentChannels > 0 else { throw InteropError("an lsragan generator takes a code: latentChannels must be positive in --config") }
            config.multimodal.nz = sragan.latentChannels
        } else if sragan.latentChannels > 0 {
            throw InteropError("latentChannels is \(sragan.latentChannels) in --config: this generator takes a code; import it as --model lsragan")
        }
        var encoder: LatentEncoder?
        if let encoderState {
            guard multimodal else { throw InteropError("--encoder belongs to lsragan (and bicyclegan) models") }
            let weights = unwrapped(encoderState)
            guard let firstTensor = weights["conv.0.weight"], let headTensor = weights["fc.0.weight"] else {
                throw InteropError("\(source): the encoder file has no conv.0.weight or fc.0.weight, so it is not an encoder from reference/multimodal.py")
            }
            let first = try convolutionShape(firstTensor, "conv.0.weight", source: source)
            let head = try convolutionShape(headTensor, "fc.0.weight", rank: 2, source: source)
            config.encoder.nef = first[0]
            config.encoder.blocks = (1...).first { !weights.keys.contains("conv.\($0).shortcut.1.weight") }! - 1
            config.encoder.norm = weights.keys.contains { $0.hasSuffix(".running_mean") } ? .batch : .instance
            guard head[0] == sragan.latentChannels else {
                throw InteropError("the encoder's code length \(head[0]) differs from the generator's \(sragan.latentChannels)")
            }
            let network = try LatentEncoder({ var e = config.encoder; e.inputChannels = sragan.outputChannels; e.latentChannels = head[0]; return e }())
            try load(weights, into: network, source: source + " (encoder)", what: "LSRAGAN encoder")
            encoder = network
        }
        config = config.resolved
        config.data.preprocess.multiple = config.generatorStride
        try config.validate()
        let generator = try GeneratorFile.make(config)
        try load(unwrapped(state), into: generator, source: source, what: "\(kind.rawValue) generator")
        return (generator, encoder, config)
    }

    /// The shape of `tensor`, a layer's weight of `rank` dimensions (4 for a convolution, 2 for
    /// a linear layer), each at least 1: checked before any dimension is read.
    static func convolutionShape(_ tensor: Tensor, _ key: String, rank: Int = 4, source: String) throws -> [Int] {
        let shape = tensor.shape
        guard shape.count == rank, shape.allSatisfy({ $0 >= 1 }) else {
            throw InteropError("\(source): tensor '\(key)' has shape \(shape); a \(rank == 4 ? "convolution" : "linear layer")'s weight has \(rank) dimensions, each at least 1")
        }
        return shape
    }

    /// Refuses weights that cannot be a trained network's: integers or booleans where the network
    /// holds floating-point values, and NaN or infinite values.
    static func checkValues(_ weights: [String: Tensor], against module: Module, source: String) throws {
        for (name, expected) in module.stateDict() {
            guard let t = weights[name], expected.dtype.isFloatingPoint else { continue }
            guard t.dtype.isFloatingPoint else {
                throw InteropError("\(source): tensor '\(name)' holds \(t.dtype) values where the network has floating-point weights; the file is not a trained network's state dict")
            }
            // x·0 is 0 for every finite x and NaN for NaN and ±∞, so the sum tells.
            if t.count > 0, ((t.to(.float64) * 0.0).sum().item() as Double).isNaN {
                throw InteropError("\(source): tensor '\(name)' holds NaN or infinite values; a network with them draws nothing")
            }
        }
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
            throw InteropError("\(source): \(e.message.replacingOccurrences(of: "checkpoint network '\(what)' does not match the model", with: "the tensors do not match a \(what)"))")
        }
        try checkValues(filled, against: module, source: source)
        try module.loadStateDict(filled.mapValues { $0.dtype == .float16 || $0.dtype == .bfloat16 || $0.dtype == .float64 ? $0.to(.float32) : $0 })
    }
}
