import ArgumentParser
import Sketch2Real

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show versions, threads, CPU features, devices, the BLAS in use and a matmul speed reading."
    )

    @OptionGroup var runtime: RuntimeOptions

    @Flag(name: .long, help: "Skip the one-second matrix-product measurement.")
    var noBenchmark = false

    func run() throws {
        runtime.apply()
        let report = SystemReport.collect()
        let gflops = noBenchmark ? nil : SystemReport.matmulGFLOPS()
        for line in report.lines(matmulGFLOPS: gflops) { print(line) }
    }
}
