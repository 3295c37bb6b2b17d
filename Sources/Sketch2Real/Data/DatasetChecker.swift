import Foundation
import Torch
import NN

/// What `dataset check` finds in one split.
public struct SplitReport: Sendable, Codable, Equatable {
    public var split: String
    public var layout: String
    public var examples: Int = 0
    /// "W×H" of each example (of one half for aligned images) → count.
    public var sizes: [String: Int] = [:]
    /// "grey" / "RGB" → count.
    public var channels: [String: Int] = [:]
    public var unreadable: [String] = []
    public var problems: [String] = []
    /// Groups of files with identical bytes.
    public var duplicates: [[String]] = []
}

public struct DatasetReport: Sendable, Codable, Equatable {
    public var root: String
    public var splits: [SplitReport]
    public var isHealthy: Bool { splits.allSatisfy { $0.unreadable.isEmpty && $0.problems.isEmpty && $0.duplicates.isEmpty } }
}

/// Reads every file of a dataset and reports counts, sizes, channels, duplicates and problems.
public enum DatasetChecker {
    public static let splitNames = ["train", "val", "test"]

    public static func check(root: String, maxPixels: Int = 50_000_000) throws -> DatasetReport {
        guard DatasetLayout.isFolder(root) else { throw DatasetError("\(root): \(FileErrorText.missing(root, what: "dataset folder"))") }
        var reports: [SplitReport] = []
        for split in splitNames {
            let files: DatasetFiles
            do {
                files = try DatasetLayout.discover(root: root, split: split)
            } catch let e as DatasetError {
                if e.message.contains("no '\(split)' split") { continue }
                reports.append(SplitReport(split: split, layout: "unknown", problems: [e.message]))
                continue
            }
            reports.append(checkSplit(split, files, maxPixels: maxPixels))
        }
        if reports.isEmpty {
            throw DatasetError("\(root): no train, val or test split found (expected \(root)/train/…, \(root)/train/A and …/B, or \(root)/trainA and \(root)/trainB)")
        }
        // `train` needs a train split; a data set with only val or test can be evaluated, not trained on.
        if !reports.contains(where: { $0.split == "train" }) {
            reports.insert(SplitReport(split: "train", layout: "missing", problems: [
                "\(root) has no train split (\(root)/train/…, \(root)/train/A and …/B, or \(root)/trainA and \(root)/trainB): `train` cannot use it; `eval` can use its \(reports.map(\.split).joined(separator: " and ")) split",
            ]), at: 0)
        }
        return DatasetReport(root: root, splits: reports)
    }

    static func checkSplit(_ split: String, _ files: DatasetFiles, maxPixels: Int) -> SplitReport {
        var r = SplitReport(split: split, layout: "")
        var byContent: [String: [String]] = [:]
        func read(_ path: String) -> Image? {
            guard let data = FileManager.default.contents(atPath: path) else {
                r.unreadable.append("\(path): \(Image.readFailureReason(path))")
                return nil
            }
            var crc = CRC32()
            data.withUnsafeBytes { crc.update($0) }
            byContent["\(data.count)-\(crc.hex)", default: []].append(path)
            do {
                let img = try Image.decode(data, source: path, maxPixels: maxPixels)
                r.channels[img.channels == 1 ? "grey" : "RGB", default: 0] += 1
                return img
            } catch {
                r.unreadable.append("\(error)")
                return nil
            }
        }
        switch files {
        case .aligned(let list), .single(let list):
            r.layout = { if case .aligned = files { return "aligned A|B" } else { return "single" } }()
            for f in list {
                guard let img = read(f) else { continue }
                if case .aligned = files, img.width % 2 != 0 {
                    r.problems.append("\(f): width \(img.width) is odd: an aligned image must be A | B, two halves of equal width")
                    continue
                }
                let w = { if case .aligned = files { return img.width / 2 } else { return img.width } }()
                r.sizes["\(w)×\(img.height)", default: 0] += 1
                r.examples += 1
            }
        case .paired(let pairs):
            r.layout = "paired folders"
            for (a, b) in pairs {
                let ia = read(a), ib = read(b)
                guard let ia, let ib else { continue }
                if (ia.width, ia.height) != (ib.width, ib.height) {
                    r.problems.append("\(a) is \(ia.width)×\(ia.height) but its partner \(b) is \(ib.width)×\(ib.height)")
                    continue
                }
                r.sizes["\(ia.width)×\(ia.height)", default: 0] += 1
                r.examples += 1
            }
        }
        r.duplicates = byContent.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        return r
    }

    /// Terminal lines for a report.
    public static func lines(_ report: DatasetReport) -> [String] {
        var out = ["dataset \(report.root)"]
        for s in report.splits {
            let sizes = s.sizes.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            let channels = s.channels.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out.append("  \(s.split): \(s.examples) examples (\(s.layout)); sizes: \(sizes.isEmpty ? "-" : sizes); channels: \(channels.isEmpty ? "-" : channels)")
            for u in s.unreadable { out.append("    unreadable: \(u)") }
            for p in s.problems { out.append("    problem: \(p)") }
            for d in s.duplicates { out.append("    duplicates: \(d.joined(separator: " = "))") }
        }
        out.append(report.isHealthy ? "no problems found" : "problems found: see above")
        return out
    }
}
