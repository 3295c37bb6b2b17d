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
        is refused. DataParallel's `module.` prefixes are removed. pix2pix generators from \
        pytorch-CycleGAN-and-pix2pix (latest_net_G.pth; --netG unet_256, unet_128, resnet_9blocks or \
        resnet_6blocks) keep their tensor names; channels, width, normalisation and ResNet dropout are read from \
        the tensors. The written file works with translate, eval, compare, serve and demo like an exported run.
        """
    )

    @Argument(help: "The .pth file.")
    var checkpoint: String

    @Option(help: "What the checkpoint holds: pix2pix (a generator from pytorch-CycleGAN-and-pix2pix).")
    var model: String = "pix2pix"

    @Option(name: .customLong("netG"), help: "pix2pix generator: unet_256, unet_128, resnet_9blocks or resnet_6blocks.")
    var netG: String = "unet_256"

    @Option(help: "Output .safetensors file.")
    var out: String

    @Flag(help: "Store weights as float16 (half the size).")
    var half = false

    func validate() throws {
        guard model == "pix2pix" else {
            throw ValidationError("--model \(model): importing is implemented for pix2pix generators; sragan, lsragan and bicyclegan checkpoints are not read yet.")
        }
        guard PyTorchImport.pix2pixGenerators[netG] != nil else {
            throw ValidationError("--netG must be one of \(PyTorchImport.pix2pixGenerators.keys.sorted().joined(separator: ", ")); got '\(netG)'.")
        }
    }

    func run() throws {
        let state = try TorchCheckpoint.load(path: checkpoint)
        let (generator, config) = try PyTorchImport.pix2pix(state, netG: netG, source: checkpoint)
        try GeneratorFile.export(generator, config: config, to: out, half: half)
        print("wrote \(out): pix2pix \(netG) generator, \(config.data.inputChannels) → \(config.data.outputChannels) channels, "
            + "ngf \(config.pix2pix.ngf), \(config.pix2pix.norm.rawValue) norm, dropout \(config.pix2pix.dropout ? "on" : "off"), "
            + "\(generator.parameterCount) parameters from \(state.count) tensors")
    }
}
