import Foundation
import NN
import Torch

/// What the shared training loop asks of a trainer: its networks and optimisers (for
/// checkpoints), one optimisation step, and the pictures it draws.
protocol TrainingAlgorithm: AnyObject {
    /// The shared loop that drives this algorithm.
    var loop: TrainingLoop { get }
    /// The networks and optimisers by role (checkpoints, resume, `--init-from`).
    var trained: TrainedNetworks { get }
    /// Loss names shown on the progress line, in order (those a step returns).
    var displayedLosses: [String] { get }
    /// One update of every network on a batch; returns the losses by name.
    func trainStep(input: Tensor, target: Tensor) -> StepLosses
    /// A grid of the last batch's results; nil before the first step.
    func sampleGrid() throws -> Image?
    /// Rows of the validation grid and metrics for the log (keys start with `val_`).
    func validationRows(_ dataset: PairedDataset) throws -> (rows: [[Image]], metrics: [String: Double])
}

/// The part of training every model shares: the run folder and its configuration (fresh, or
/// read back from the checkpoint on resume), the data, the learning-rate schedule, the counters
/// and the loop with its logging, progress, samples, validation, checkpoints, step limit,
/// interruption and non-finite-loss handling.
final class TrainingLoop {
    let config: TrainingConfig
    let run: RunFolder
    let loader: DataLoader
    let validation: PairedDataset?
    let scheduler: LearningRateScheduler
    var step = 0
    var epoch = 0
    /// Position within the current epoch's order.
    var position = 0
    /// Networks a new run took from `config.initFrom`.
    private(set) var warmStarted: [String] = []
    /// The other ranks, when training data-parallel.
    let parallel: DataParallel?
    /// `train --tensorboard`: losses, learning rate, speed, validation and sample grids also go
    /// to a TensorBoard event file (rank 0 only).
    private(set) var tensorboard: TensorBoardWriter?
    /// Said when the run starts (a resume with another world size).
    private(set) var notes: [String] = []
    /// Log keys of the trained networks' gradient norms (`grad_norm_` + checkpoint name).
    private let gradientNormKeys: [ObjectIdentifier: String]
    /// With `gradientClipNorm`: each network's gradient norm before clipping, at its latest update.
    private(set) var gradientNorms: [String: Double] = [:]
    /// Under float16 autocast (`Torch.precision == .fp16`): the dynamic loss scale, restored on resume.
    let scaler: GradientScaler?
    /// Only rank 0 writes the run folder: checkpoints, logs, samples, validation grids.
    var leads: Bool { parallel?.isLeader ?? true }
    var worldSize: Int { parallel?.worldSize ?? 1 }

    /// The configuration to train with and, on resume, the checkpoint to continue: the saved
    /// configuration wins, except `maxSteps` when given. Refuses to overwrite an existing run.
    static func prepare(config newConfig: TrainingConfig, runFolder: String, resume: Bool,
                        maxSteps: Int?) throws -> (config: TrainingConfig, run: RunFolder, checkpoint: Checkpoint?) {
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
        config = config.resolved
        try config.validate()
        return (config, run, checkpoint)
    }

    /// The perceptual loss the configuration asks for, or nil when its weight is 0.
    static func perceptualLoss(_ config: TrainingConfig) throws -> PerceptualLoss? {
        guard config.lambdaPerceptual > 0 else { return nil }
        let network: FeatureNetwork = try config.vgg19Weights.map { try VGG19Features(weightsPath: $0) }
            ?? HEDVGG16Features(stages: config.perceptualWeights.count > 4 ? 5 : 4)
        return PerceptualLoss(network: network, weights: config.perceptualWeights)
    }

