import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's generator as one safetensors file with its configuration in the metadata.",
        discussion: """
        reference/ holds PyTorch definitions that load the exported file. For lsragan and bicyclegan \
        the encoder E (photo → latent code) is stored beside the generator, its tensors named E.*.
        """
    )

    @Argument(help: "A run folder or checkpoint.")
    var source: String

    @Option(help: "Output .safetensors file.")
    var out: String

    @Flag(help: "Store weights as float16 (half the size).")
    var half = false

    func run() throws {
        let (generator, config) = try GeneratorFile.load(source)
        var what = "generator"
        var parameters = generator.parameterCount
        if config.model.isMultimodal {
            let model = try GeneratorFile.loadMultimodal(source)
            try GeneratorFile.export(model.generator, encoder: model.encoder, config: config, to: out, half: half)
            if let encoder = model.encoder {
                what = "generator and encoder"
                parameters += encoder.parameterCount
            }
        } else {
            try GeneratorFile.export(generator, config: config, to: out, half: half)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print(String(format: "wrote %@ (%@ %@, %d parameters, %.1f MB)", out, config.model.rawValue, what, parameters, Double(size) / 1e6))
    }
}
