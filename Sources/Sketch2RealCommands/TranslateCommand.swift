import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Turn sketches into images with a trained model.",
        discussion: """
        INPUT is any mix of image files and folders. Any size works: the sketch is padded to the \
        network's multiple and the result cropped back. Inputs that share a file name (from different \
        folders) are written as NAME, NAME-2, NAME-3 … and a note says so. Grey, colour and RGBA sketches are accepted. \
        A file that cannot be read is reported and the others are still translated; the exit status \
        is then 1. Multimodal models (lsragan, bicyclegan, msgan) use the latent code z = 0, the mean \
        of their prior; `sketch2real sample` draws many images per sketch. Without --model the bundled \
        SRAGAN (models/sragan-landscapes.safetensors) is used.
        """
    )

    @Option(help: "An exported model (.safetensors), a checkpoint, or a run folder (default: the bundled models/sragan-landscapes.safetensors).")
    var model: String?

    @Argument(help: "Sketch files or folders.")
    var inputs: [String]

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Output format: png or jpg.")
    var format = "png"

    @Option(help: "Sketches per forward pass: consecutive sketches of the same size and channels are batched together.")
    var batchSize = 4

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard ["png", "jpg"].contains(format) else { throw ValidationError("--format must be png or jpg, got '\(format)'.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
        try runtime.apply()
        let (generator, _) = try GeneratorFile.load(model ?? BundledModels.path(BundledModels.translation))
        let files = try DatasetLayout.inputs(inputs)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let translator = Translator(generator: generator)
        let cost = MemoryBudget.inferenceCost(generator)
        var failures: [String] = []
        var written = 0
        var used = Set<String>()
        let start = Date()
        // Consecutive sketches of one size and channel count share a forward pass, up to --batch-size.
        var pending: [(file: String, stem: String, sketch: Image)] = []
        func fail(_ error: Error) {
            failures.append("\(error)")
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        }
        func flush() {
            defer { pending = [] }
            guard let first = pending.first else { return }
            do {
                try MemoryBudget.check(needs: cost.bytes(width: first.sketch.width, height: first.sketch.height, images: pending.count),
                                       for: pending.count == 1 ? "\(first.file): translating \(first.sketch.width)×\(first.sketch.height) pixels"
                                           : "\(first.file) and \(pending.count - 1) more: translating \(pending.count) sketches of \(first.sketch.width)×\(first.sketch.height) pixels at once (try a smaller --batch-size)",
                                       ignore: runtime.ignoreMemoryLimit)
                let results = try translator.translate(batch: pending.map(\.sketch))
                for (entry, result) in zip(pending, results) {
                    let target = out + "/" + entry.stem + "." + format
                    do {
                        try result.save(path: target)
                        written += 1
                        print("\(entry.file) → \(target)")
                    } catch { fail(error) }
                }
            } catch { fail(error) }
        }
        for file in files {
            // Inputs from different folders may share a name: the later ones get a numbered
            // suffix instead of overwriting an earlier result.
            let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            var stem = base, n = 1
            while used.contains(stem) { n += 1; stem = "\(base)-\(n)" }
            used.insert(stem)
            if stem != base { say("note: another input is also named \(base); \(file) is written as \(stem).\(format)") }
            do {
                let sketch = try Image.load(path: file)
                if let first = pending.first?.sketch, first.pixels.shape != sketch.pixels.shape || pending.count >= batchSize { flush() }
                pending.append((file, stem, sketch))
            } catch { fail(error) }
        }
        flush()
        print(String(format: "translated %d of %d sketches in %.2f s", written, files.count, Date().timeIntervalSince(start)))
        if !failures.isEmpty {
            print("\(failures.count) failed:")
            for f in failures { print("  \(f)") }
            throw ExitCode(1)
        }
    }
}
