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
public final class PairedTrainer {
    public let config: TrainingConfig
    public let run: RunFolder
    public let generator: any SketchToImageGenerator
    public let discriminator: MultiScaleDiscriminator
    let optimizerG: Adam
    let optimizerD: Adam
    let scheduler: LearningRateScheduler
    let perceptual: PerceptualLoss?
    public let loader: DataLoader
    let validation: PairedDataset?

    public private(set) var step = 0
    public private(set) var epoch = 0
    /// Position within the current epoch's order.
    public private(set) var position = 0

    /// Sets up a new run (`resume` false) or continues the one in `runFolder`.
    /// On resume, the saved configuration is used; `maxSteps`, if given, replaces the saved limit.
    public init(config newConfig: TrainingConfig, dataRoot: String, runFolder: String, resume: Bool, maxSteps: Int? = nil) throws {
        let run = RunFolder(path: runFolder)
        var config = newConfig
        var checkpoint: Checkpoint?
        if resume {
            guard FileManager.default.fileExists(atPath: run.latestCheckpoint) else {
                throw ModelError("cannot resume: \(run.latestCheckpoint) does not exist")
            }
            let c = try Checkpoint.load(path: run.latestCheckpoint)
            config = try TrainingConfig.from(json: c.configuration)
            checkpoint = c
        } else if FileManager.default.fileExists(atPath: run.latestCheckpoint) {
            throw ModelError("\(runFolder) already holds a run: pass --resume to continue it, or choose another --name")
        }
        if let maxSteps { config.maxSteps = maxSteps }
        config.syncChannels()
        try config.validate()
        self.config = config
        self.run = run

        Torch.manualSeed(config.seed)
        generator = try GeneratorFile.make(config)
        discriminator = try MultiScaleDiscriminator(config.discriminator)
        generator.initializeWeights(config.initScheme, gain: config.initGain)
        discriminator.initializeWeights(config.initScheme, gain: config.initGain)
        let betas = (config.beta1, config.beta2)
        optimizerG = Adam(generator.trainableParameters(), learningRate: config.learningRate, betas: betas)
        optimizerD = Adam(discriminator.trainableParameters(), learningRate: config.learningRate, betas: betas)
        scheduler = LearningRateScheduler(.linearDecay(constantEpochs: config.epochs, decayEpochs: config.epochsDecay),
                                          optimizers: [optimizerG, optimizerD])
        if config.lambdaPerceptual > 0 {
            let network: FeatureNetwork = try config.vgg19Weights.map { try VGG19Features(weightsPath: $0) } ?? HEDVGG16Features(stages: config.perceptualWeights.count > 4 ? 5 : 4)
            perceptual = PerceptualLoss(network: network, weights: config.perceptualWeights)
        } else {
            perceptual = nil
        }
        let train = try PairedDataset(root: dataRoot, split: "train", options: config.data)
        loader = try DataLoader(dataset: train, batchSize: config.batchSize, shuffle: true, seed: config.seed,
                                workers: config.loaderWorkers, onBadFile: config.onBadFile)
        var evalOptions = config.data
        evalOptions.preprocess = .evaluation(size: config.data.preprocess.cropSize, multiple: config.generatorStride)
        if config.data.preprocess.mode == .none || config.data.preprocess.mode == .scaleWidth { evalOptions.preprocess = config.data.preprocess }
        evalOptions.preprocess.flip = false
        validation = try? PairedDataset(root: dataRoot, split: "val", options: evalOptions)

        if let checkpoint {
            try checkpoint.restore(networks: ["G": generator, "D": discriminator],
                                   optimizers: ["G": optimizerG, "D": optimizerD], schedulers: ["lr": scheduler])
            step = checkpoint.step
            epoch = checkpoint.epoch
            position = Int(checkpoint.extra["position"] ?? "0") ?? 0
        } else {
            try run.create()
            try AtomicFile.write(Data(try config.json().utf8), to: run.configFile)
        }
    }

