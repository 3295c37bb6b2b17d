// swift-tools-version:6.0
import PackageDescription

// libtorch location: Debian's libtorch-dev (headers in /usr/include, libraries on the
// default search path) unless LIBTORCH points at another one (a pip-installed PyTorch's
// `torch` folder or an unpacked libtorch archive, CPU or CUDA). Pre-C++11-ABI builds of
// libtorch also need LIBTORCH_CXX11_ABI=0.
let env = Context.environment
let libtorch = env["LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }

var shimFlags: [String] = ["-w", "-I/usr/include/opencv4"]
var shimLinkFlags: [String] = []
if let root = libtorch {
    shimFlags += ["-I\(root)/include", "-I\(root)/include/torch/csrc/api/include"]
    shimLinkFlags += ["-L\(root)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(root)/lib"]
} else {
    shimFlags += ["-I/usr/include/torch/csrc/api/include"]
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
        // The studio's /metrics in Prometheus' text format.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(shimFlags)],
            linkerSettings: [
                .linkedLibrary("torch"),
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
        .target(name: "Sketch2Real", dependencies: ["Torch", "NN"]),
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
    ],
    cxxLanguageStandard: .cxx17
)
