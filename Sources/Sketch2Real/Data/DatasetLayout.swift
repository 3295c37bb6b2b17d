import Foundation
import Torch

/// Which image of a pair is the network's input.
public enum Direction: String, Sendable, Codable, CaseIterable {
    case AtoB, BtoA
}

/// The files of one split of a dataset, in one of the layouts users bring.
public enum DatasetFiles: Sendable, Equatable {
    /// The same layout with only the entries at `indices`, in that order.
    public func keeping(_ indices: [Int]) -> DatasetFiles {
        switch self {
        case .aligned(let f): .aligned(indices.map { f[$0] })
        case .single(let f): .single(indices.map { f[$0] })
        case .paired(let p): .paired(indices.map { p[$0] })
        }
    }

    /// pix2pix style: each file holds A | B side by side.
    case aligned([String])
    /// Two folders with files matched by stem.
    case paired([(a: String, b: String)])
    /// Inputs only (inference).
    case single([String])

    public var count: Int {
        switch self {
        case .aligned(let f), .single(let f): f.count
        case .paired(let p): p.count
        }
    }

    public static func == (l: DatasetFiles, r: DatasetFiles) -> Bool {
        switch (l, r) {
        case let (.aligned(a), .aligned(b)), let (.single(a), .single(b)): a == b
        case let (.paired(a), .paired(b)): a.count == b.count && zip(a, b).allSatisfy { $0.a == $1.a && $0.b == $1.b }
        default: false
        }
    }
}

/// A problem with a dataset as a whole (layout, missing folders, unmatched files).
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum DatasetLayout {
    static func isImage(_ name: String) -> Bool {
        Image.readableExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    static func isFolder(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    /// Image files directly inside `folder`, sorted by name; hidden files are ignored.
    public static func images(in folder: String) throws -> [String] {
        guard isFolder(folder) else { throw DatasetError("\(folder): \(FileErrorText.missing(folder, what: "folder"))") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw DatasetError("\(folder): cannot list the folder (permission denied?)")
        }
        return names.filter { !$0.hasPrefix(".") && isImage($0) }.sorted().map { folder + "/" + $0 }
    }

    /// Finds a split: `root/split/{A,B}`, `root/{split}A` + `root/{split}B`, `root/split/*`
    /// (aligned), or — when `root` itself holds A/ and B/ or images — `root` as the split.
    public static func discover(root: String, split: String) throws -> DatasetFiles {
        let root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        guard isFolder(root) else { throw DatasetError("\(root): \(FileErrorText.missing(root, what: "dataset folder"))") }
        let splitFolder = root + "/" + split
        if isFolder(splitFolder + "/A") || isFolder(splitFolder + "/B") {
            return try paired(a: splitFolder + "/A", b: splitFolder + "/B")
        }
        if isFolder(root + "/\(split)A") || isFolder(root + "/\(split)B") {
            return try paired(a: root + "/\(split)A", b: root + "/\(split)B")
        }
        if isFolder(splitFolder) {
            let files = try images(in: splitFolder)
            if files.isEmpty { throw DatasetError("\(splitFolder): no images (expected A|B side-by-side images, or A/ and B/ folders)") }
            return .aligned(files)
        }
        if isFolder(root + "/A") || isFolder(root + "/B") { return try paired(a: root + "/A", b: root + "/B") }
        let present = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { isFolder(root + "/" + $0) }.sorted()
        throw DatasetError("\(root): no '\(split)' split (looked for \(split)/, \(split)/A and \(split)/B, \(split)A and \(split)B; found folders: \(present.isEmpty ? "none" : present.joined(separator: ", ")))")
    }

    /// Matches two folders by file stem; unmatched files are an error that lists them.
    public static func paired(a: String, b: String) throws -> DatasetFiles {
        for f in [a, b] where !isFolder(f) { throw DatasetError("\(f): missing folder (paired datasets need both A and B)") }
        let filesA = try images(in: a), filesB = try images(in: b)
        if filesA.isEmpty { throw DatasetError("\(a): no images") }
        if filesB.isEmpty { throw DatasetError("\(b): no images") }
        func stem(_ p: String) -> String { ((p as NSString).lastPathComponent as NSString).deletingPathExtension }
        var byStem: [String: String] = [:]
        for f in filesB {
            if let other = byStem[stem(f)] { throw DatasetError("\(b): two files share the stem '\(stem(f))': \(other), \(f)") }
            byStem[stem(f)] = f
        }
        var pairs: [(a: String, b: String)] = []
        var missing: [String] = []
        var used = Set<String>()
        for f in filesA {
            if let partner = byStem[stem(f)] {
                pairs.append((f, partner))
                used.insert(stem(f))
            } else {
                missing.append((f as NSString).lastPathComponent)
            }
        }
        let orphans = filesB.filter { !used.contains(stem($0)) }.map { ($0 as NSString).lastPathComponent }
        if !missing.isEmpty || !orphans.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) in A without a partner in B (\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : ""))") }
            if !orphans.isEmpty { parts.append("\(orphans.count) in B without a partner in A (\(orphans.prefix(5).joined(separator: ", "))\(orphans.count > 5 ? ", …" : ""))") }
            throw DatasetError("unmatched files: " + parts.joined(separator: "; "))
        }
        return .paired(pairs)
    }

    /// Sketch files for inference: files and folders (their images, sorted) in the given order.
    public static func inputs(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for p in paths {
            if isFolder(p) {
                let found = try images(in: p)
                if found.isEmpty { throw DatasetError("\(p): no images in this folder") }
                out += found
            } else if FileManager.default.fileExists(atPath: p) {
                guard isImage(p) else { throw DatasetError("\(p): not an image file (readable: \(Image.readableExtensions.sorted().joined(separator: ", ")))") }
                out.append(p)
            } else {
                throw DatasetError("\(p): \(FileErrorText.missing(p, what: "file or folder"))")
            }
        }
        return out
    }
}
