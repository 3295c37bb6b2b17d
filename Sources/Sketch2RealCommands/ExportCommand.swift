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
        // Everything is read, built and encoded before anything is written, and nothing is
        // written over a file the export reads: a failure leaves every file as it was.
        let input = try GeneratorFile.storedFile(source)
        let stored = try GeneratorFile.load(source, withEncoder: true)
        let (generator, config) = (stored.generator, stored.config)
        let encoder = config.model.usesEncoder ? stored.encoder : nil
        var files: [(data: Data, path: String)] = []
        var lines: [String] = []
        let encoderPath = { (suffix: String) in ((out as NSString).deletingPathExtension) + "-encoder." + suffix }
        switch format {
        case "pth":
            let data = try TorchCheckpointWriter.data(generator.stateDict().map { (name: $0.0, tensor: $0.1) })
            files.append((data, out))
            lines.append(String(format: "wrote %@ (%@ generator's state dict for torch.load, %d tensors, %.1f MB)", out, config.model.rawValue,
                                generator.stateDict().count, Double(data.count) / 1e6))
            if let encoder {
                files.append((try TorchCheckpointWriter.data(encoder.stateDict().map { (name: $0.0, tensor: $0.1) }), encoderPath("pth")))
                lines.append("wrote \(encoderPath("pth")) (the encoder E's state dict)")
            }
        case "onnx":
            let bytes = try ONNXExport.model(generator, config: config)
            files.append((Data(bytes), out))
            lines.append(String(format: "wrote %@ (%@ generator as ONNX opset %d, %d parameters, %.1f MB)", out, config.model.rawValue,
                                Int(ONNXExport.opset), generator.parameterCount, Double(bytes.count) / 1e6))
            if let encoder {
                files.append((Data(try ONNXExport.encoder(encoder, config: config)), encoderPath("onnx")))
                lines.append("wrote \(encoderPath("onnx")) (the encoder E: photo → mu, logvar)")
            }
        default:
            let withEncoder = config.model.isMultimodal ? encoder : nil
            let data = try GeneratorFile.exported(generator, encoder: withEncoder, config: config, half: half)
            files.append((data, out))
            lines.append(String(format: "wrote %@ (%@ %@, %d parameters, %.1f MB)", out, config.model.rawValue,
                                withEncoder == nil ? "generator" : "generator and encoder",
                                generator.parameterCount + (withEncoder?.parameterCount ?? 0), Double(data.count) / 1e6))
        }
        try Self.checkOutputs(files.map(\.path), input: input)
        try AtomicFile.writeAll(files)
        for line in lines { print(line) }
    }

    /// Refuses outputs that are the file the export reads (under any name), or each other.
    static func checkOutputs(_ outputs: [String], input: String) throws {
        let read = AtomicFile.canonicalPath(input)
        var seen: Set<String> = []
        for output in outputs {
            let path = AtomicFile.canonicalPath(output)
            if path == read {
                throw ValidationError("--out \(output) is the file this export reads (\(input)); choose another output so that the model is not overwritten.")
            }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                throw ValidationError("--out \(output) is a folder; give a file name.")
            }
            guard seen.insert(path).inserted else { throw ValidationError("two outputs of this export would both be \(output).") }
        }
    }
}
