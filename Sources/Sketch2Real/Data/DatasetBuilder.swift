import Foundation
import Torch

/// Turns a folder of photos into an aligned sketch | photo dataset with a manifest.
public struct DatasetBuilder {
    public struct Options: Sendable, Codable, Equatable {
        public var size: Int = 256
        /// Crops taken from each photo.
        public var cropsPerPhoto: Int = 8
        /// Crop side as a fraction of the photo's shorter side, cycled through the crops.
        public var scales: [Double] = [1.0, 0.6, 0.35]
        /// Fractions of photos (not crops) for train, val, test; crops of one photo stay in one split.
        public var split: [Double] = [0.9, 0.05, 0.05]
        public var seed: UInt64 = 0
        public var onBadFile: BadFilePolicy = .skip
        public var maxPixels: Int = 50_000_000

        public init() {}

        public func validate() throws {
            guard size >= 16, size % 4 == 0, size <= PreprocessOptions.maximumSide else {
                throw DatasetError("--size must be a multiple of 4 from 16 to \(PreprocessOptions.maximumSide), got \(size)")
            }
            guard cropsPerPhoto >= 1 else { throw DatasetError("--crops must be at least 1, got \(cropsPerPhoto)") }
            guard !scales.isEmpty, scales.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
                throw DatasetError("--scales must be fractions in (0, 1] of the photo's shorter side, got \(scales)")
            }
            guard split.count == 3, split.allSatisfy({ $0 >= 0 }), abs(split.reduce(0, +) - 1) < 1e-6, split[0] > 0 else {
                throw DatasetError("--split must be three non-negative fractions for train,val,test that add up to 1 (e.g. 0.9,0.05,0.05), got \(split.map { String($0) }.joined(separator: ","))")
            }
        }
    }

    /// One written example, as the manifest records it.
    public struct Entry: Sendable, Codable, Equatable {
        public var file: String
        public var split: String
        public var source: String
        /// x, y, width, height in the source photo's pixels.
        public var crop: [Int]
        public var scale: Double
        public var upscaled: Bool
        public var licence: String?
    }

    public struct Summary: Sendable {
        public var entries: [Entry]
        public var skipped: [String]
        public var photos: [String: String]
    }

    public let options: Options
    public let sketch: (Image) throws -> Image

    public init(options: Options, sketch: @escaping (Image) throws -> Image) throws {
        try options.validate()
        self.options = options
        self.sketch = sketch
    }

    /// Assigns whole photos to splits in a seeded order; every split with a non-zero fraction
    /// gets at least one photo when there are enough.
    public static func assignSplits(_ photos: [String], fractions: [Double], seed: UInt64) -> [String: String] {
        var order = photos.sorted()
        var g = SplitMix64(seed, 0x5350_4C54)
        order.shuffle(using: &g)
        let n = order.count
        var counts = fractions.map { Int((Double(n) * $0).rounded(.down)) }
        for i in 1 ..< 3 where fractions[i] > 0 && counts[i] == 0 && n >= fractions.filter({ $0 > 0 }).count { counts[i] = 1 }
        counts[0] = n - counts[1] - counts[2]
        var result: [String: String] = [:]
        for (i, p) in order.enumerated() {
            result[p] = i < counts[0] ? "train" : i < counts[0] + counts[1] ? "val" : "test"
        }
        return result
    }

    /// Builds the dataset; `progress` is called after each photo with (done, total, photo).
    public func build(photosFolder: String, outputFolder: String,
                      progress: (Int, Int, String) -> Void = { _, _, _ in }) throws -> Summary {
        let photos = try DatasetLayout.images(in: photosFolder)
        if photos.isEmpty { throw DatasetError("\(photosFolder): no photos (readable: \(Image.readableExtensions.sorted().joined(separator: ", ")))") }
        let licences = Self.readLicences(photosFolder)
        let splits = Self.assignSplits(photos, fractions: options.split, seed: options.seed)
        let fm = FileManager.default
        for s in ["train", "val", "test"] {
            try fm.createDirectory(atPath: outputFolder + "/" + s, withIntermediateDirectories: true)
        }
        var entries: [Entry] = []
        var skipped: [String] = []
        for (n, photoPath) in photos.enumerated() {
            let name = (photoPath as NSString).lastPathComponent
            do {
                let photo = try Image.load(path: photoPath, maxPixels: options.maxPixels).rgb()
                let split = splits[photoPath]!
                var g = SplitMix64(options.seed, UInt64(truncatingIfNeeded: name.hashValueStable))
                let stem = Self.safeStem(name)
                var used = Set<[Int]>()
                for c in 0 ..< options.cropsPerPhoto {
                    let scale = options.scales[c % options.scales.count]
                    let shorter = Swift.min(photo.width, photo.height)
                    let side = Swift.max(Swift.min(shorter, options.size), Int(Double(shorter) * scale))
                    // A repeated crop box would write the same pair twice; draw again, and give up
                    // on this crop when the photo leaves too few distinct positions.
                    var box: [Int]?
                    for _ in 0 ..< 10 {
                        let candidate = [Int.random(in: 0 ... (photo.width - side), using: &g),
                                         Int.random(in: 0 ... (photo.height - side), using: &g), side]
                        if used.insert(candidate).inserted { box = candidate; break }
                    }
                    guard let box else { continue }
                    let (x, y) = (box[0], box[1])
                    let crop = try photo.cropped(x: x, y: y, width: side, height: side).resized(width: options.size, height: options.size)
                    let lines = try sketch(crop)
                    let pair = ImageGrid.joinedHorizontally([lines.rgb(), crop])
                    let file = "\(split)/\(stem)_\(String(format: "%03d", c)).png"
                    try pair.save(path: outputFolder + "/" + file)
                    entries.append(Entry(file: file, split: split, source: name, crop: [x, y, side, side], scale: scale,
                                         upscaled: side < options.size, licence: licences[name]))
                }
            } catch {
                if options.onBadFile == .fail { throw error }
                skipped.append("\(error)")
            }
            progress(n + 1, photos.count, name)
        }
        let manifest = entries.map { e -> String in
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try! enc.encode(e), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(manifest.utf8), to: outputFolder + "/manifest.jsonl")
        return Summary(entries: entries, skipped: skipped, photos: splits)
    }

    /// `licenses.json` beside the photos maps file names to licence and attribution text.
    static func readLicences(_ folder: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: folder + "/licenses.json"),
              let map = try? JSONDecoder().decode([String: String].self, from: data) else { return [:] }
        return map
    }

    /// A file-name stem safe on any file system (non-ASCII and separators replaced).
    static func safeStem(_ name: String) -> String {
        let stem = (name as NSString).deletingPathExtension
        let mapped = stem.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "-" || s == "_") ? Character(s) : "_"
        }
        return String(mapped)
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs, unlike `hashValue`.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}

extension ImageGrid {
    /// Images of equal height side by side with no spacing (an aligned A | B file).
    public static func joinedHorizontally(_ images: [Image]) -> Image {
        precondition(Set(images.map(\.height)).count == 1, "images joined side by side must have equal heights")
        let c = images.map(\.channels).max()!
        return Image(pixels: Tensor.cat(images.map { $0.withChannels(c).pixels }, dim: 1))
    }
}