    public var totalEpochs: Int { config.epochs + config.epochsDecay }

    // MARK: One step

    /// One discriminator update and one generator update; returns the losses.
    public func trainStep(input x: Tensor, target y: Tensor) -> [String: Double] {
        generator.train()
        discriminator.train()
        let fake = generator.translate(x)

        // Discriminator: real pairs against generated pairs (generator not updated here).
        discriminator.unfreeze()
        let realPair = Tensor.cat([x, y], dim: 1)
        let fakePair = Tensor.cat([x, fake.detached()], dim: 1)
        let lossD = config.gan.discriminatorLoss(real: discriminator(realPair), fake: discriminator(fakePair))
        optimizerD.zeroGrad()
        lossD.backward()
        optimizerD.step()

        // Generator: fool the (frozen) discriminator and stay close to the target.
        discriminator.freeze()
        var losses: [String: Double] = ["D": lossD.item()]
        let needFeatures = config.lambdaFeatureMatching > 0
        let fakeFeatures = needFeatures ? discriminator.features(Tensor.cat([x, fake], dim: 1)) : []
        let fakeOutputs = needFeatures ? fakeFeatures.map { $0.last! } : discriminator(Tensor.cat([x, fake], dim: 1))
        let ganG = config.gan.generatorLoss(fake: fakeOutputs)
        var total = ganG
        losses["G_GAN"] = ganG.item()
        if config.lambdaL1 > 0 {
            let l1 = fake.l1Loss(y)
            total = total + l1 * config.lambdaL1
            losses["G_L1"] = l1.item()
        }
        if let perceptual {
            let p = perceptual(fake, y)
            total = total + p * config.lambdaPerceptual
            losses["G_perceptual"] = p.item()
        }
        if needFeatures {
            let realFeatures = withNoGrad { discriminator.features(realPair) }
            let fm = FeatureMatchingLoss.loss(fake: fakeFeatures, real: realFeatures)
            total = total + fm * config.lambdaFeatureMatching
            losses["G_FM"] = fm.item()
        }
        optimizerG.zeroGrad()
        total.backward()
        optimizerG.step()
        discriminator.unfreeze()
        losses["G_total"] = total.item()
        lastBatch = (x, y, fake.detached())
        return losses
    }

    private var lastBatch: (Tensor, Tensor, Tensor)?

    // MARK: The loop