    /// Opens the data and either restores `checkpoint` into the live objects or starts the run
    /// folder with its config.json.
    init(config: TrainingConfig, run: RunFolder, dataRoot: String, scheduler: LearningRateScheduler,
         checkpoint: Checkpoint?, trained: TrainedNetworks, parallel: DataParallel? = nil) throws {
        let (networks, optimizers) = (trained.networks, trained.optimizers)
        scaler = Torch.precision == .fp16 ? checkpoint.flatMap { GradientScaler(checkpointFields: $0.extra) } ?? GradientScaler() : nil
        gradientNormKeys = Dictionary(uniqueKeysWithValues: networks.map { (ObjectIdentifier($0.value), "grad_norm_" + $0.key) })
        self.parallel = parallel
        if let parallel, parallel.worldSize > 1 { try DataParallel.check(config) }
        self.config = config
        self.run = run
        self.scheduler = scheduler
        let train = try PairedDataset(root: dataRoot, split: "train", options: config.data)
        loader = try DataLoader(dataset: train, batchSize: config.batchSize, shuffle: true, seed: config.seed,
                                workers: config.loaderWorkers, onBadFile: config.onBadFile,
                                shard: (parallel?.rank ?? 0, parallel?.worldSize ?? 1))
        var evalOptions = config.data
        evalOptions.preprocess = .evaluation(size: config.data.preprocess.cropSize, multiple: config.generatorStride)
        if config.data.preprocess.mode == .none || config.data.preprocess.mode == .scaleWidth { evalOptions.preprocess = config.data.preprocess }
        evalOptions.preprocess.flip = false
        validation = try? PairedDataset(root: dataRoot, split: "val", options: evalOptions)

        if let checkpoint {
            try checkpoint.restore(networks: networks, optimizers: optimizers, schedulers: ["lr": scheduler])
            step = checkpoint.step
            epoch = checkpoint.epoch
            // Checkpoints count the position in the one-process order; each rank reads 1/W of it.
            let saved = Int(checkpoint.extra["position"] ?? "0") ?? 0, savedWorld = Int(checkpoint.extra["worldSize"] ?? "1") ?? 1
            position = saved / (parallel?.worldSize ?? 1)
            if savedWorld != (parallel?.worldSize ?? 1) {
                notes.append("warning: the checkpoint was written by \(savedWorld) process(es) and \(parallel?.worldSize ?? 1) continue it: the rest of this epoch is shared anew, so the run is not bit-identical to one that kept its world size")
            }
            if leads {
                run.removeStaleTemporaryFiles()
                try run.trimLog(afterStep: step)
            }
        } else {
            if let source = config.initFrom { warmStarted = try WarmStart.apply(source, to: networks) }
            if leads {
                try run.create()
                try AtomicFile.write(Data(try config.json().utf8), to: run.configFile)
            }
        }
        // Every rank starts from rank 0's weights (and, on resume, the same checkpoint).
        try parallel?.broadcastState(networks)
        // --memory-format: in place, so the optimisers that hold the weights follow.
        if Torch.channelsLast { for (_, network) in networks { network.useChannelsLast() } }
    }

    var totalEpochs: Int { config.epochs + config.epochsDecay }

    /// Also writes TensorBoard event files to `folder`; only rank 0 writes.
    func writeTensorBoard(to folder: String) throws {
        if leads { tensorboard = try TensorBoardWriter(folder: folder) }
    }

