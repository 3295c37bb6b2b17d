// swift-tools-version:6.0
import Foundation
import PackageDescription

// libtorch: PyTorch 2.15's from PyPI, which `scripts/bootstrap` unpacks into
// .cache/libtorch-2.15 (headers, libtorch_cpu, libc10 and the two CUDA runtime libraries that
// libtorch_cpu names), unless LIBTORCH names another: a path to a libtorch's `torch` folder (a
// pip-installed PyTorch's, an unpacked libtorch archive, CPU or CUDA), or `system` for Debian's
// libtorch-dev 1.13 (headers in /usr/include, libraries on the default search path). Without
// LIBTORCH and without the bootstrapped copy, Debian's is used. Pre-C++11-ABI builds of libtorch
// also need LIBTORCH_CXX11_ABI=0.
let env = Context.environment
let bundledLibtorch = Context.packageDirectory + "/.cache/libtorch-2.15/torch"
let libtorch: String? = {
    switch env["LIBTORCH"] {
    case "system", "debian": return nil
    case let path? where !path.isEmpty: return path
    default:
        return FileManager.default.fileExists(atPath: bundledLibtorch + "/include/torch/csrc/api/include/torch/version.h") ? bundledLibtorch : nil
    }
}()

/// libtorch's major version, from its version.h: 2.x headers need C++20, and Swift's clang
/// compiles 1.13's only as C++17.
func torchMajorVersion(headers: String) -> Int {
    // 1.x defines it in torch/csrc/api/include/torch/version.h; 2.x there includes it from
    // torch/headeronly/version.h.
    for file in ["/torch/headeronly/version.h", "/torch/csrc/api/include/torch/version.h"] {
        guard let text = try? String(contentsOfFile: headers + file, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.contains("#define TORCH_VERSION_MAJOR") }),
              let major = line.split(separator: " ").last.flatMap({ Int($0) }) else { continue }
        return major
    }
    return 1
}

/// Whether a libtorch folder can run CUDA: libtorch_cuda, and cuBLAS in its lib/ (a libtorch
/// archive) or in the NVIDIA packages beside a pip-installed torch/.
func hasCUDAStack(torchFolder root: String) -> Bool {
    let files = FileManager.default
    guard files.fileExists(atPath: root + "/lib/libtorch_cuda.so") else { return false }
    for folder in [root + "/lib", root + "/../nvidia"] {
        guard let walk = files.enumerator(atPath: folder) else { continue }
        while let name = walk.nextObject() as? String {
            if (name as NSString).lastPathComponent.hasPrefix("libcublas") { return true }
        }
    }
    return false
}

var shimFlags: [String] = ["-w", "-I/usr/include/opencv4"]
var shimLinkFlags: [String] = []
if let root = libtorch {
    shimFlags += ["-I\(root)/include", "-I\(root)/include/torch/csrc/api/include"]
    shimFlags.append(torchMajorVersion(headers: root + "/include") >= 2 ? "-std=c++20" : "-std=c++17")
    shimLinkFlags += ["-L\(root)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(root)/lib"]
    // A libtorch with CUDA (a pip-installed PyTorch's folder with its NVIDIA packages, or a CUDA
    // libtorch archive): its CUDA kernels register themselves when libtorch_cuda loads, and the
    // shim calls none of its symbols, so it is linked without --as-needed dropping it. The
    // bootstrapped copy has libtorch_cuda but not cuBLAS, cuDNN and the rest it needs, so CUDA is
    // linked only where cuBLAS is found beside it; SKETCH2REAL_CUDA=0 or 1 decides instead.
    if env["SKETCH2REAL_CUDA"] == "1" || (env["SKETCH2REAL_CUDA"] != "0" && hasCUDAStack(torchFolder: root)) {
        shimLinkFlags += ["-Xlinker", "--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Xlinker", "--as-needed"]
        // NCCL process groups for data-parallel training on GPUs, where NCCL's header and the
        // CUDA toolkit's headers are found: NCCL's in the nvidia-nccl package beside a
        // pip-installed torch/ or the system's; the CUDA runtime's with the compiler's crt/ ones
        // (a CUDA toolkit, or the nvidia-cuda-nvcc package — the runtime package alone lacks crt/),
        // or SKETCH2REAL_CUDA_INCLUDE. Without them, GPU ranks talk through Gloo.
        let found = { (paths: [String]) in paths.first { FileManager.default.fileExists(atPath: $0) } }
        let nvidia = root + "/../nvidia"
        let cudaFolders = (env["SKETCH2REAL_CUDA_INCLUDE"].map { [$0] } ?? [])
            + [nvidia + "/cu13/include", nvidia + "/cuda_runtime/include", nvidia + "/cuda_nvcc/include",
               (env["CUDA_HOME"] ?? "/usr/local/cuda") + "/include", "/usr/include"]
        if let nccl = found([nvidia + "/nccl/include/nccl.h", root + "/include/nccl.h", "/usr/include/nccl.h"]),
           let cuda = cudaFolders.first(where: { FileManager.default.fileExists(atPath: $0 + "/cuda_runtime_api.h")
                                                 && FileManager.default.fileExists(atPath: $0 + "/crt/host_config.h") }) {
            // CUDA 13 keeps libcu++'s nv/ headers in cccl/ (and the wheels a copy beside).
            let more = [cuda + "/cccl", nvidia + "/cu13/include"].filter { $0 != cuda && FileManager.default.fileExists(atPath: $0 + "/nv/target") }
            shimFlags += ["-DSKETCH2REAL_NCCL=1", "-DUSE_C10D_NCCL=1", "-I" + (nccl as NSString).deletingLastPathComponent, "-I" + cuda]
                + more.map { "-I" + $0 }
        }
    }
} else {
    shimFlags += ["-I/usr/include/torch/csrc/api/include", "-std=c++17"]
}
if env["LIBTORCH_CXX11_ABI"] == "0" {
    shimFlags.append("-D_GLIBCXX_USE_CXX11_ABI=0")
}

