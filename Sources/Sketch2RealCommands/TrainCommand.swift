import ArgumentParser
import Foundation
import Sketch2Real
import NN
import Torch

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sketch → image model on a paired dataset.",
        discussion: """
        Writes runs/NAME/: config.json, log.jsonl (losses and learning rate), checkpoints/latest.safetensors \
        (every epoch; numbered ones every --save-every epochs), samples/ (sketch | output | target grids) and \
        val/ (validation grids each epoch). Ctrl-C saves a checkpoint and exits; --resume continues exactly \
        where a run stopped, with the configuration saved in it.

        lsragan, bicyclegan and msgan map one sketch to many images through a latent code z; their grids \
        show sketch | encoded | random codes | target. lsragan and bicyclegan split each batch between \
        the encoded and the random path, so their batch size must be even (default 2).
        """
    )

    @Option(help: ArgumentHelp("Model: \(ModelKind.names)."))
    var model: ModelKind = .sragan

    @Option(help: "Dataset folder (aligned root/train, or paired A/B folders).")
    var data: String

    @Option(help: "Run name; files go to <runs>/<name>.")
    var name: String

    @Option(help: "Folder that holds runs.")
    var runs = "runs"

    @Flag(help: "Continue the run's latest checkpoint (its saved configuration is used).")
    var resume = false

    @Option(help: ArgumentHelp("Also write TensorBoard event files here: every loss, the learning rate, images/s, validation metrics and the sample grids (`tensorboard --logdir DIR`).", valueName: "dir"))
    var tensorboard: String?

    @Flag(help: "Join a data-parallel run: one rank of WORLD_SIZE, found through MASTER_ADDR:MASTER_PORT (torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; they alone also turn it on).")
    var distributed = false

    @Option(help: "Seconds a rank waits for the others (joining, every collective) before it stops with an error (default 300).")
    var distributedTimeout: Double = 300

    @Flag(inversion: .prefixedNo, help: "Start each gradient bucket's all-reduce during backward, as soon as its gradients are ready (PyTorch DDP's overlap); --no-overlap-communication reduces every bucket after backward.")
    var overlapCommunication = true

    @Option(help: "Largest gradient bucket of a data-parallel run, in MB (PyTorch DDP's bucket_cap_mb; default 25).")
    var bucketMb: Double = 25

    @Option(help: ArgumentHelp("Start a new run from the weights of an earlier run (its latest checkpoint: G, D, E, D2) or of an exported model file (G, E), e.g. a model pretrained on synthetic scenes.", valueName: "run-folder|file"))
    var initFrom: String?

    @Option(help: "Image side after preprocessing (a multiple of the generator's stride).")
    var size = 256

    @Option(help: "Differentiable augmentation of the discriminators' inputs (DiffAugment): auto (color,translation,cutout when the training split has fewer than 2000 pairs, else none), none, or a comma-separated list of color, translation, cutout.")
    var augment = "auto"

    @OptionGroup(title: "Data") var dataOptions: TrainDataOptions

    @OptionGroup(title: "Schedule and optimiser") var schedule: TrainScheduleOptions

    @OptionGroup(title: "Losses") var losses: TrainLossOptions

    @OptionGroup(title: "Multimodal models (lsragan, bicyclegan, msgan)") var multimodal: TrainMultimodalOptions

    @OptionGroup(title: "Generator") var generatorOptions: TrainGeneratorOptions

    @OptionGroup(title: "Discriminator") var discriminatorOptions: TrainDiscriminatorOptions

    @OptionGroup(title: "Checkpoints, samples and logs") var output: TrainOutputOptions

    @OptionGroup var runtime: RuntimeOptions

    /// The model's library defaults at `--size`, with only the options the user gave applied on
    /// top (each group applies its own): a default lives in the library (the model's family),
    /// never here.
    func makeConfig() throws -> TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: size)
        dataOptions.apply(to: &c, size: size)
        if augment.lowercased() == "auto" {
            let pairs = (try? PairedDataset(root: data, split: "train", options: c.data).count) ?? 0
            c.augment = pairs > 0 && pairs < DiffAugment.automaticBelowPairs ? DiffAugment() : nil
        } else {
            c.augment = try DiffAugment.parse(augment)
        }
        schedule.apply(to: &c)
        losses.apply(to: &c)
        multimodal.apply(to: &c)
        generatorOptions.apply(to: &c)
        discriminatorOptions.apply(to: &c)
        output.apply(to: &c)
        if let initFrom { c.initFrom = initFrom }
        return c.resolved
    }

    func validate() throws {
        guard !name.isEmpty, !name.contains("/") else { throw ValidationError("--name must be a plain folder name, got '\(name)'.") }
        guard bucketMb.isFinite, bucketMb > 0, bucketMb <= 4096 else { throw ValidationError("--bucket-mb must be more than 0 and at most 4096, got \(bucketMb).") }
        if resume, initFrom != nil {
            throw ValidationError("--init-from starts a new run from other weights; --resume continues this run from its own checkpoint: pass one of them.")
        }
        if !resume {
            do { try makeConfig().validate() } catch let e as ModelError { throw ValidationError(e.message + ".") } catch let e as DatasetError { throw ValidationError(e.message + ".") }
        }
    }

    func run() throws {
        try runtime.apply()
        StopSignal.install()
        let folder = runs + "/" + name
        let limit = resume ? schedule.maxSteps.flatMap { $0 > 0 ? $0 : nil } : nil
        let parallel = try joinProcessGroup()
        let config = try makeConfig()
        if !resume, parallel?.isLeader ?? true {
            print("discriminator augmentation: \(config.augment.map(\.description) ?? "none")"
                + (augment.lowercased() == "auto" ? " (--augment auto: on below \(DiffAugment.automaticBelowPairs) training pairs)" : ""))
        }
        // The trainer checks memory on the networks it builds, before it creates the run folder.
        let trainer = try Trainer.make(config: config, dataRoot: data, runFolder: folder, resume: resume, maxSteps: limit,
                                       parallel: parallel, tensorboard: tensorboard, checkMemory: !resume && !runtime.ignoreMemoryLimit)
        if parallel?.isLeader ?? true { reportWarmStart(trainer.warmStarted) }
        let progress = ProgressReporter(every: trainer.config.logEverySteps, silent: !(parallel?.isLeader ?? true))
        let outcome = try trainer.train(progress: progress, shouldStop: { StopSignal.isRequested })
        let loader = trainer.loader
        let skipped = loader.skipped
        if !skipped.isEmpty {
            print("skipped \(skipped.count) unreadable training file(s):")
            for s in skipped.prefix(20) { print("  \(s)") }
        }
        if outcome == .interrupted { throw ExitCode(130) }
    }

    /// The process group of a data-parallel run, when torchrun's environment (or --distributed)
    /// asks for one.
    func joinProcessGroup() throws -> DataParallel? {
        let env = ProcessInfo.processInfo.environment
        guard distributed || env["WORLD_SIZE"] != nil else { return nil }
        guard let world = env["WORLD_SIZE"].flatMap(Int.init), world >= 1, let rank = env["RANK"].flatMap(Int.init), (0 ..< world).contains(rank) else {
            throw ValidationError("a distributed run needs RANK (0 … WORLD_SIZE − 1) and WORLD_SIZE in the environment, as torchrun sets them; got RANK=\(env["RANK"] ?? "unset") WORLD_SIZE=\(env["WORLD_SIZE"] ?? "unset").")
        }
        guard world > 1 else { return nil }
        let host = env["MASTER_ADDR"] ?? "127.0.0.1"
        guard let port = Int(env["MASTER_PORT"] ?? "29500"), (1 ... 65535).contains(port) else {
            throw ValidationError("MASTER_PORT must be a port number, got '\(env["MASTER_PORT"] ?? "")'.")
        }
        // NCCL between GPUs where this build has it, Gloo between CPUs (as PyTorch's DDP).
        let backend = ProcessGroup.backend(for: Torch.defaultDevice)
        if rank == 0 {
            print("distributed: \(world) ranks through \(host):\(port) (\(backend == .nccl ? "NCCL" : "Gloo")), timeout \(Int(distributedTimeout)) s")
        }
        return DataParallel(group: try ProcessGroup(host: host, port: port, rank: rank, worldSize: world, timeout: distributedTimeout,
                                                    launcherServesStore: env["TORCHELASTIC_USE_AGENT_STORE"] == "True", backend: backend),
                            overlap: overlapCommunication, bucketBytes: Int(bucketMb * 1_048_576))
    }

    func reportWarmStart(_ names: [String]) {
        guard let initFrom, !names.isEmpty else { return }
        print("starting from the weights of \(initFrom): \(names.joined(separator: ", "))")
    }
}
