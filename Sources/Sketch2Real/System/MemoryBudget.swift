import Foundation
import NN
import Torch

/// The memory a job will need, estimated from the networks' shapes before anything large is
/// allocated, against the memory this process may still use; a job that does not fit is refused
/// with both numbers instead of being killed by the kernel half-way.
///
/// The estimate counts float32 activations: every convolution and linear output of one forward
/// pass (`ActivationCounter`, measured on a small probe and scaled by the pixel count), plus the
/// weights. Without autograd (translation, sampling) that sum is an upper bound on what is alive
/// at once; training keeps each output and the normalisation and activation results computed
/// from it for the backward pass, so it counts three times the sum, for the generator and the
/// discriminator (run on real and generated pairs), plus weights, gradients and Adam's two
/// moments. `--ignore-memory-limit` skips the check.
public enum MemoryBudget {
    public struct Available: Sendable, Equatable {
        public let bytes: Int
        /// Where the figure comes from ("the cgroup limit", "MemAvailable").
        public let source: String
    }

    /// The environment variable that sets a lower limit (bytes, or with a K, M or G suffix), for
    /// sharing a machine with other work.
    public static let environmentKey = "SKETCH2REAL_MEMORY_LIMIT"

    /// What the process may still allocate: the cgroup's limit less its usage (v2 or v1), the
    /// kernel's MemAvailable, or `SKETCH2REAL_MEMORY_LIMIT`, whichever is smallest; nil when none
    /// can be read.
    public static func available() -> Available? {
        var best: Available?
        func consider(_ bytes: Int?, _ source: String) {
            guard let bytes, bytes >= 0, bytes < (best?.bytes ?? .max) else { return }
            best = Available(bytes: bytes, source: source)
        }
        func number(_ path: String) -> Int? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        if let limit = number("/sys/fs/cgroup/memory.max"), let used = number("/sys/fs/cgroup/memory.current") {
            consider(limit - used, "the cgroup's memory limit")
        }
        if let limit = number("/sys/fs/cgroup/memory/memory.limit_in_bytes"), limit < 1 << 50,
           let used = number("/sys/fs/cgroup/memory/memory.usage_in_bytes") {
            consider(limit - used, "the cgroup's memory limit")
        }
        if let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = line.split(separator: " ").compactMap({ Int($0) }).first {
            consider(kib * 1024, "MemAvailable")
        }
        if let text = ProcessInfo.processInfo.environment[environmentKey], let bytes = parseBytes(text) {
            consider(bytes, "$\(environmentKey)")
        }
        return best
    }

    /// Float32 bytes of convolution and linear outputs per input pixel of one forward pass of
    /// `forward` without autograd, from a probe of batch 1 at `side`×`side`.
    public static func activationBytesPerPixel(channels: Int, side: Int, _ forward: (Tensor) -> Tensor) -> Double {
        let x = Tensor.zeros([1, channels, side, side])
        let (_, elements) = ActivationCounter.count { withNoGrad { forward(x) } }
        return elements * 4 / Double(side * side)
    }

    /// The probe's side: the generator's smallest input, and at least 32.
    static func probeSide(_ generator: any SketchToImageGenerator) -> Int {
        Swift.max(Translator.minimumSide(stride: generator.stride), 32)
    }

    public static func parameterBytes(_ modules: [Module]) -> Double {
        modules.reduce(0) { total, m in total + m.parameters().reduce(0) { $0 + Double($1.count * $1.dtype.byteSize) } }
    }

    /// What inference with one generator costs: activation bytes per pixel and its weights.
    public struct InferenceCost: Sendable {
        public let bytesPerPixel: Double
        public let weightBytes: Double

        /// Bytes to translate or sample `images` pictures of `width`×`height` in one batch.
        public func bytes(width: Int, height: Int, images: Int = 1) -> Double {
            // Activations, the input and output pictures (float32, a few copies), the weights.
            (bytesPerPixel + 4 * 8) * Double(width) * Double(height) * Double(images) + weightBytes
        }
    }

    public static func inferenceCost(_ generator: any SketchToImageGenerator) -> InferenceCost {
        let side = probeSide(generator)
        let perPixel = activationBytesPerPixel(channels: generator.inputChannels, side: side) { generator.translate($0) }
        return InferenceCost(bytesPerPixel: perPixel, weightBytes: parameterBytes([generator]))
    }

