import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw many images per sketch with a multimodal model (lsragan, bicyclegan, msgan).",
        discussion: """
        For each sketch writes OUT/STEM_input.png and OUT/STEM_z00.png … one image per random latent code \
        z ~ N(0, I); --style adds the result for the code of a reference photo (the encoder's mean), \
        --aligned reads sketch | photo pairs and adds the photo (with an encoder, also its encoded result), --interpolate K \
        writes a strip and a looping GIF walking between two codes. OUT/index.html shows everything, \
        OUT/codes.json lists the codes. Codes come from --seed, so the same command gives the same files. \
        Any size works: sketches are padded to the network's multiple and the results cropped back. \
        An unreadable file is reported and the others are still drawn; the exit status is then 1. \
        Without --model the bundled LSRAGAN (models/lsragan-landscapes.safetensors) is used.
        """
    )

    @Option(help: "A multimodal model: exported .safetensors, checkpoint, or run folder (default: the bundled models/lsragan-landscapes.safetensors).")
    var model: String?

    @Argument(help: "Sketch files or folders.")
    var inputs: [String]

    /// The most samples per sketch one run draws.
    static let maximumSamples = 256

    @Option(name: .customLong("n"), help: "Random codes (samples) per sketch (at most 256).")
    var count = 8

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Seed of the random codes.")
    var seed: UInt64 = 0

    @Flag(help: "Use the same codes for every sketch (rows of the page then line up code by code).")
    var sync = false

    @Option(help: "A reference photo: its code gives every sketch an encoded result (needs an encoder: lsragan, bicyclegan).")
    var style: String?

    @Flag(help: "Inputs are sketch | photo pairs, as in the training data: show the photo and, with an encoder, the result for its code.")
    var aligned = false

    @Option(help: "Images in a walk between two codes (the encoded code and the first sample's, or the first two samples'); 0 for none.")
    var interpolate = 0

    @Option(help: "Also write one grid with a row per sketch (sketch | encoded | samples | target) to this PNG.")
    var sheet: String?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--n must be at least 1.") }
        guard count <= Self.maximumSamples else {
            throw ValidationError("--n must be at most \(Self.maximumSamples) samples per sketch, got \(count); run sample again with another --seed for more.")
        }
        guard interpolate == 0 || interpolate >= 2 else { throw ValidationError("--interpolate needs at least 2 images, got \(interpolate).") }
        if interpolate > 0, count < 2, style == nil, !aligned {
            throw ValidationError("--interpolate walks between two codes: use --n 2 or more, or give --style or --aligned (models with an encoder).")
        }
    }

    func run() throws {
        try runtime.apply()
        let modelPath = try model ?? BundledModels.path(BundledModels.sampling)
        let loaded = try GeneratorFile.loadMultimodal(modelPath)
        var options = SampleOptions()
        options.count = count
        options.seed = seed
        options.sync = sync
        options.style = style
        options.aligned = aligned
        options.interpolate = interpolate
        options.sheet = sheet
        options.ignoreMemoryLimit = runtime.ignoreMemoryLimit
        let gallery: SampleGallery
        do {
            gallery = try SampleGallery(model: loaded, modelName: modelPath, options: options, folder: out)
        } catch let e as ModelError {
            throw ValidationError(e.message + ".")
        }
        let files = try DatasetLayout.inputs(inputs)
        let start = Date()
        let report = try gallery.run(inputs: files)
        print(String(format: "drew %d samples for each of %d of %d sketches in %.2f s; %@/index.html", count, report.written, files.count,
                     Date().timeIntervalSince(start), out))
        if !report.diversity.isEmpty {
            print(String(format: "diversity (mean pairwise L1 between samples of a sketch, images in [-1, 1]): %.4f", report.meanDiversity))
        }
        if !report.failures.isEmpty {
            print("\(report.failures.count) failed:")
            for f in report.failures { print("  \(f)") }
            throw ExitCode(1)
        }
    }
}
