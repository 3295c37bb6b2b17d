import ArgumentParser
import Foundation
import Sketch2Real
import Torch

/// Options shared by `eval` and `compare`.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Dataset folder with sketch | photo pairs (any layout `train` accepts).")
    var data: String

    @Option(help: "Split to evaluate.")
    var split = "test"

    @Option(help: "Output folder for metrics.json, report.html and grid.png.")
    var out: String

    @Option(help: "Samples per sketch for diversity, NDB and known modes of multimodal models (BicycleGAN protocol: 20).")
    var samples = 20

    @Option(help: "Distinct sketches sampled for diversity (BicycleGAN protocol: 100).")
    var diversityInputs = 100

    @Option(help: "Evaluate at most this many pairs of the split (default: all).")
    var maxPairs: Int?

    @Option(help: "Unreadable pairs: fail (stop with the first one's error) or skip (name each, evaluate the rest).")
    var onBadFile: BadFilePolicy = .fail

    @Option(help: "Image side (default: the first model's training crop size).")
    var size: Int?

    @Option(help: "Pairs per batch.")
    var batchSize = 8

    @Option(help: "Seed of KID subsets, k-means and latent codes.")
    var seed: UInt64 = 0

    @Option(help: "KID: random subsets.")
    var kidSubsets = 100

    @Option(help: "KID: largest subset size.")
    var kidSubsetSize = 1000

    @Option(help: "NDB: bins asked for (fewer when the real set is small: at least 10 real images per bin).")
    var ndbBins = 100

    @Option(help: "NDB: split whose targets define the bins (the evaluated split when it does not exist).")
    var ndbSplit = "train"

    @Option(help: "Sketches shown in the image grids.")
    var gridRows = 8

    @Option(help: "torchvision-named Inception-v3 weights (safetensors) for FD and KID on Inception-v3 pool3 features; pytorch-fid's FID weights (1008 classes) give standard FID.")
    var inceptionWeights: String?

    @Option(help: "HED weights (default: .cache/weights/hed_bsds500.safetensors or $SKETCH2REAL_HED_WEIGHTS).")
    var hedWeights: String?

    @Option(help: "LPIPS VGG heads (default: .cache/weights/lpips_vgg_heads.safetensors or $SKETCH2REAL_LPIPS_HEADS).")
    var lpipsHeads: String?

    @Option(help: "Folder caching the palette classifier of the synthetic landscapes (default: .cache/classifiers).")
    var classifierCache: String?

    @Option(help: ArgumentHelp("Also write every metric to TensorBoard event files here (tags eval/MODEL/KEY; step: a run folder's last logged step, else 0), e.g. the run's --tensorboard folder.", valueName: "dir"))
    var tensorboard: String?

    @Flag(help: "Also evaluate baselines: a constant mid-grey image and the mean colour of the split's photos (both ignore the sketch), and the training photo whose sketch is nearest (a real photograph of another scene; when the data has a train split).")
    var baselines = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard samples >= 2 else { throw ValidationError("--samples must be at least 2 (diversity compares consecutive samples).") }
        guard diversityInputs >= 1, batchSize >= 1, kidSubsets >= 1, gridRows >= 1 else {
            throw ValidationError("--diversity-inputs, --batch-size, --kid-subsets and --grid-rows must be at least 1.")
        }
        guard kidSubsetSize >= 2 else { throw ValidationError("--kid-subset-size must be at least 2.") }
        guard ndbBins >= 2 else { throw ValidationError("--ndb-bins must be at least 2.") }
        if let maxPairs, maxPairs < 2 { throw ValidationError("--max-pairs must be at least 2 (FD and KID need two images).") }
        if let size, size < 16 || size > PreprocessOptions.maximumSide {
            throw ValidationError("--size must be from 16 to \(PreprocessOptions.maximumSide), got \(size).")
        }
        if let inceptionWeights, !FileManager.default.fileExists(atPath: inceptionWeights) {
            throw ValidationError("--inception-weights: \(inceptionWeights) does not exist.")
        }
    }

    var settings: EvaluationSettings {
        var s = EvaluationSettings()
        s.split = split
        s.samplesPerInput = samples
        s.diversityInputs = diversityInputs
        s.maxPairs = maxPairs
        s.onBadFile = onBadFile
        s.size = size
        s.batchSize = batchSize
        s.seed = seed
        s.kidSubsets = kidSubsets
        s.kidSubsetSize = kidSubsetSize
        s.ndbBins = ndbBins
        s.ndbSplit = ndbSplit
        s.gridRows = gridRows
        s.inceptionWeights = inceptionWeights
        s.hedWeights = hedWeights
        s.lpipsHeads = lpipsHeads
        s.classifierCache = classifierCache
        return s
    }

    /// Evaluates the models and writes the report folder.
    func run(models paths: [String], title: String) throws {
        try runtime.apply()
        var models = try paths.map { try EvaluatedModel.load($0) }
        if baselines {
            let size = self.size ?? models.first?.trainingSize ?? 256
            models += [BaselineModels.grey(), try BaselineModels.meanColour(dataRoot: data, split: split, size: size)]
            if split != "train", let nearest = try BaselineModels.nearestTrainingPhoto(dataRoot: data, split: "train", size: size) {
                models.append(nearest)
            } else {
                say("no nearest-training-photo baseline: \(split == "train" ? "the evaluated split is train itself" : "\(data) has no train split with photos")")
            }
        }
        let evaluator = try Evaluator(dataRoot: data, settings: settings, progress: say)
        let (report, pictures) = try evaluator.evaluate(models)
        let logs = ReportFolder.logs(of: models)
        let written = try ReportFolder.write(report: report, pictures: pictures, logs: logs, title: title, to: out)
        if let tensorboard {
            let writer = try TensorBoardWriter(folder: tensorboard)
            for (log, evaluation) in zip(logs, report.models) {
                // The run's last logged step when the model is a run folder; else 0.
                let step = log.log?.lastStep ?? 0
                var values: [String: Double] = [:]
                for m in evaluation.metrics { if let v = m.value, v.isFinite { values["eval/\(evaluation.name)/\(m.key)"] = v } }
                try writer.scalars(values, step: step)
            }
            say("wrote TensorBoard events to \(writer.path)")
        }
        say("")
        say(MetricTable(report.models).text())
        say("")
        for note in report.notes { say("note: \(note)") }
        for file in written { say("wrote \(file)") }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a trained model: fidelity, realism, diversity, mode coverage; JSON and an HTML report.",
        discussion: """
        Fidelity: L1, PSNR, SSIM (Gaussian window 11, σ 1.5) and an LPIPS-style distance (LPIPS v0.1 heads on \
        HED's VGG16 — not LPIPS). Realism: Fréchet distance and KID on HED-VGG16 relu5_3 features, and on \
        Inception-v3 pool3 features with --inception-weights. Diversity (multimodal models): BicycleGAN's protocol. \
        Mode coverage: NDB and JSD; on the synthetic landscapes also the fraction of true modes (palettes) reached \
        per sketch, measured by a palette classifier trained on rendered ground truth (cached in .cache/classifiers). \
        Writes OUT/metrics.json (every number and setting), OUT/report.html (self-contained) and OUT/grid.png.
        """
    )

    @Option(help: "A run folder, checkpoint or exported model.")
    var model: String

    @OptionGroup var options: EvaluationOptions

    func run() throws {
        try options.run(models: [model], title: "Evaluation of \((model as NSString).lastPathComponent)")
    }
}
