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

    /// On resume: makes the log end where the checkpoint does. Records of steps after `step`
    /// (written between the last checkpoint and an interruption, and written again by the
    /// resumed run) and a line cut short by a kill are dropped, so every step appears once.
    /// Returns the number of lines dropped.
    @discardableResult
    public func trimLog(afterStep step: Int) throws -> Int {
        guard let data = FileManager.default.contents(atPath: logFile) else { return 0 }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        let kept = lines.filter { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return false }
            guard let recordStep = (record["step"] as? NSNumber)?.intValue else { return true }
            return recordStep <= step
        }
        guard kept.count < lines.count else { return 0 }
        try AtomicFile.write(Data(kept.map { Data($0) + Data("\n".utf8) }.joined()), to: logFile)
        return lines.count - kept.count
    }

    /// Removes temporary files that an interrupted atomic write left behind (`.NAME.tmp-…`, see
    /// `AtomicFile`) in the run folder and its checkpoint, sample and validation folders.
    /// Returns the paths removed.
    @discardableResult
    public func removeStaleTemporaryFiles() -> [String] {
        var removed: [String] = []
        for folder in [path, checkpoints, samples, validation] {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
                if (try? FileManager.default.removeItem(atPath: folder + "/" + name)) != nil { removed.append(folder + "/" + name) }
            }
        }
        return removed.sorted()
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
