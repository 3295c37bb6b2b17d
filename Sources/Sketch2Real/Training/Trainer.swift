import Foundation

/// A training run as `train` and `bench` drive it, whatever the model.
public protocol ModelTrainer: AnyObject {
    var config: TrainingConfig { get }
    /// The generator being trained (for multimodal models, the one that also takes a code).
    var trainedGenerator: any SketchToImageGenerator { get }
    var loader: DataLoader { get }
    var step: Int { get }
    /// Networks a new run took from `config.initFrom`.
    var warmStarted: [String] { get }
    func train(progress: ProgressReporter, shouldStop: () -> Bool) throws -> TrainingOutcome
}

/// The one entry point for training: the model family decides the algorithm.
public enum Trainer {
    /// A new run of `config` in `runFolder`, or with `resume` the run there continued with its
    /// saved configuration (whose model wins over `config`'s); `maxSteps` replaces the saved limit.
    /// With `parallel`, this process is one rank of a data-parallel run (`DataParallel`). With
    /// `tensorboard`, the run also writes TensorBoard event files to that folder (`train --tensorboard`).
    /// With `checkMemory`, a run that would not fit in memory is refused before it starts.
    public static func make(config: TrainingConfig, dataRoot: String, runFolder: String, resume: Bool,
                            maxSteps: Int? = nil, parallel: DataParallel? = nil, tensorboard: String? = nil,
                            checkMemory: Bool = false) throws -> any ModelTrainer {
        let trainer = try algorithm(config: config, dataRoot: dataRoot, runFolder: runFolder, resume: resume, maxSteps: maxSteps,
                                    parallel: parallel, checkMemory: checkMemory)
        if let tensorboard { try trainer.loop.writeTensorBoard(to: tensorboard) }
        return trainer
    }

    static func algorithm(config: TrainingConfig, dataRoot: String, runFolder: String, resume: Bool, maxSteps: Int? = nil,
                          parallel: DataParallel? = nil, checkMemory: Bool = false) throws -> any ModelTrainer & TrainingAlgorithm {
        let kind = (resume ? try savedModel(runFolder) : nil) ?? config.model
        switch kind.family.training {
        case .paired:
            return try PairedTrainer(config: config, dataRoot: dataRoot, runFolder: runFolder, resume: resume, maxSteps: maxSteps,
                                     parallel: parallel, checkMemory: checkMemory)
        case .multimodal:
            return try MultimodalTrainer(config: config, dataRoot: dataRoot, runFolder: runFolder, resume: resume, maxSteps: maxSteps,
                                         parallel: parallel, checkMemory: checkMemory)
        }
    }

    /// The model kind in a run folder's config.json, when it has one.
    static func savedModel(_ runFolder: String) throws -> ModelKind? {
        guard let text = try? String(contentsOfFile: RunFolder(path: runFolder).configFile, encoding: .utf8) else { return nil }
        return try TrainingConfig.from(json: text).model
    }
}

extension PairedTrainer: ModelTrainer {
    public var trainedGenerator: any SketchToImageGenerator { generator }
}

extension MultimodalTrainer: ModelTrainer {
    public var trainedGenerator: any SketchToImageGenerator { generator }
}
