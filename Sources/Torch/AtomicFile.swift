import Foundation

/// Writes files so that readers see either the old content or the complete new content,
/// never a partial file: the bytes go to a temporary file in the same folder, are flushed
/// to disk, and the temporary file is then renamed over the destination.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw TorchError("cannot write \(path): folder \(folder) does not exist")
        }
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        guard FileManager.default.createFile(atPath: temp, contents: nil) else {
            throw TorchError("cannot write \(path): cannot create a file in \(folder)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw TorchError("cannot write \(path): \(FileErrorText.reason(error))")
        }
        if rename(temp, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw TorchError("cannot write \(path): \(reason)")
        }
    }
}
