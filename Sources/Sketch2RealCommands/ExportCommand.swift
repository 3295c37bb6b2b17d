import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's generator as one safetensors file with its configuration in the metadata, or as ONNX.",
        discussion: """
        safetensors (default): reference/ holds PyTorch definitions that load the exported file. For lsragan and \
        bicyclegan the encoder E (photo → latent code) is stored beside the generator, its tensors named E.*. \
        onnx: opset 17, input `sketch` and output `image` with a dynamic batch, height and width (multiples of the \
        generator's stride, in the file's metadata), with the z input for multimodal models; their encoder E goes to NAME-encoder.onnx. pth: the state dict as \
        torch.save writes it, for reference/*.py (load_state_dict with strict=True); E to NAME-encoder.pth.
        """
    )

    @Argument(help: "A run folder or checkpoint.")
    var source: String

    @Option(help: "Output file (.safetensors, or .onnx with --format onnx).")
    var out: String

    @Option(help: "safetensors, onnx, or pth (a PyTorch state dict for reference/*.py, loadable with strict=True).")
    var format: String = "safetensors"

    @Flag(help: "Store weights as float16 (half the size).")
    var half = false

    func validate() throws {
        guard ["safetensors", "onnx", "pth"].contains(format) else { throw ValidationError("--format must be safetensors, onnx or pth, got '\(format)'.") }
        if format != "safetensors", half { throw ValidationError("--half applies to safetensors; ONNX and .pth files hold float32 weights.") }
    }

    func run() throws {
        if format == "pth" {
            let (generator, config) = try GeneratorFile.load(source)
            let data = try TorchCheckpointWriter.data(generator.stateDict().map { (name: $0.0, tensor: $0.1) })
            try AtomicFile.write(data, to: out)
            print(String(format: "wrote %@ (%@ generator's state dict for torch.load, %d tensors, %.1f MB)", out, config.model.rawValue,
                         generator.stateDict().count, Double(data.count) / 1e6))
            if config.model.usesEncoder, let encoder = try GeneratorFile.loadMultimodal(source).encoder {
                let path = ((out as NSString).deletingPathExtension) + "-encoder.pth"
                try AtomicFile.write(try TorchCheckpointWriter.data(encoder.stateDict().map { (name: $0.0, tensor: $0.1) }), to: path)
                print("wrote \(path) (the encoder E's state dict)")
            }
            return
        }
        if format == "onnx" {
            let (generator, config) = try GeneratorFile.load(source)
            let bytes = try ONNXExport.model(generator, config: config)
            try AtomicFile.write(Data(bytes), to: out)
            print(String(format: "wrote %@ (%@ generator as ONNX opset %d, %d parameters, %.1f MB)", out, config.model.rawValue,
                         Int(ONNXExport.opset), generator.parameterCount, Double(bytes.count) / 1e6))
            if config.model.usesEncoder, let encoder = try GeneratorFile.loadMultimodal(source).encoder {
                let path = ((out as NSString).deletingPathExtension) + "-encoder.onnx"
                try AtomicFile.write(Data(try ONNXExport.encoder(encoder, config: config)), to: path)
                print("wrote \(path) (the encoder E: photo → mu, logvar)")
            }
            return
        }
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
