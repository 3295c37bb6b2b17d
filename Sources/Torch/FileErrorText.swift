import Foundation

/// Foundation's file-system errors in words a user can act on. On Linux their text is often a
/// raw dump (`Error Domain=NSCocoaErrorDomain Code=516 … UserInfo={…}`) or "(null)"; this names
/// the path and the operating system's reason instead ("/tmp/out: Not a directory").
public enum FileErrorText {
    /// One line for a Foundation file error, or nil when `error` is not one.
    public static func describe(_ error: any Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        guard let path else { return reason(ns) }
        return "\(path): \(obstacle(for: path) ?? reason(ns))"
    }

    /// Why `path` cannot be created, when the file system shows it: Foundation's generic
    /// "cannot write" often hides that a parent is a file or a folder is read-only.
    static func obstacle(for path: String) -> String? {
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: ancestor, isDirectory: &isFolder) {
                if !isFolder.boolValue { return "Not a directory (\(ancestor) is a file)" }
                return access(ancestor, W_OK) == 0 ? nil : "Permission denied (cannot write in \(ancestor))"
            }
            let parent = (ancestor as NSString).deletingLastPathComponent
            if parent == ancestor { break }
            ancestor = parent
        }
        return nil
    }

    /// Why `path` does not exist, in words: "no such file" (or whatever `what` names), unless its
    /// name held bytes that are not UTF-8. Swift decodes such names (from the command line or a
    /// folder listing) with U+FFFD in place of the bad bytes, and that name then matches no file;
    /// say so rather than claim the file is missing.
    public static func missing(_ path: String, what: String = "file") -> String {
        if path.unicodeScalars.contains("\u{FFFD}") {
            return "cannot open this name: it is not valid UTF-8 (shown with \u{FFFD} for the bytes that are not); rename it to a UTF-8 name, for example with `convmv -f latin1 -t utf8 --notest`"
        }
        return "no such \(what)"
    }

    /// `describe(error)` when it is a file error, else the error's own text.
    public static func text(_ error: any Error) -> String { describe(error) ?? "\(error)" }

    /// The reason alone, for callers that name the path themselves.
    public static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
        return reason(ns)
    }

    static func reason(_ ns: NSError) -> String {
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
        case .fileWriteFileExists: return "File exists (a file is where a folder or a new file should go)"
        case .fileWriteOutOfSpace: return "No space left on device"
        case .fileWriteVolumeReadOnly: return "Read-only file system"
        case .fileReadCorruptFile: return "the file is damaged"
        case .fileReadTooLarge: return "the file is too large to read"
        case .fileWriteUnknown: return "cannot write it"
        case .fileReadUnknown: return "cannot read it"
        default: return ns.localizedDescription
        }
    }
}
