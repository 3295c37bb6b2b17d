import Foundation
import Torch

/// The files of a training run: runs/NAME/{config.json, log.jsonl, checkpoints/, samples/, val/}.
public struct RunFolder: Sendable {
    public let path: String
    public init(path: String) { self.path = path }

    public var configFile: String { path + "/config.json" }
    public var logFile: String { path + "/log.jsonl" }
    public var checkpoints: String { path + "/checkpoints" }
    public var latestCheckpoint: String { checkpoints + "/latest.safetensors" }
    public func epochCheckpoint(_ epoch: Int) -> String { checkpoints + String(format: "/epoch_%04d.safetensors", epoch) }
    public var samples: String { path + "/samples" }
    public var validation: String { path + "/val" }

    public func create() throws {
        for folder in [path, checkpoints, samples, validation] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    /// Appends one JSON object per line.
    public func appendLog(_ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) + Data("\n".utf8)
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }
}
