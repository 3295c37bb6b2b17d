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
        .executable(name: "sketch2real", targets: ["Sketch2RealCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "Sketch2RealCLI",
            dependencies: [
                "Sketch2Real", "Torch", "NN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TorchTests", dependencies: ["Torch"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Torch"], resources: [.copy("Fixtures")]),
        .testTarget(name: "Sketch2RealTests", dependencies: ["Sketch2Real"], resources: [.copy("Fixtures")]),
    ],
    cxxLanguageStandard: .cxx17
)
