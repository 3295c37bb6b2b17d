import Foundation

extension SyntheticDataset {
    /// One image of a data set, as a line of `manifest.jsonl`.
    public struct Entry: Codable, Sendable, Equatable {
        /// Path relative to the data set folder, e.g. "train/000012_m3.png".
        public let file: String
        /// "train", "val" or "test".
        public let split: String
        /// Scene number, the six digits of the file name.
        public let scene: Int
        /// `SyntheticScene(seed: sceneSeed)` rebuilds the scene.
        public let sceneSeed: UInt64
        /// The mode: palette index, the digit after "_m" in the file name.
        public let palette: Int
        public let paletteName: String
    }

    /// `dataset.json`: what a data set folder holds and how it was made.
    public struct Summary: Codable, Sendable, Equatable {
        public var format = "sketch2real-synthetic-1"
        public var layout = "aligned: each image is the sketch (left, 3-channel grey) beside the photo (right), size × 2·size"
        public var fileNames = "SSSSSS_mK.png: SSSSSS the scene number, K the palette index (the hidden mode)"
        public let count: Int
        public let modes: Int
        public let scenes: Int
        public let size: Int
        public let seed: UInt64
        /// Fractions of scenes asked for.
        public let split: [String: Double]
        /// Images written per split.
        public let images: [String: Int]
        public let palettes: [String]
    }

    public static let splitNames = ["train", "val", "test"]
    public static let manifestName = "manifest.jsonl"
    public static let summaryName = "dataset.json"

    static func manifestLine(_ entry: Entry) -> String {
        // Key order fixed for people reading the file; the values are plain ASCII by construction.
        "{\"file\":\"\(entry.file)\",\"split\":\"\(entry.split)\",\"scene\":\(entry.scene),"
            + "\"sceneSeed\":\(entry.sceneSeed),\"palette\":\(entry.palette),\"paletteName\":\"\(entry.paletteName)\"}"
    }

    /// The entries of a data set folder's manifest, in file order.
    public static func readManifest(folder: String) throws -> [Entry] {
        let path = (folder as NSString).appendingPathComponent(manifestName)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Entry.self, from: Data($0.utf8)) }
    }

    public static func readSummary(folder: String) throws -> Summary {
        let path = (folder as NSString).appendingPathComponent(summaryName)
        return try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