    /// Trains until the schedule ends, `maxSteps` is reached, or a stop is requested.
    func train(_ algorithm: TrainingAlgorithm, progress: ProgressReporter, shouldStop: () -> Bool) throws -> TrainingOutcome {
        let stepsPerEpoch = loader.batchesPerEpoch
        let plannedSteps = config.maxSteps > 0 ? Swift.min(config.maxSteps, totalEpochs * stepsPerEpoch) : totalEpochs * stepsPerEpoch
        let start = Date()
        let startStep = step
        for note in notes { progress.message(note) }
        progress.message("training \(config.model.rawValue) in \(run.path): \(loader.dataset.count) pairs, \(stepsPerEpoch) steps per epoch, \(totalEpochs) epochs" + (config.maxSteps > 0 ? ", at most \(config.maxSteps) steps" : "") + (step > 0 ? "; resuming at step \(step), epoch \(epoch + 1)" : ""))
        // Under --on-bad-file skip, each unreadable file is named once, when first skipped.
        var namedSkips = Set<String>()
        func nameNewSkips() {
            let skipped = loader.skipped
            guard skipped.count > namedSkips.count else { return }
            for e in skipped where namedSkips.insert(e.path).inserted { progress.message("skipped \(e)") }
        }
        while epoch < totalEpochs {
            let batches = loader.batches(epoch: epoch, from: position)
            let stepAtEpochStart = step, resumedMidEpoch = position > 0
            while let batch = try batches.next() {
                nameNewSkips()
                guard let target = batch.target else { throw DatasetError("the training split has no targets") }
                // The loader's batches are on the CPU; the networks on the process's device.
                let stepLosses = algorithm.trainStep(input: batch.input.onCurrentDevice(), target: target.onCurrentDevice())
                scaler?.update()
                var losses = stepLosses.named
                var stop: Bool
                if let parallel {
                    // Every rank logs the mean losses and stops at the same step.
                    do {
                        if let failure = parallel.failure { throw failure }
                        (losses, stop) = try parallel.agree(losses: losses, stop: shouldStop())
                    } catch {
                        batches.cancel()
                        progress.finish()
                        throw TorchError("rank \(parallel.rank) of \(parallel.worldSize) stopped at step \(step + 1): another rank died, hung past the timeout or cannot be reached (\(error)); the last checkpoint is kept")
                    }
                } else {
                    stop = shouldStop()
                }
                if !losses.values.allSatisfy(\.isFinite) {
                    batches.cancel()
                    progress.finish()
                    throw NonFiniteLossError(step: step + 1, losses: losses)
                }
                step += 1
                position = batch.nextPosition
                let elapsed = Date().timeIntervalSince(start)
                let rate = Double(step - startStep) / Swift.max(elapsed, 1e-9)
                if leads, step % config.logEverySteps == 0 || step == 1 {
                    var record: [String: Any] = ["step": step, "epoch": epoch + 1, "lr": scheduler.optimizers[0].learningRate,
                                                 "seconds": elapsed, "steps_per_second": rate]
                    for (k, v) in losses { record[k] = v }
                    // With --clip-grad-norm: each network's gradient norm before clipping, this step.
                    for (k, v) in gradientNorms { record[k] = v }
                    // Data-parallel: seconds waited for all-reduces so far (communication backward did not hide).
                    if let parallel, parallel.worldSize > 1 { record["allreduce_seconds"] = parallel.communicationSeconds }
                    // float16: the loss scale after this step, and the steps whose update overflowed so far.
                    if let scaler { (record["grad_scale"], record["overflow_steps"]) = (scaler.scale, scaler.overflowSteps) }
                    try run.appendLog(record)
                    var scalars = losses
                    scalars["lr"] = scheduler.optimizers[0].learningRate
                    scalars["images_per_second"] = rate * Double(config.batchSize * worldSize)
                    try tensorboard?.scalars(scalars, step: step)
                }
                let lossText = algorithm.displayedLosses.compactMap { k in losses[k].map { String(format: "%@ %.3f", k, $0) } }.joined(separator: "  ")
                let eta = Double(plannedSteps - step) / Swift.max(rate, 1e-9)
                progress.update(String(format: "epoch %d/%d  step %d/%d  %@  %.2f it/s  %.1f img/s  ETA %@", epoch + 1, totalEpochs, step, plannedSteps, lossText, rate, rate * Double(config.batchSize), ProgressReporter.duration(eta)))
                if leads, config.sampleEverySteps > 0, step % config.sampleEverySteps == 0, let grid = try algorithm.sampleGrid() {
                    let png = try grid.save(path: run.samples + String(format: "/step_%07d.png", step))
                    try tensorboard?.image(png, width: grid.width, height: grid.height, channels: grid.channels, tag: "samples", step: step)
                }
                if config.checkpointEverySteps > 0, step % config.checkpointEverySteps == 0 { try save(algorithm, run.latestCheckpoint) }
                if config.maxSteps > 0, step >= config.maxSteps {
                    batches.cancel()
                    try save(algorithm, run.latestCheckpoint)
                    progress.finish()
                    progress.message("reached \(config.maxSteps) steps; checkpoint \(run.latestCheckpoint)")
                    communicationNote(since: start, steps: step - startStep).map(progress.message)
                    return .reachedMaxSteps
                }
                if stop {
                    batches.cancel()
                    try save(algorithm, run.latestCheckpoint)
                    progress.finish()
                    progress.message("stopped at step \(step); checkpoint saved to \(run.latestCheckpoint) (continue with --resume)")
                    communicationNote(since: start, steps: step - startStep).map(progress.message)
                    return .interrupted
                }
            }
            nameNewSkips()
            // Under --on-bad-file skip, an epoch of unreadable files would otherwise "train" for
            // every remaining epoch and write untrained checkpoints.
            if step == stepAtEpochStart, !resumedMidEpoch {
                progress.finish()
                let skipped = loader.skipped
                throw DatasetError("epoch \(epoch + 1) yielded no usable training pair: all \(loader.dataset.count) file(s) of the training split were skipped as unreadable"
                                   + (skipped.first.map { " (first: \($0))" } ?? "") + "; fix or replace the files, then train again")
            }
            epoch += 1
            position = 0
            scheduler.step()
            if leads { try validate(algorithm) }
            try save(algorithm, run.latestCheckpoint)
            if config.saveEveryEpochs > 0, epoch % config.saveEveryEpochs == 0 { try save(algorithm, run.epochCheckpoint(epoch)) }
        }
        progress.finish()
        progress.message("finished \(totalEpochs) epochs, \(step) steps in \(ProgressReporter.duration(Date().timeIntervalSince(start)))")
        communicationNote(since: start, steps: step - startStep).map(progress.message)
        return .finished
    }

