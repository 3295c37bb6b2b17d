import Foundation
import NN
import Torch

/// Trains a one-to-many sketch → image GAN whose generator takes a latent code z:
///
/// - LSRAGAN and BicycleGAN combine two latent sources, as BicycleGAN does. Each batch is
///   split in halves. The first half takes the cVAE-GAN path: z = E(y) reparameterised,
///   G(x, z) reconstructs y (λ_L1·L1, the joint perceptual loss λ_perc·VGG + λ_FM·feature
///   matching on D, λ_GAN·GAN on D) and λ_kl·KL(q(z|y) ‖ N(0, I)) keeps the codes near the
///   prior. The same sketches also take the cLR-GAN path with random z ~ N(0, I): G(x, z)
///   must fool D2 (λ_GAN2), and λ_z·|μ(E(G(x, z))) − z|₁ updates G only. D2's real images are
///   the second half of the batch.
/// - MSGAN: G(x, z) with random z fools a conditional D and, for the first of its two codes,
///   stays close to the target (λ_L1), as MSGAN's pix2pix does.
/// - All of them (λ_ms > 0) draw two codes per sketch on the random path and add the
///   mode-seeking term λ_ms / (mean|G(x, z1) − G(x, z2)| / mean|z1 − z2| + 1e-5).
///
/// G and E are updated first, then the discriminators on the same (detached) images, as
/// BicycleGAN orders it. The run folder, checkpoints (networks G, E, D, D2 with their
/// optimisers), resume, interruption and logs follow `PairedTrainer`.
public final class MultimodalTrainer: TrainingAlgorithm {
    public let generator: any LatentImageGenerator
    /// E, for LSRAGAN and BicycleGAN.
    public let encoder: LatentEncoder?
    /// D: the encoded path's discriminator (MSGAN's only one).
    public let discriminator: MultiScaleDiscriminator
    /// D2: the random path's discriminator, for models with an encoder.
    public let discriminator2: MultiScaleDiscriminator?
    let optimizerG: Adam
    let optimizerE: Adam?
    let optimizerD: Adam
    let optimizerD2: Adam?
    let perceptual: PerceptualLoss?
    let trained: TrainedNetworks
    let loop: TrainingLoop

    public var config: TrainingConfig { loop.config }
    public var run: RunFolder { loop.run }
    public var loader: DataLoader { loop.loader }
    public var step: Int { loop.step }
    /// Networks this new run took from `config.initFrom` (`train --init-from`).
    public var warmStarted: [String] { loop.warmStarted }
    public var epoch: Int { loop.epoch }
    public var position: Int { loop.position }
    public var totalEpochs: Int { loop.totalEpochs }

    /// Sets up a new run (`resume` false) or continues the one in `runFolder` with its saved
    /// configuration; `maxSteps`, if given, replaces the saved limit. With `checkMemory`, a run
    /// that would not fit in memory is refused (`MemoryBudget`), measured on the networks built
    /// here, before the run folder is created.
    public init(config newConfig: TrainingConfig, dataRoot: String, runFolder: String, resume: Bool, maxSteps: Int? = nil,
                parallel: DataParallel? = nil, checkMemory: Bool = false) throws {
        let (config, run, checkpoint) = try TrainingLoop.prepare(config: newConfig, runFolder: runFolder, resume: resume, maxSteps: maxSteps)
        guard config.model.isMultimodal else {
            throw ModelError("\(config.model.rawValue) maps each sketch to one image: train it with PairedTrainer")
        }
        Torch.manualSeed(config.seed)
        generator = try GeneratorFile.makeLatent(config)
        encoder = try GeneratorFile.makeEncoder(config)
        discriminator = try MultiScaleDiscriminator(config.discriminator)
        discriminator2 = config.model.usesEncoder ? try MultiScaleDiscriminator(config.discriminator2) : nil
        let networks: [Module?] = [generator, encoder, discriminator, discriminator2]
        for case let network? in networks { network.initializeWeights(config.initScheme, gain: config.initGain) }
        let betas = (config.beta1, config.beta2)
        func adam(_ m: Module) -> Adam { Adam(m.trainableParameters(), learningRate: config.learningRate, betas: betas) }
        optimizerG = adam(generator)
        optimizerE = encoder.map(adam)
        optimizerD = adam(discriminator)
        optimizerD2 = discriminator2.map(adam)
        var trained = TrainedNetworks()
        trained.add(.G, generator, optimizerG)
        trained.add(.E, encoder, optimizerE)
        trained.add(.D, discriminator, optimizerD)
        trained.add(.D2, discriminator2, optimizerD2)
        self.trained = trained
        let scheduler = LearningRateScheduler(.linearDecay(constantEpochs: config.epochs, decayEpochs: config.epochsDecay),
                                              optimizers: trained.orderedOptimizers)
        perceptual = try TrainingLoop.perceptualLoss(config)
        if checkMemory {
            try MemoryBudget.checkTraining(config, generator: generator, discriminator: discriminator, encoder: encoder,
                                           perceptual: perceptual?.network)
        }
        loop = try TrainingLoop(config: config, run: run, dataRoot: dataRoot, scheduler: scheduler, checkpoint: checkpoint,
                                trained: trained, parallel: parallel)
    }

