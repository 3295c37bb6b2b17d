import Foundation
import Torch

/// Reads a state dict saved by `torch.save(module.state_dict(), path)` in PyTorch's zip format,
/// without Python and without running any of the pickle's code (`CheckpointReader` parses the
/// bytes; this turns its tensors into libtorch tensors). Any global other than the few that
/// rebuild tensors (`os.system`, `builtins.eval`, a custom class) is refused with its name.
public enum TorchCheckpoint {
    /// The tensors of the state dict in `path`, by name (non-tensor entries are skipped).
    /// A checkpoint that wraps the state dict (`{"state_dict": …}` or `{"model": …}`) is unwrapped.
    public static func load(path: String) throws -> [String: Tensor] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InteropError("\(path): \(FileErrorText.missing(path, what: "checkpoint"))")
        }
        let records = try CheckpointReader.stateDict(data, source: path)
        guard !records.isEmpty else { throw InteropError("\(path): the checkpoint holds no tensors") }
        return records.mapValues { record in
            if record.bytes.isEmpty { return Tensor.zeros(record.shape, dtype: dtype(record.type)) }
            return record.bytes.withUnsafeBytes { Tensor(bytes: $0, shape: record.shape, dtype: dtype(record.type)) }
        }
    }

    static func dtype(_ type: CheckpointReader.ElementType) -> DType {
        switch type {
        case .float32: .float32
        case .float64: .float64
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .int64: .int64
        case .int32: .int32
        case .int16: .int16
        case .int8: .int8
        case .uint8: .uint8
        case .bool: .bool
        }
    }
}