    func checkpoint(_ algorithm: TrainingAlgorithm) throws -> Checkpoint {
        Checkpoint(step: step, epoch: epoch, configuration: try config.json(),
                   extra: ["position": String(position * worldSize), "worldSize": String(worldSize)]
                       .merging(scaler?.checkpointFields ?? [:]) { a, _ in a },
                   networks: algorithm.trained.networks, optimizers: algorithm.trained.optimizers, schedulers: ["lr": scheduler])
    }

    /// Only rank 0 writes; the others have the same weights.
    func save(_ algorithm: TrainingAlgorithm, _ path: String) throws {
        if leads { try checkpoint(algorithm).save(path: path) }
    }

    /// Data-parallel: the time spent waiting for all-reduces, per step and as a share of it.
    func communicationNote(since start: Date, steps: Int) -> String? {
        guard let parallel, parallel.worldSize > 1, parallel.reductions > 0, steps > 0 else { return nil }
        let perStep = parallel.communicationSeconds / Double(steps), stepTime = Date().timeIntervalSince(start) / Double(steps)
        return String(format: "all-reduce: %.1f ms per step waited for (%.1f %% of a %.0f ms step), %@", perStep * 1000, 100 * perStep / stepTime,
                      stepTime * 1000, parallel.overlap ? "started during backward" : "after backward")
    }

    /// `loss.backward()`; data-parallel, the gradients of `modules` are then averaged over the
    /// ranks (during backward, bucket by bucket, unless overlap is off). Under float16 the loss is
    /// scaled first and the gradients unscaled after, before clipping.
    func backward(_ loss: Tensor, averaging modules: [Module?]) {
        let scaled = scaler?.scaled(loss) ?? loss
        if let parallel { parallel.backward(scaled, averaging: modules) } else { scaled.backward() }
        if let scaler, scaler.unscale(modules.flatMap { $0?.trainableParameters() ?? [] }) { return }
        guard config.gradientClipNorm > 0 else { return }
        for case let module? in modules {
            let norm = clipGradientNorm(module.trainableParameters(), maxNorm: config.gradientClipNorm)
            gradientNorms[gradientNormKeys[ObjectIdentifier(module)] ?? "grad_norm_?"] = norm
        }
    }

    /// The optimisers' step after `backward`; under float16, skipped when that backward's
    /// gradients overflowed.
    func optimizerStep(_ optimizers: Adam?...) {
        for case let optimizer? in optimizers {
            if let scaler { scaler.step(optimizer) } else { optimizer.step() }
        }
    }

    /// The validation grid of this epoch and its metrics as a log line.
    func validate(_ algorithm: TrainingAlgorithm) throws {
        guard let validation else { return }
        let (rows, metrics) = try algorithm.validationRows(validation)
        try ImageGrid.make(rows).save(path: run.validation + String(format: "/epoch_%04d.png", epoch))
        var record: [String: Any] = ["step": step, "epoch": epoch]
        for (k, v) in metrics { record[k] = v }
        try run.appendLog(record)
        try tensorboard?.scalars(metrics, step: step)
    }
}