    /// Trains until the schedule ends, `maxSteps` is reached, or a stop is requested.
    public func train(progress: ProgressReporter = ProgressReporter(),
                      shouldStop: () -> Bool = { StopSignal.isRequested }) throws -> TrainingOutcome {
        let stepsPerEpoch = loader.batchesPerEpoch
        let plannedSteps = config.maxSteps > 0 ? Swift.min(config.maxSteps, totalEpochs * stepsPerEpoch) : totalEpochs * stepsPerEpoch
        let start = Date()
        let startStep = step
        progress.message("training \(config.model.rawValue) in \(run.path): \(loader.dataset.count) pairs, \(stepsPerEpoch) steps per epoch, \(totalEpochs) epochs" + (config.maxSteps > 0 ? ", at most \(config.maxSteps) steps" : "") + (step > 0 ? "; resuming at step \(step), epoch \(epoch + 1)" : ""))
        while epoch < totalEpochs {
            let batches = loader.batches(epoch: epoch, from: position)
            while let batch = try batches.next() {
                guard let target = batch.target else { throw DatasetError("the training split has no targets") }
                let losses = trainStep(input: batch.input, target: target)
                if let bad = losses.first(where: { !$0.value.isFinite }) {
                    _ = bad
                    progress.finish()
                    throw NonFiniteLossError(step: step + 1, losses: losses)
                }
                step += 1
                position = batch.nextPosition
                let elapsed = Date().timeIntervalSince(start)
                let rate = Double(step - startStep) / Swift.max(elapsed, 1e-9)
                if step % config.logEverySteps == 0 || step == 1 {
                    var record: [String: Any] = ["step": step, "epoch": epoch + 1, "lr": optimizerG.learningRate,
                                                 "seconds": elapsed, "steps_per_second": rate]
                    for (k, v) in losses { record[k] = v }
                    try run.appendLog(record)
                }
                let lossText = ["G_GAN", "G_L1", "G_perceptual", "G_FM", "D"].compactMap { k in losses[k].map { String(format: "%@ %.3f", k, $0) } }.joined(separator: "  ")
                let eta = Double(plannedSteps - step) / Swift.max(rate, 1e-9)
                progress.update(String(format: "epoch %d/%d  step %d/%d  %@  %.2f it/s  %.1f img/s  ETA %@", epoch + 1, totalEpochs, step, plannedSteps, lossText, rate, rate * Double(config.batchSize), ProgressReporter.duration(eta)))
                if config.sampleEverySteps > 0, step % config.sampleEverySteps == 0 { try writeSamples() }
                if config.checkpointEverySteps > 0, step % config.checkpointEverySteps == 0 { try save(run.latestCheckpoint) }
                if config.maxSteps > 0, step >= config.maxSteps {
                    batches.cancel()
                    try save(run.latestCheckpoint)
                    progress.finish()
                    progress.message("reached \(config.maxSteps) steps; checkpoint \(run.latestCheckpoint)")
                    return .reachedMaxSteps
                }
                if shouldStop() {
                    batches.cancel()
                    try save(run.latestCheckpoint)
                    progress.finish()
                    progress.message("stopped at step \(step); checkpoint saved to \(run.latestCheckpoint) (continue with --resume)")
                    return .interrupted
                }
            }
            epoch += 1
            position = 0
            scheduler.step()
            try validate()
            try save(run.latestCheckpoint)
            if config.saveEveryEpochs > 0, epoch % config.saveEveryEpochs == 0 { try save(run.epochCheckpoint(epoch)) }
        }
        progress.finish()
        progress.message("finished \(totalEpochs) epochs, \(step) steps in \(ProgressReporter.duration(Date().timeIntervalSince(start)))")
        return .finished
    }

    // MARK: Outputs

    public func checkpoint() throws -> Checkpoint {
        Checkpoint(step: step, epoch: epoch, configuration: try config.json(), extra: ["position": String(position)],
                   networks: ["G": generator, "D": discriminator], optimizers: ["G": optimizerG, "D": optimizerD],
                   schedulers: ["lr": scheduler])
    }

    func save(_ path: String) throws { try checkpoint().save(path: path) }

    /// sketch | output | target rows of the last batch (up to 4).
    func writeSamples() throws {
        guard let (x, y, fake) = lastBatch else { return }
        var rows: [[Image]] = []
        for i in 0 ..< Swift.min(4, x.size(0)) {
            rows.append([x, fake, y].map { Image(tensor: $0.select(dim: 0, index: i)) })
        }
        try ImageGrid.make(rows).save(path: run.samples + String(format: "/step_%07d.png", step))
    }

    /// Evaluation-mode outputs for the first validation examples, with their mean L1.
    func validate() throws {
        guard let validation else { return }
        generator.eval()
        defer { generator.train() }
        var rows: [[Image]] = []
        var l1 = 0.0
        let n = Swift.min(4, validation.count)
        for i in 0 ..< n {
            let s = try validation.sample(i, draw: .init(x: 0.5, y: 0.5, flip: false))
            let out = withNoGrad { generator.translate(s.input.unsqueezed(0)) }
            if let t = s.target { l1 += out.squeezed(0).l1Loss(t).item() / Double(n) }
            rows.append([Image(tensor: s.input), Image(tensor: out)] + (s.target.map { [Image(tensor: $0)] } ?? []))
        }
        try ImageGrid.make(rows).save(path: run.validation + String(format: "/epoch_%04d.png", epoch))
        try run.appendLog(["step": step, "epoch": epoch, "val_L1": l1])
    }
}
