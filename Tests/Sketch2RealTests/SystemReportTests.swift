import Foundation
import XCTest
@testable import Sketch2Real

final class SystemReportTests: XCTestCase {
    func testFindsOpenBLASBehindTheAlternativesLink() {
        let maps = """
        7f00-7f01 r-xp 00000000 fd:00 1 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0
        7f02-7f03 r-xp 00000000 fd:00 2 /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
        7f04-7f05 r-xp 00000000 fd:00 3 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so
        """
        let blas = SystemReport.blasLibrary(maps: maps)
        XCTAssertEqual(blas.kind, .openblas)
        XCTAssertFalse(blas.isSlow)
    }

    /// PyPI's libtorch carries MKL inside libtorch_cpu: its configuration names it, though the
    /// process maps OpenBLAS for OpenCV.
    func testMKLInsideLibtorchIsNamedFromTheBuildConfiguration() {
        let maps = "7f04-7f05 r-xp 00000000 fd:00 3 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so\n"
        XCTAssertEqual(SystemReport.blasLibrary(maps: maps, config: "  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release").kind, .mkl)
        XCTAssertEqual(SystemReport.blasLibrary(maps: maps, config: "  - Build settings: BLAS_INFO=open, BUILD_TYPE=Release").kind, .openblas)
    }

    func testReferenceBLASIsFlaggedSlow() {
        let maps = "7f02-7f03 r-xp 00000000 fd:00 2 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0\n"
        let blas = SystemReport.blasLibrary(maps: maps)
        XCTAssertEqual(blas.kind, .reference)
        XCTAssertTrue(blas.isSlow)
        let lines = SystemReport(libtorchVersion: "1.13.0", threads: 1, interopThreads: 1, cpuModel: "x", cpuFeatures: [],
                                 libtorchCPUCapability: "AVX2", devices: ["cpu"], blas: blas, mkldnn: true)
            .lines(matmulGFLOPS: nil)
        XCTAssertTrue(lines.last!.hasPrefix("warning: libtorch is not using an optimised BLAS"))
    }

    func testCPUFeatureParsing() {
        let info = "processor\t: 0\nmodel name\t: Test CPU @ 2GHz\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
        XCTAssertEqual(SystemReport.cpuModel(cpuinfo: info), "Test CPU @ 2GHz")
        XCTAssertEqual(SystemReport.cpuFeatures(cpuinfo: info), ["sse4_2", "avx", "avx2", "fma"])
        XCTAssertEqual(SystemReport.cpuCapability(config: "  - CPU capability usage: AVX2\n"), "AVX2")
    }

    /// Features hidden by SKETCH2REAL_HIDE_CPU_FEATURES or above oneDNN's cap are not offered to
    /// `--precision auto`, and `info` calls bfloat16 emulated there.
    func testHiddenAndCappedFeaturesAreNotReachable() {
        let all = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile"]
        XCTAssertEqual(SystemReport.reachable(all, environment: [:]), all)
        XCTAssertEqual(SystemReport.reachable(all, environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"]), ["avx2", "fma"])
        XCTAssertEqual(SystemReport.reachable(all, environment: ["SKETCH2REAL_HIDE_CPU_FEATURES": "avx512"]), ["avx2", "fma"])
        XCTAssertEqual(SystemReport.reachable(all, environment: ["ONEDNN_MAX_CPU_ISA": "avx512_core"]),
                       ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"])
        XCTAssertEqual(SystemReport.reachable(all, environment: ["SKETCH2REAL_HIDE_CPU_FEATURES": "avx512_bf16"]),
                       ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"])
        XCTAssertEqual(SystemReport.reachable(all, environment: ["ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"]),
                       ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"])
        XCTAssertEqual(SystemReport.reachable(all, environment: ["ONEDNN_MAX_CPU_ISA": "ALL"]), all)
        let capped = SystemReport.reachable(all, environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        XCTAssertEqual(PrecisionChoice.auto.resolve(cpuFeatures: capped, oneDNN: true).precision, .fp32)
        XCTAssertTrue(PrecisionChoice.bfloat16Support(cpuFeatures: capped, oneDNN: true).hasPrefix("emulated"))
        XCTAssertTrue(PrecisionChoice.bfloat16Support(cpuFeatures: all, oneDNN: true).hasPrefix("native"))
    }

    /// This process links the real libtorch: the report must see it, its BLAS and a plausible speed.
    func testLiveReport() {
        let report = SystemReport.collect()
        XCTAssertNotNil(report.libtorchVersion.range(of: #"^\d+\.\d+"#, options: .regularExpression), report.libtorchVersion)
        XCTAssertGreaterThanOrEqual(report.threads, 1)
        XCTAssertEqual(report.devices.first, "cpu")
        XCTAssertFalse(report.blas.isSlow, "libtorch runs on \(report.blas.path); run scripts/bootstrap to install OpenBLAS")
        let gflops = SystemReport.matmulGFLOPS(size: 256, seconds: 0.2)
        XCTAssertGreaterThan(gflops, 1, "a 256² float32 matmul ran at \(gflops) GFLOP/s")
        let peak = SystemReport.convolutionPeak(.fp32, seconds: 0.4)
        XCTAssertGreaterThan(peak.gflops, 1)
        XCTAssertTrue(peak.source.hasPrefix("float32 3×3") && peak.source.contains("forward + backward"), peak.source)
        // bfloat16 only where it is native: elsewhere libtorch emulates it, slowly.
        if PrecisionChoice.auto.resolve().precision == .bf16 {
            let bf16 = SystemReport.convolutionPeak(.bf16, seconds: 0.4)
            XCTAssertGreaterThan(bf16.gflops, 1)
            XCTAssertTrue(bf16.source.hasPrefix("bfloat16 3×3"), bf16.source)
        }
    }

    func testConvolutionFLOPCount() {
        let c = ConvolutionBenchmark.Case(name: "t", batch: 2, inChannels: 3, outChannels: 4, size: 10, kernel: 3, stride: 1, padding: 1)
        XCTAssertEqual(c.outputSize, 10)
        XCTAssertEqual(c.forwardBackwardFLOPs, 3 * 2 * Double(2 * 4 * 10 * 10 * 3 * 9))
        let r = ConvolutionBenchmark.run(c, rounds: 1, iterations: 1)
        XCTAssertGreaterThan(r.gflops, 0)
    }
}