let package = Package(
    name: "Sketch2Real",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Sketch2Real", targets: ["Sketch2Real"]),
        .library(name: "Sketch2RealServer", targets: ["Sketch2RealServer"]),
        .executable(name: "sketch2real", targets: ["Sketch2RealCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already dependencies of Hummingbird; named here because the server uses them directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // ONNX models and TensorBoard event files (code generated from proto/ and committed).
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // The studio's /metrics in Prometheus' text format.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // `make docs`: DocC documentation of the library (Sources/Sketch2Real/Sketch2Real.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(shimFlags)],
            linkerSettings: [
                // libtorch.so is only a wrapper (PyPI's names the whole CUDA stack): the CPU
                // library and c10 are what the shim calls.
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
                .linkedLibrary("opencv_core"),
                .linkedLibrary("opencv_imgcodecs"),
                .linkedLibrary("opencv_imgproc"),
                .linkedLibrary("opencv_ximgproc"),
                .linkedLibrary("stdc++"),
                .unsafeFlags(shimLinkFlags),
            ]
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(name: "NN", dependencies: ["Torch"]),
        // Swift code of proto/*.proto, generated by scripts/generate-protos.
        .target(name: "Sketch2RealProtos", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Generated/Protos"),
        .target(name: "Sketch2Real", dependencies: ["Torch", "NN", "Sketch2RealProtos",
                                                    .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "Sketch2RealServer",
            dependencies: [
                "Sketch2Real", "Torch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The studio's page and OpenAPI description, served as they are.
            resources: [.copy("Resources")]
        ),
        // The commands as a library, so tests run them in-process; the executable only calls it.
        .target(
            name: "Sketch2RealCommands",
            dependencies: [
                "Sketch2Real", "Sketch2RealServer", "Torch", "NN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "Sketch2RealCLI", dependencies: ["Sketch2RealCommands"]),
        // The README's library example as a program; `make test` builds and runs it.
        .executableTarget(name: "TranslateSketch", dependencies: ["Sketch2Real"], path: "Examples/TranslateSketch"),
        // The one rule for comparing floating-point results with references (test-only).
        .target(name: "NumericalTolerance", dependencies: ["Torch", "NN"], path: "Tests/NumericalTolerance"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "NumericalTolerance"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Torch", "NumericalTolerance"], resources: [.copy("Fixtures")]),
        .testTarget(name: "Sketch2RealTests", dependencies: ["Sketch2Real", "NumericalTolerance"], resources: [.copy("Fixtures")]),
        .testTarget(name: "Sketch2RealCommandsTests", dependencies: ["Sketch2RealCommands", "Sketch2Real"]),
        .testTarget(
            name: "Sketch2RealServerTests",
            dependencies: ["Sketch2RealServer", "Sketch2Real", "Torch", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