    var displayedLosses: [String] { ["G_GAN", "G_GAN2", "G_L1", "KL", "z_L1", "MS", "D", "D2"] }

    var options: MultimodalOptions { config.multimodal }

    /// The discriminator's input: (sketch, image) or the image alone.
    func pair(_ x: Tensor, _ image: Tensor) -> Tensor {
        options.conditionalDiscriminator ? Tensor.cat([x, image], dim: 1) : image
    }

    /// D2's input, which may differ from D's (`MultimodalOptions.conditionalD2`).
    func pair2(_ x: Tensor, _ image: Tensor) -> Tensor {
        options.d2IsConditional ? Tensor.cat([x, image], dim: 1) : image
    }

    func randomCodes(_ n: Int, like x: Tensor) -> Tensor { normalRows(n, options.nz) }

    /// `rows` × `columns` standard normal values from the global generator. Data-parallel, each
    /// rank draws the rows of all W ranks and keeps rows r, r + W, …: the examples it holds in the
    /// one-process batch (`DataLoader.shard`), so the ranks together draw what one process would.
    func normalRows(_ rows: Int, _ columns: Int) -> Tensor {
        let w = loop.worldSize
        guard w > 1, let rank = loop.parallel?.rank else { return Tensor.randn([rows, columns]) }
        let all = Tensor.randn([rows * w, columns])
        return Tensor.cat((0 ..< rows).map { all.narrow(dim: 0, start: rank + $0 * w, length: 1) }, dim: 0)
    }

    // MARK: One step

