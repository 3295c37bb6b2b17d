import Foundation
import Torch

/// The five 1×1 linear heads of LPIPS v0.1 for VGG16 (PyPI `lpips` 0.1.4, BSD-2), converted by
/// scripts/convert-lpips-heads into `.cache/weights/lpips_vgg_heads.safetensors` under the
/// package's names `lin{0…4}.model.1.weight` (1×C×1×1, C = 64, 128, 256, 512, 512).
public struct LPIPSHeads: @unchecked Sendable {
    public static let environmentVariable = "SKETCH2REAL_LPIPS_HEADS"
    public static let widths = [64, 128, 256, 512, 512]

    /// `<repository>/.cache/weights/lpips_vgg_heads.safetensors`, found from this source file.
    public static let defaultPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".cache/weights/lpips_vgg_heads.safetensors").path

    /// The weights of each head, 1×C×1×1, shallow to deep.
    public let weights: [Tensor]

    public init(weights: [Tensor]) throws {
        guard weights.map({ $0.shape }) == Self.widths.map({ [1, $0, 1, 1] }) else {
            throw EvaluationError("LPIPS heads must have shapes 1×C×1×1 for C = 64, 128, 256, 512, 512, got \(weights.map(\.shape))")
        }
        self.weights = weights.map { $0.to(.float32) }
    }

    public static func resolvePath(_ explicit: String? = nil,
                                   environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    public static func load(path: String? = nil) throws -> LPIPSHeads {
        let file = resolvePath(path)
        guard FileManager.default.fileExists(atPath: file) else {
            throw EvaluationError("LPIPS heads not found at \(file): run scripts/bootstrap (it converts them from PyPI's lpips wheel), or set \(environmentVariable)")
        }
        let tensors: SafeTensors
        do {
            tensors = try SafeTensors.load(path: file)
        } catch let error as TorchError {
            throw EvaluationError("cannot read LPIPS heads: \(error.message); delete the file and run scripts/bootstrap again")
        }
        let weights = try (0 ..< widths.count).map { i in
            guard let t = tensors["lin\(i).model.1.weight"] else {
                throw EvaluationError("\(file) has no lin\(i).model.1.weight: not an LPIPS VGG heads file")
            }
            return t
        }
        return try LPIPSHeads(weights: weights)
    }
}
