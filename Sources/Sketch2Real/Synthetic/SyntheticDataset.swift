import Dispatch
import Foundation
import Torch

/// Writes the synthetic landscape data set with known modes, in the pix2pix aligned layout.
///
/// `count` images are `count / modes` scenes × `modes` palettes: every sketch appears once in
/// each palette, which is what makes the one-to-many structure observable (a multimodal model
/// should produce all `modes` colourings of one sketch; a palette classifier measures which it
/// does). Scenes, not images, are assigned to splits, so all colourings of a sketch share a
/// split. Files are `out/{train,val,test}/SSSSSS_mK.png` (scene number, palette index), each
/// the sketch beside the photo; `manifest.jsonl` lists every image and `dataset.json` sums up.
/// Output is a pure function of the options (seed included), whatever the number of threads.
public enum SyntheticDataset {
    /// The seed of scene `scene` of a data set: independent streams per scene, kept to 53 bits
    /// so that every JSON reader holds it exactly.
    public static func sceneSeed(datasetSeed: UInt64, scene: Int) -> UInt64 {
        SplitMix64.mix(datasetSeed ^ SplitMix64.mix(UInt64(scene) &+ 0x5EED)) & ((1 << 53) - 1)
    }

    public static func fileName(scene: Int, palette: Int) -> String {
        String(format: "%06d_m%d.png", scene, palette)
    }

    /// Every image of the data set, scene by scene: the first scenes train, then val, then test.
    public static func plan(_ options: Options) -> [Entry] {
        let counts = options.split.sceneCounts(options.scenes)
        let palettes = SyntheticPalette.first(options.modes)
        return (0 ..< options.scenes).flatMap { scene -> [Entry] in
            let split = scene < counts.train ? "train" : scene < counts.train + counts.validation ? "val" : "test"
            let seed = sceneSeed(datasetSeed: options.seed, scene: scene)
            return palettes.enumerated().map { palette, p in
                Entry(file: split + "/" + fileName(scene: scene, palette: palette), split: split, scene: scene,
                      sceneSeed: seed, palette: palette, paletteName: p.name)
            }
        }
    }

    public struct Progress: Sendable {
        public let written: Int
        public let total: Int
        public let seconds: Double
        public var imagesPerSecond: Double { seconds > 0 ? Double(written) / seconds : 0 }
    }

    /// Writes `count` images: `count / modes` scenes in each of the first `modes` palettes.
    @discardableResult
    public static func write(count: Int, modes: Int, size: Int, outputFolder: String, seed: UInt64 = 0,
                             split: Split = .standard) throws -> Summary {
        try write(Options(count: count, modes: modes, size: size, seed: seed, split: split, outputFolder: outputFolder))
    }

    /// Writes the data set; `progress` is called (from worker threads, one call at a time) after
    /// each scene. Returns the summary written to `dataset.json`.
    @discardableResult
    public static func write(_ options: Options, progress: (@Sendable (Progress) -> Void)? = nil) throws -> Summary {
        try options.validate()
        let folder = options.outputFolder
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if options.overwrite { try removeEarlierRun(in: folder) }
            for split in splitNames {
                try manager.createDirectory(atPath: (folder as NSString).appendingPathComponent(split),
                                            withIntermediateDirectories: true)
            }
        } catch {
            throw SyntheticDatasetError.writeFailed(FileErrorText.text(error))
        }

        let entries = plan(options)
        let modes = options.modes, size = options.size
        let palettes = SyntheticPalette.first(modes)
        let state = WriteState(scenes: options.scenes)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: min(options.jobs, options.scenes)) { _ in
            while let scene = state.nextScene() {
                do {
                    let raster = SceneRaster(scene: SyntheticScene(seed: entries[scene * modes].sceneSeed), size: size)
                    let sketch = Image(pixels: Tensor(raster.sketch(), shape: [size, size, 1])).rgb()
                    for (palette, p) in palettes.enumerated() {
                        let entry = entries[scene * modes + palette]
                        let photo = Image(pixels: Tensor(raster.photo(p), shape: [size, size, 3]))
                        try ImageGrid.joinedHorizontally([sketch, photo])
                            .save(path: (folder as NSString).appendingPathComponent(entry.file))
                    }
                } catch {
                    state.fail(error)
                    return
                }
                state.finished(images: modes) { written in
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    progress?(Progress(written: written, total: entries.count, seconds: seconds))
                }
            }
        }
        if let error = state.error { throw SyntheticDatasetError.writeFailed(String(describing: error)) }

        let counts = options.split.sceneCounts(options.scenes)
        let summary = Summary(
            count: options.count, modes: modes, scenes: options.scenes, size: size, seed: options.seed,
            split: ["train": options.split.train, "val": options.split.validation, "test": options.split.test],
            images: ["train": counts.train * modes, "val": counts.validation * modes, "test": counts.test * modes],
            palettes: palettes.map(\.name))
        do {
            let manifest = entries.map(manifestLine).joined(separator: "\n") + "\n"
            try AtomicFile.write(Data(manifest.utf8), to: (folder as NSString).appendingPathComponent(manifestName))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(summary) + Data("\n".utf8),
                                 to: (folder as NSString).appendingPathComponent(summaryName))
        } catch {
            throw SyntheticDatasetError.writeFailed(String(describing: error))
        }
        return summary
    }

    /// Removes only what a run writes (the split folders' SSSSSS_mK.png files, the manifest and
    /// the summary), so that an overwrite never leaves stale images of a larger earlier run and
    /// never touches anything else a user keeps there.
    static func removeEarlierRun(in folder: String) throws {
        let manager = FileManager.default
        let pattern = try NSRegularExpression(pattern: "^[0-9]{6}_m[0-9]+\\.png$")
        for split in splitNames {
            let path = (folder as NSString).appendingPathComponent(split)
            guard let names = try? manager.contentsOfDirectory(atPath: path) else { continue }
            for name in names where pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil {
                try manager.removeItem(atPath: (path as NSString).appendingPathComponent(name))
            }
        }
        for name in [manifestName, summaryName] {
            let path = (folder as NSString).appendingPathComponent(name)
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
        }
    }
}

/// Work queue and bookkeeping shared by the writer's threads.
private final class WriteState: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let scenes: Int
    private var written = 0
    private(set) var error: Error?

    init(scenes: Int) { self.scenes = scenes }

    /// The next scene to render, or nil when all are taken or a thread has failed.
    func nextScene() -> Int? {
        lock.withLock {
            guard error == nil, next < scenes else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// Counts the images and reports the new total while still holding the lock, so that
    /// reports arrive one at a time and never go backwards.
    func finished(images: Int, report: (Int) -> Void) {
        lock.withLock {
            written += images
            report(written)
        }
    }

    func fail(_ e: Error) {
        lock.withLock { if error == nil { error = e } }
    }
}
