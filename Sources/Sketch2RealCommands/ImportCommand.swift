import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a PyTorch checkpoint (torch.save of a state dict) into a Sketch2Real model file.",
        discussion: """
        Reads PyTorch's zip checkpoint format without Python and without running the pickle's code: only \
        tensors, numbers, strings and containers are read, and a file that asks for any other Python object \
        is refused. DataParallel's `module.` prefixes are removed.

        pix2pix: a generator from pytorch-CycleGAN-and-pix2pix (latest_net_G.pth; --netG unet_256, unet_128, \
        resnet_9blocks or resnet_6blocks); channels, width, normalisation and ResNet dropout are read from the tensors. \
        bicyclegan: BicycleGAN's G (G_Unet_add_all; G_Unet_add_input becomes an msgan model) and, with --encoder, \
        its E (E_ResNet); levels, widths, channels and the code length are read from the tensors (--nz without E \
        when G takes the code at the input only). sragan, lsragan: state dicts of reference/sragan.py's \
        SRAGANGenerator (and reference/multimodal.py's LatentEncoder with --encoder), with --config the JSON of \
        the configuration the reference was built with. The written file works with translate, sample, eval, \
        compare, serve and demo like an exported run.
        """
    )

    @Argument(help: "The generator's .pth file.")
    var checkpoint: String

    @Option(help: "What the checkpoint holds: pix2pix, bicyclegan, sragan or lsragan.")
    var model: String = "pix2pix"

    @Option(name: .customLong("netG"), help: "pix2pix generator: unet_256, unet_128, resnet_9blocks or resnet_6blocks.")
    var netG: String = "unet_256"

    @Option(help: "bicyclegan, lsragan: the encoder's .pth file (latest_net_E.pth).")
    var encoder: String?

    @Option(help: "bicyclegan without --encoder: the code length, when G takes the code at the input only.")
    var nz: Int?

    @Option(help: "sragan, lsragan: the generator's configuration (JSON, SRAGANConfig's fields).")
    var config: String?

    @Option(help: "Output .safetensors file.")
    var out: String

    @Flag(help: "Store weights as float16 (half the size).")
    var half = false

    func validate() throws {
        guard ["pix2pix", "bicyclegan", "sragan", "lsragan"].contains(model) else {
            throw ValidationError("--model must be pix2pix, bicyclegan, sragan or lsragan; got '\(model)'.")
        }
        if model == "pix2pix", PyTorchImport.pix2pixGenerators[netG] == nil {
            throw ValidationError("--netG must be one of \(PyTorchImport.pix2pixGenerators.keys.sorted().joined(separator: ", ")); got '\(netG)'.")
        }
        if model.hasSuffix("sragan"), config == nil { throw ValidationError("--model \(model) needs --config: the JSON of the generator's configuration.") }
        if encoder != nil, ["pix2pix", "sragan"].contains(model) { throw ValidationError("--encoder belongs to bicyclegan and lsragan models.") }
    }

    func run() throws {
        let state = try TorchCheckpoint.load(path: checkpoint)
        let encoderState = try encoder.map { try TorchCheckpoint.load(path: $0) }
        let written: (generator: any SketchToImageGenerator, encoder: LatentEncoder?, config: TrainingConfig)
        switch model {
        case "pix2pix":
            let (g, c) = try PyTorchImport.pix2pix(state, netG: netG, source: checkpoint)
            written = (g, nil, c)
        case "bicyclegan":
            let m = try PyTorchImport.bicycleGAN(generator: state, encoder: encoderState, nz: nz, source: checkpoint)
            written = (m.generator, m.encoder, m.config)
        default:
            guard let settings = FileManager.default.contents(atPath: config!) else {
                throw InteropError("\(config!): \(FileErrorText.missing(config!, what: "configuration file"))")
            }
            written = try PyTorchImport.sragan(generator: state, encoder: encoderState, settings: settings, multimodal: model == "lsragan",
                                              source: checkpoint)
        }
        try GeneratorFile.export(written.generator, encoder: written.encoder, config: written.config, to: out, half: half)
        let c = written.config
        let parameters = written.generator.parameterCount + (written.encoder?.parameterCount ?? 0)
        print("wrote \(out): \(c.model.rawValue) (\(c.generatorName)\(written.encoder == nil ? "" : " with its encoder")), "
            + "\(c.data.inputChannels) → \(c.data.outputChannels) channels, \(parameters) parameters")
    }
}
