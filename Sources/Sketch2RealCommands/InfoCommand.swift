import ArgumentParser
import Sketch2Real
import Torch

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show versions, threads, CPU features, devices, the BLAS in use and a matmul speed reading."
    )

    @OptionGroup var runtime: RuntimeOptions

    @Flag(name: .long, help: "Skip the one-second matrix-product measurement.")
    var noBenchmark = false

    func run() throws {
        try runtime.apply()
        let report = SystemReport.collect()
        let gflops = noBenchmark ? nil : SystemReport.matmulGFLOPS()
        for line in report.lines(matmulGFLOPS: gflops) { print(line) }
        let cuda = Torch.isCUDACompiled ? "libtorch has CUDA, \(Torch.cudaDeviceCount) device(s) visible" : "libtorch without CUDA"
        print("device       \(Torch.defaultDevice) (--device \(runtime.device); \(cuda))")
        let (precision, reason) = runtime.resolvedPrecision
        print("precision    \(precision.rawValue) (\(reason); --precision fp32|bf16|fp16|auto)")
        let layout = runtime.memoryFormat.resolve(device: Torch.defaultDevice, precision: precision)
        print("layout       \(layout.channelsLast ? "channels-last" : "contiguous") (\(layout.reason); --memory-format auto|contiguous|channels-last)")
        print("distributed  " + (ProcessGroup.ncclAvailable ? "NCCL between GPUs, Gloo between CPUs" : "Gloo (this build has no NCCL: CPU ranks, or GPU ranks through host copies)"))
        print("bfloat16     \(PrecisionChoice.bfloat16Support())")
        let choices = Torch.transposedConvolutionChoices
        print("kernels      transposed convolutions: the faster of oneDNN and im2col per shape, measured on first use; "
            + "\(choices.measured) shape(s) known (\(choices.oneDNN) oneDNN, \(choices.im2col) im2col)"
            + (KernelChoiceCache.path().map { ", kept in \($0)" } ?? ""))
    }
}