    /// Bytes one training step of `config` needs, measured on the networks a trainer built: for
    /// each network the outputs of its layers, kept with their normalised and activated copies for
    /// the backward pass (3×), the generator run twice for the multimodal models, the
    /// discriminator and the perceptual network each on real and generated pictures; then every
    /// weight four times (itself, its gradient, Adam's two moments). The networks come back as
    /// they were (`probing`).
    static func trainingBytes(_ config: TrainingConfig, generator: any SketchToImageGenerator, discriminator: MultiScaleDiscriminator,
                              encoder: LatentEncoder?, perceptual: FeatureNetwork?) throws -> Double {
        let crop = config.data.preprocess.cropSize
        let side = probeSide(generator)
        // A multi-scale discriminator's coarsest scale may need more than the generator's probe.
        let discriminatorSide = (side ... Swift.max(side, crop)).first { config.discriminator.accepts(side: $0) } ?? crop
        let perPixel = try probing([generator, discriminator, encoder]) {
            var perPixel = activationBytesPerPixel(channels: generator.inputChannels, side: side) { generator.translate($0) }
                * (config.model.isMultimodal ? 2 : 1)
            perPixel += 2 * activationBytesPerPixel(channels: config.discriminator.inputChannels, side: discriminatorSide) { discriminator($0).last! }
            if let encoder {
                perPixel += activationBytesPerPixel(channels: config.data.outputChannels, side: side) { encoder($0).mu }
            }
            if let perceptual, config.lambdaPerceptual > 0 {
                perPixel += 2 * activationBytesPerPixel(channels: 3, side: side) { perceptual.features($0).last! }
            }
            return perPixel
        }
        let weights = parameterBytes([generator, discriminator] + (encoder.map { [$0] } ?? []))
        return 3 * perPixel * Double(crop * crop * config.batchSize) + 4 * weights
    }

    /// The same estimate without a trainer: builds a generator, discriminator, encoder and
    /// perceptual network of `config` for it alone.
    static func trainingBytes(_ config: TrainingConfig) throws -> Double {
        let generator: any SketchToImageGenerator = config.model.isMultimodal ? try GeneratorFile.makeLatent(config) : try GeneratorFile.make(config)
        return try trainingBytes(config, generator: generator, discriminator: try MultiScaleDiscriminator(config.resolved.discriminator),
                                 encoder: try GeneratorFile.makeEncoder(config), perceptual: try? TrainingLoop.perceptualLoss(config)?.network)
    }

    /// `train`'s check, made by the trainer once it has built its networks and before it creates
    /// the run folder or reads any data: refuses a run that would not fit.
    static func checkTraining(_ config: TrainingConfig, generator: any SketchToImageGenerator, discriminator: MultiScaleDiscriminator,
                              encoder: LatentEncoder?, perceptual: FeatureNetwork?) throws {
        let bytes = try trainingBytes(config, generator: generator, discriminator: discriminator, encoder: encoder, perceptual: perceptual)
        try check(needs: bytes, for: "training \(config.model.rawValue) on \(config.data.preprocess.cropSize)² crops in batches of \(config.batchSize)",
                  ignore: false)
    }

    /// Runs `body` with `modules` in evaluation mode and the random generator's state kept, then
    /// puts every module back in the mode it had: probing a network that is about to be trained
    /// must not move its batch-norm statistics or spectral-norm vectors, nor draw dropout masks
    /// from the stream its training will draw from.
    static func probing<T>(_ modules: [Module?], _ body: () throws -> T) throws -> T {
        // Pre-order (each module before those below it), so restoring in this order leaves every
        // module in its own mode.
        let modes = modules.compactMap { $0 }.flatMap { $0.namedModules().map { ($0.1, $0.1.isTraining) } }
        let randomState = Torch.rngState()
        for case let module? in modules { module.eval() }
        defer { for (module, training) in modes { module.train(training) } }
        let result = Result { try body() }
        try Torch.setRNGState(randomState)
        return try result.get()
    }

    /// nil when `bytes` fit in what is available (or nothing can be read), else the refusal.
    public static func refusal(needs bytes: Double, for what: String, available: Available? = available()) -> String? {
        guard let available, bytes > Double(available.bytes) else { return nil }
        return "\(what) needs about \(format(bytes)) of memory, but \(format(Double(available.bytes))) is available (\(available.source)); "
            + "use a smaller size or batch, or pass --ignore-memory-limit to try anyway"
    }

    /// Throws the refusal, unless `ignore`.
    public static func check(needs bytes: Double, for what: String, ignore: Bool) throws {
        if !ignore, let message = refusal(needs: bytes, for: what) { throw MemoryLimitError(description: message) }
    }

    /// "1073741824", "512M", "2G" → bytes; nil when unreadable.
    static func parseBytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = t.last, let unit = units[last], let n = Double(t.dropLast()), n >= 0 { return Int(n * Double(unit)) }
        return Int(t).flatMap { $0 >= 0 ? $0 : nil }
    }

    static func format(_ bytes: Double) -> String {
        bytes >= 1_073_741_824 ? String(format: "%.1f GiB", bytes / 1_073_741_824) : String(format: "%.0f MiB", bytes / 1_048_576)
    }
}

/// A job refused because it would not fit in memory.
public struct MemoryLimitError: Error, CustomStringConvertible, Equatable {
    public let description: String
}
