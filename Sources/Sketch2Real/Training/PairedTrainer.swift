import Foundation
import NN
import Torch

/// Why training stopped.
public enum TrainingOutcome: Equatable, Sendable {
    case finished
    case reachedMaxSteps
    /// A signal asked to stop; a checkpoint was saved.
    case interrupted
}

/// A loss that is not a finite number: training stops and the last good checkpoint stays.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public let step: Int
    public let losses: [String: Double]
    public var description: String {
        let list = losses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "a loss became non-finite at step \(step) (\(list)); stopped without saving, the last good checkpoint is kept. Try a lower learning rate."
    }
}

/// Trains a one-to-one sketch → image GAN (SRAGAN or pix2pix): conditional PatchGAN, GAN +
/// λ_L1·L1 + λ_perc·perceptual (+ feature matching), Adam, linear-decay schedule.
public final class PairedTrainer: TrainingAlgorithm {
    public let generator: any SketchToImageGenerator
    public let discriminator: MultiScaleDiscriminator
    /// The projected discriminator beside the PatchGAN (`config.projected`).
    public let projected: ProjectedDiscriminator?
    let optimizerG: Adam
    let optimizerD: Adam
    let optimizerP: Adam?
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
    /// Position within the current epoch's order.
    public var position: Int { loop.position }

    /// Sets up a new run (`resume` false) or continues the one in `runFolder`.
    /// On resume, the saved configuration is used; `maxSteps`, if given, replaces the saved limit.
    /// With `checkMemory`, a run that would not fit in memory is refused (`MemoryBudget`), measured
    /// on the networks built here, before the run folder is created.
    public init(config newConfig: TrainingConfig, dataRoot: String, runFolder: String, resume: Bool, maxSteps: Int? = nil,
                parallel: DataParallel? = nil, checkMemory: Bool = false) throws {
        let (config, run, checkpoint) = try TrainingLoop.prepare(config: newConfig, runFolder: runFolder, resume: resume, maxSteps: maxSteps)
        guard !config.model.isMultimodal else {
            throw ModelError("\(config.model.rawValue) takes a latent code: train it with MultimodalTrainer")
        }
        Torch.manualSeed(config.seed)
        generator = try GeneratorFile.make(config)
        discriminator = try MultiScaleDiscriminator(config.discriminator)
        generator.initializeWeights(config.initScheme, gain: config.initGain)
        discriminator.initializeWeights(config.initScheme, gain: config.initGain)
        let betas = (config.beta1, config.beta2)
        optimizerG = Adam(generator.trainableParameters(), learningRate: config.learningRate, betas: betas)
        optimizerD = Adam(discriminator.trainableParameters(), learningRate: config.learningRate, betas: betas)
        perceptual = try TrainingLoop.perceptualLoss(config)
        if let p = config.projected {
            // The perceptual loss's HED-VGG16 serves as the backbone when there is one.
            let backbone = try (perceptual?.network as? HEDVGG16Features) ?? HEDVGG16Features(stages: 4)
            let d = try ProjectedDiscriminator(p, backbone: backbone)
            d.initializeWeights(config.initScheme, gain: config.initGain)
            projected = d
            optimizerP = Adam(d.trainableParameters(), learningRate: config.learningRate, betas: betas)
        } else {
            (projected, optimizerP) = (nil, nil)
        }
        var trained = TrainedNetworks()
        trained.add(.G, generator, optimizerG)
        trained.add(.D, discriminator, optimizerD)
        trained.add(.DP, projected, optimizerP)
        self.trained = trained
        let scheduler = LearningRateScheduler(.linearDecay(constantEpochs: config.epochs, decayEpochs: config.epochsDecay),
                                              optimizers: trained.orderedOptimizers)
        if checkMemory {
            try MemoryBudget.checkTraining(config, generator: generator, discriminator: discriminator, encoder: nil,
                                           perceptual: perceptual?.network)
        }
        loop = try TrainingLoop(config: config, run: run, dataRoot: dataRoot, scheduler: scheduler, checkpoint: checkpoint,
                                trained: trained, parallel: parallel)
    }

    public var totalEpochs: Int { loop.totalEpochs }

    var displayedLosses: [String] { ["G_GAN", "G_proj", "G_L1", "G_perceptual", "G_FM", "D", "D_proj"] }

    // MARK: One step

