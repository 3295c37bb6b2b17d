import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Translate the example sketches with the bundled SRAGAN and draw variations with the bundled LSRAGANs (photos and synthetic).",
        discussion: """
        Reads EXAMPLES/examples.json (file, title, credit of each sketch; without it, every image in \
        the folder), resizes each sketch to the models' training size, and writes OUT/STEM_sketch.png, \
        OUT/STEM_sragan.png, OUT/STEM_lsragan_00.png …, OUT/STEM_synthetic_00.png … (the synthetic-landscape \
        model) and OUT/index.html, which shows sketch → result → variations. `make demo` runs this after building.
        """
    )

    @Option(help: "Folder of example sketches.")
    var examples = "examples"

    @Option(help: "Output folder.")
    var out = "demo-output"

    @Option(help: "Variations per sketch from the multimodal model.")
    var variations = 6

    @Option(help: "Seed of the variations' latent codes.")
    var seed: UInt64 = 0

    @Option(help: "One-to-one model (default: the bundled SRAGAN).")
    var translationModel: String?

    @Option(help: "Multimodal model (default: the bundled LSRAGAN).")
    var samplingModel: String?

    @Option(help: "Multimodal model trained on synthetic landscapes, shown in its own column (default: the bundled lsragan-synthetic when present; 'none' to leave it out).")
    var syntheticModel: String?

    @Option(help: "Side the sketches are resized to (default: the translation model's training size).")
    var size: Int?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard variations >= 1 else { throw ValidationError("--variations must be at least 1.") }
        if let size, size < 16 || size > PreprocessOptions.maximumSide {
            throw ValidationError("--size must be from 16 to \(PreprocessOptions.maximumSide), got \(size).")
        }
    }

    func run() throws {
        try runtime.apply()
        let translationPath = try translationModel ?? BundledModels.path(BundledModels.translation)
        let samplingPath = try samplingModel ?? BundledModels.path(BundledModels.sampling)
        say("demo: models \(translationPath) and \(samplingPath)")
        let (generator, config) = try GeneratorFile.load(translationPath)
        let sampler = MultimodalSampler(model: try GeneratorFile.loadMultimodal(samplingPath))
        var gallery = DemoGallery(translator: generator, sampler: sampler, size: size ?? config.data.preprocess.cropSize)
        let syntheticPath: String? = switch syntheticModel {
        case "none": nil
        case .some(let path): path
        case nil: try? BundledModels.path(BundledModels.synthetic)
        }
        if let syntheticPath {
            say("demo: synthetic-landscape model \(syntheticPath)")
            gallery.synthetic = MultimodalSampler(model: try GeneratorFile.loadMultimodal(syntheticPath))
        }
        gallery.variations = variations
        gallery.seed = seed
        let list = try DemoGallery.examples(in: examples)
        guard !list.isEmpty else { throw ValidationError("\(examples) holds no example sketches.") }
        say("demo: \(list.count) sketches from \(examples)/ → \(out)/")
        let report = try gallery.run(examples: list, folder: examples, out: out, log: { say("  " + $0) })
        say(String(format: "demo: %d sketches, %d variations in %.1f s", report.examples, report.variations, report.seconds))
        say("demo: open \(URL(fileURLWithPath: report.page).standardizedFileURL.path)")
        if !report.failures.isEmpty {
            for f in report.failures { FileHandle.standardError.write(Data("error: \(f)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
