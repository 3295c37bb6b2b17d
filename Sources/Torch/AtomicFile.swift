import Foundation

/// Writes files so that readers see either the old content or the complete new content,
/// never a partial file: the bytes go to a temporary file in the same folder, are flushed
/// to disk, and the temporary file is then renamed over the destination.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temp = try staged(data, for: path)
        try commit(temp, to: path)
    }

    /// Writes several files, all or none: every file is written to its temporary first, and
    /// only when all were written are they renamed into place (a failure before that leaves
    /// every destination as it was).
    public static func writeAll(_ files: [(data: Data, path: String)]) throws {
        var temps: [(temp: String, path: String)] = []
        do {
            for file in files { temps.append((try staged(file.data, for: file.path), file.path)) }
        } catch {
            for t in temps { try? FileManager.default.removeItem(atPath: t.temp) }
            throw error
        }
        for (i, t) in temps.enumerated() {
            do { try commit(t.temp, to: t.path) } catch {
                for rest in temps[(i + 1)...] { try? FileManager.default.removeItem(atPath: rest.temp) }
                throw error
            }
        }
    }

    /// The canonical absolute path of `path`, whose last component need not exist: symbolic
    /// links and `..` in its folder are resolved, so that two names of one file compare equal.
    public static func canonicalPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let real = realpath(url.path, nil) { defer { free(real) }; return String(cString: real) }
        let folder = url.deletingLastPathComponent().path
        guard let real = realpath(folder, nil) else { return url.path }
        defer { free(real) }
        return (String(cString: real) as NSString).appendingPathComponent(url.lastPathComponent)
    }

    /// The bytes in a flushed temporary file beside `path`.
    static func staged(_ data: Data, for path: String) throws -> String {
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
        return temp
    }

    static func commit(_ temp: String, to path: String) throws {
        if rename(temp, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw TorchError("cannot write \(path): \(reason)")
        }
    }
}