    /// One update of G (and E), then of D (and D2); returns every loss term by name.
    public func trainStep(input x: Tensor, target y: Tensor) -> StepLosses {
        for case let network? in [generator, encoder, discriminator, discriminator2] as [Module?] { network.train() }
        let batch = x.size(0)
        let twoCodes = options.lambdaMS > 0
        var losses = StepLosses()
        var total = Tensor(scalar: 0)

        // The latent paths. With an encoder the batch splits in halves (an odd batch, such as an
        // epoch's last, leaves its middle example out; a single example serves both halves).
        let half = encoder == nil ? batch : Swift.max(1, batch / 2)
        let xE = x.narrow(dim: 0, start: 0, length: half), yE = y.narrow(dim: 0, start: 0, length: half)
        let xR = x.narrow(dim: 0, start: batch - half, length: half), yR = y.narrow(dim: 0, start: batch - half, length: half)
        var encoded: (fake: Tensor, mu: Tensor, logVariance: Tensor)?
        if let encoder {
            let (z, mu, logVariance) = encoder.sample(yE, noise: normalRows)
            encoded = (generator.generate(xE, z: z), mu, logVariance)
        }
        let z1 = randomCodes(half, like: x)
        let z2 = twoCodes ? randomCodes(half, like: x) : nil
        let codes = z2.map { Tensor.cat([z1, $0], dim: 0) } ?? z1
        let xRandom = twoCodes ? Tensor.cat([xE, xE], dim: 0) : xE
        let yRandom = twoCodes ? Tensor.cat([yE, yE], dim: 0) : yE
        let fakeRandom = generator.generate(xRandom, z: codes)

        // G (and E) against frozen discriminators.
        discriminator.freeze()
        discriminator2?.freeze()
        let needFeatures = config.lambdaFeatureMatching > 0
        // D judges the encoded images; without an encoder (MSGAN) the random ones, whose first
        // code's images are also held to the target (the second code is free to differ).
        let (judged, judgedSketch, judgedTarget) = encoded.map { ($0.fake, xE, yE) } ?? (fakeRandom, xRandom, yRandom)
        let (rebuilt, rebuiltTarget) = encoded.map { ($0.fake, yE) } ?? (fakeRandom.narrow(dim: 0, start: 0, length: half), yE)
        // With augmentation every discriminator input goes through a random transform; feature
        // matching's generated and real inputs share one, so their activations line up.
        let judgedInputs = config.discriminatorView(needFeatures ? [pair(judgedSketch, judged), pair(judgedSketch, judgedTarget)] : [pair(judgedSketch, judged)])
        let fakeFeatures = needFeatures ? discriminator.features(judgedInputs[0]) : []
        let ganG = config.gan.generatorLoss(fake: needFeatures ? fakeFeatures.map { $0.last! } : discriminator(judgedInputs[0]))
        total = total + ganG * options.lambdaGAN
        losses.gan = ganG.item()
        if let discriminator2, options.lambdaGAN2 > 0 {
            let gan2 = config.gan.generatorLoss(fake: discriminator2(config.discriminatorView([pair2(xRandom, fakeRandom)])[0]))
            total = total + gan2 * options.lambdaGAN2
            losses.gan2 = gan2.item()
        }
        ReconstructionLoss(config, perceptual: perceptual).add(
            to: &total, output: rebuilt, target: rebuiltTarget, fakeFeatures: fakeFeatures,
            realFeatures: { discriminator.features(judgedInputs[1]) }, losses: &losses)
        if let encoded {
            // Summed over the batch (BicycleGAN's form): data-parallel, ×W, so that the ranks'
            // averaged gradient is that of the one-process sum.
            let kl = KLDivergenceLoss.loss(mu: encoded.mu, logVariance: encoded.logVariance) * Double(loop.worldSize)
            if options.lambdaKL > 0 { total = total + kl * options.lambdaKL }
            losses.kl = kl.item()
        }
        if let encoder, options.lambdaZ > 0 {
            let zL1 = LatentRegressionLoss.loss(encoder: encoder, generated: fakeRandom, codes: codes)
            total = total + zL1 * options.lambdaZ
            losses.latentRegression = zL1.item()
        }
        if let z2 {
            let images1 = fakeRandom.narrow(dim: 0, start: 0, length: half), images2 = fakeRandom.narrow(dim: 0, start: half, length: half)
            let ratio = ModeSeekingLoss.ratio(images1: images1, images2: images2, codes1: z1, codes2: z2)
            let ms = ModeSeekingLoss.loss(ratio: ratio, epsilon: options.msEpsilon, clamp: options.msClamp)
            total = total + ms * options.lambdaMS
            losses.modeSeeking = ms.item()
            losses.modeSeekingRatio = ratio.item()
        }
        optimizerG.zeroGrad()
        optimizerE?.zeroGrad()
        loop.backward(total, averaging: [generator, encoder])
        loop.optimizerStep(optimizerG, optimizerE)
        losses.generatorTotal = total.item()

        // The discriminators on the same images, detached.
        losses.discriminator = update(discriminator, optimizerD, real: pair(judgedSketch, judgedTarget),
                             fake: pair(judgedSketch, judged.detached()))
        if let discriminator2, let optimizerD2 {
            discriminator2.unfreeze()
            if options.lambdaGAN2 > 0 {
                losses.discriminator2 = update(discriminator2, optimizerD2, real: pair2(xR, yR), fake: pair2(xRandom, fakeRandom.detached()))
            }
        }
        lastBatch = (x.detached(), y.detached())
        return losses
    }

    private var lastBatch: (Tensor, Tensor)?

    /// One step of a discriminator on real and generated inputs; returns its loss.
    func update(_ d: MultiScaleDiscriminator, _ optimizer: Adam, real: Tensor, fake: Tensor) -> Double {
        d.unfreeze()
        let loss = config.gan.discriminatorLoss(real: d(config.discriminatorView([real])[0]), fake: d(config.discriminatorView([fake])[0]))
        optimizer.zeroGrad()
        loop.backward(loss, averaging: [d])
        loop.optimizerStep(optimizer)
        return loss.item()
    }