    /// One discriminator update and one generator update; returns the losses.
    public func trainStep(input x: Tensor, target y: Tensor) -> StepLosses {
        generator.train()
        discriminator.train()
        let fake = generator.translate(x)

        // Discriminator: real pairs against generated pairs (generator not updated here).
        discriminator.unfreeze()
        let realPair = Tensor.cat([x, y], dim: 1)
        let fakePair = Tensor.cat([x, fake.detached()], dim: 1)
        // With augmentation, D sees each pair under its own random transform; the projected
        // discriminator sees the same views.
        let realView = config.discriminatorView([realPair])[0], fakeView = config.discriminatorView([fakePair])[0]
        let lossD = config.gan.discriminatorLoss(real: discriminator(realView), fake: discriminator(fakeView))
        optimizerD.zeroGrad()
        loop.backward(lossD, averaging: [discriminator])
        loop.optimizerStep(optimizerD)
        var losses = StepLosses()
        if let projected, let optimizerP {
            projected.unfreeze()
            // Only the heads learn here: the backbone's features need no gradient.
            let lossP = GANMode.hinge.discriminatorLoss(real: projected(realView, detachFeatures: true),
                                                        fake: projected(fakeView, detachFeatures: true))
            optimizerP.zeroGrad()
            loop.backward(lossP, averaging: [projected])
            loop.optimizerStep(optimizerP)
            losses.projectedDiscriminator = lossP.item()
        }

        // Generator: fool the (frozen) discriminator and stay close to the target.
        discriminator.freeze()
        projected?.freeze()
        losses.discriminator = lossD.item()
        let needFeatures = config.lambdaFeatureMatching > 0
        // Feature matching compares D's activations on the generated and the real pair at the
        // same places, so both go through one shared transform.
        let judged = config.discriminatorView(needFeatures ? [Tensor.cat([x, fake], dim: 1), realPair] : [Tensor.cat([x, fake], dim: 1)])
        let fakeFeatures = needFeatures ? discriminator.features(judged[0]) : []
        let fakeOutputs = needFeatures ? fakeFeatures.map { $0.last! } : discriminator(judged[0])
        let ganG = config.gan.generatorLoss(fake: fakeOutputs)
        var total = ganG
        losses.gan = ganG.item()
        if let projected, let p = config.projected {
            let ganP = GANMode.hinge.generatorLoss(fake: projected(judged[0]))
            losses.projected = ganP.item()
            let weight = p.weight(atStep: step)
            if weight > 0 { total = total + ganP * weight }
        }
        ReconstructionLoss(config, perceptual: perceptual).add(
            to: &total, output: fake, target: y, fakeFeatures: fakeFeatures,
            realFeatures: { discriminator.features(judged[1]) }, losses: &losses)
        optimizerG.zeroGrad()
        loop.backward(total, averaging: [generator])
        loop.optimizerStep(optimizerG)
        discriminator.unfreeze()
        projected?.unfreeze()
        losses.generatorTotal = total.item()
        lastBatch = (x, y, fake.detached())
        return losses
    }

    private var lastBatch: (Tensor, Tensor, Tensor)?

    // MARK: The loop

    /// Trains until the schedule ends, `maxSteps` is reached, or a stop is requested.
    public func train(progress: ProgressReporter = ProgressReporter(),
                      shouldStop: () -> Bool = { StopSignal.isRequested }) throws -> TrainingOutcome {
        try loop.train(self, progress: progress, shouldStop: shouldStop)
    }

    // MARK: Outputs

    public func checkpoint() throws -> Checkpoint { try loop.checkpoint(self) }

    /// sketch | output | target rows of the last batch (up to 4).
    func sampleGrid() throws -> Image? {
        guard let (x, y, fake) = lastBatch else { return nil }
        var rows: [[Image]] = []
        for i in 0 ..< Swift.min(4, x.size(0)) {
            rows.append([x, fake, y].map { Image(tensor: $0.select(dim: 0, index: i)) })
        }
        return ImageGrid.make(rows)
    }

    /// Evaluation-mode outputs for the first validation examples, with their mean L1.
    func validationRows(_ validation: PairedDataset) throws -> (rows: [[Image]], metrics: [String: Double]) {
        generator.eval()
        defer { generator.train() }
        var rows: [[Image]] = []
        var l1 = 0.0
        let n = Swift.min(4, validation.count)
        for i in 0 ..< n {
            let s = try validation.sample(i, draw: .centred)
            let out = withNoGrad { generator.translate(s.input.unsqueezed(0)) }
            if let t = s.target { l1 += out.squeezed(0).l1Loss(t).item() / Double(n) }
            rows.append([Image(tensor: s.input), Image(tensor: out)] + (s.target.map { [Image(tensor: $0)] } ?? []))
        }
        return (rows, ["val_L1": l1])
    }
}