    // MARK: The loop

    /// Trains until the schedule ends, `maxSteps` is reached, or a stop is requested.
    public func train(progress: ProgressReporter = ProgressReporter(),
                      shouldStop: () -> Bool = { StopSignal.isRequested }) throws -> TrainingOutcome {
        try loop.train(self, progress: progress, shouldStop: shouldStop)
    }

    public func checkpoint() throws -> Checkpoint { try loop.checkpoint(self) }

    // MARK: Pictures

    /// The same `sampleCodes` random codes at every call, drawn from their own seed so that
    /// drawing pictures never moves the training's random stream.
    func displayCodes(like x: Tensor) throws -> Tensor {
        let saved = Torch.rngState()
        defer { try? Torch.setRNGState(saved) }
        Torch.manualSeed(config.seed &+ 0x5EED)
        return randomCodes(options.sampleCodes, like: x)
    }

    /// For each sketch: the encoded result G(x, μ(E(y))) (z = 0 without an encoder), then
    /// one image per display code; evaluation mode, no autograd.
    func pictures(_ x: Tensor, _ y: Tensor) throws -> (encoded: Tensor, random: [Tensor]) {
        let codes = try displayCodes(like: x)
        let modules: [Module?] = [generator, encoder]
        for case let m? in modules { m.eval() }
        defer { for case let m? in modules { m.train() } }
        return withNoGrad {
            let encoded = encoder.map { generator.generate(x, z: $0(y).mu) } ?? generator.translate(x)
            let random = (0 ..< x.size(0)).map { i in
                let xi = x.narrow(dim: 0, start: i, length: 1).expand([codes.size(0), x.size(1), x.size(2), x.size(3)])
                return generator.generate(xi, z: codes)
            }
            return (encoded, random)
        }
    }

    /// sketch | encoded | random codes… | target, one row per example of the last batch (up to 4).
    func sampleGrid() throws -> Image? {
        guard let (x, y) = lastBatch else { return nil }
        let n = Swift.min(4, x.size(0))
        let (xs, ys) = (x.narrow(dim: 0, start: 0, length: n), y.narrow(dim: 0, start: 0, length: n))
        let (encoded, random) = try pictures(xs, ys)
        return ImageGrid.make(rows(xs, ys, encoded, random))
    }

    func rows(_ x: Tensor, _ y: Tensor, _ encoded: Tensor, _ random: [Tensor]) -> [[Image]] {
        (0 ..< x.size(0)).map { i in
            [Image(tensor: x.select(dim: 0, index: i)), Image(tensor: encoded.select(dim: 0, index: i))]
                + (0 ..< random[i].size(0)).map { Image(tensor: random[i].select(dim: 0, index: $0)) }
                + [Image(tensor: y.select(dim: 0, index: i))]
        }
    }

    /// The first validation examples; metrics: L1 of the encoded result (z = 0 without an
    /// encoder) and of the random samples to the target, and the samples' diversity.
    func validationRows(_ validation: PairedDataset) throws -> (rows: [[Image]], metrics: [String: Double]) {
        let n = Swift.min(4, validation.count)
        var sketches: [Tensor] = [], targets: [Tensor] = []
        for i in 0 ..< n {
            let s = try validation.sample(i, draw: .centred)
            guard let t = s.target else { return ([], [:]) }
            sketches.append(s.input)
            targets.append(t)
        }
        let x = Tensor.stack(sketches), y = Tensor.stack(targets)
        let (encoded, random) = try pictures(x, y)
        var l1 = 0.0, l1Random = 0.0, diversity = 0.0
        for i in 0 ..< n {
            let target = y.select(dim: 0, index: i)
            l1 += encoded.select(dim: 0, index: i).l1Loss(target).item() / Double(n)
            l1Random += random[i].l1Loss(target.unsqueezed(0).expand(random[i].shape)).item() / Double(n)
            diversity += PixelDiversity.meanPairwiseL1(random[i]) / Double(n)
        }
        return (rows(x, y, encoded, random), ["val_L1": l1, "val_L1_random": l1Random, "val_diversity": diversity])
    }
}
