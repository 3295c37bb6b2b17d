import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// The synthetic data set with known modes: determinism, the sketch/palette split of
/// information, the files it writes and the errors it gives.
final class SyntheticTests: XCTestCase {
    func floats(_ image: Image) -> [Float] { image.pixels.contiguous().toArray(Float.self) }

    /// Mean per-pixel Euclidean RGB distance, 0 (equal) to √3.
    func colourDistance(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in stride(from: 0, to: a.count, by: 3) {
            let dr = a[i] - b[i], dg = a[i + 1] - b[i + 1], db = a[i + 2] - b[i + 2]
            sum += Double((dr * dr + dg * dg + db * db).squareRoot())
        }
        return sum / Double(a.count / 3)
    }

    // MARK: Scenes

    func testSameSeedGivesByteIdenticalImages() {
        let a = SyntheticScene(seed: 42), b = SyntheticScene(seed: 42)
        XCTAssertEqual(a.render(palette: 2, of: 4, size: 64).pixels.bytes(), b.render(palette: 2, of: 4, size: 64).pixels.bytes())
        XCTAssertEqual(a.sketch(size: 64).pixels.bytes(), b.sketch(size: 64).pixels.bytes())
    }

    func testDifferentSeedsGiveDifferentScenes() {
        for (s, t) in [(1, 2), (3, 4), (5, 6)] as [(UInt64, UInt64)] {
            let a = floats(SyntheticScene(seed: s).sketch(size: 64)), b = floats(SyntheticScene(seed: t).sketch(size: 64))
            let differing = zip(a, b).filter { abs($0 - $1) > 0.25 }.count
            XCTAssertGreaterThan(Double(differing) / Double(a.count), 0.05, "seeds \(s) and \(t) draw nearly the same sketch")
        }
    }

    func testScenesVary() {
        let scenes = (0 ..< 40).map { SyntheticScene(seed: SyntheticDataset.sceneSeed(datasetSeed: 0, scene: $0)) }
        let lakes = scenes.filter(\.hasLake).count
        XCTAssertTrue((8 ... 32).contains(lakes), "\(lakes) of 40 scenes have a lake")
        XCTAssertGreaterThan(scenes.filter { $0.treeCount > 0 }.count, 30)
    }

    /// Mean colour distance between every two palettes of the same scene, 64², 12 scenes.
    /// Measured: the closest pair over 60 scenes is autumn / misty dawn at 0.169 (their mean
    /// 0.195); among the first four palettes summer day / autumn at 0.196 (mean 0.238); the
    /// farthest, sunset / winter day, 0.685 (mean 0.781).
    func testPalettesDifferClearly() {
        let k = SyntheticPalette.catalogue.count
        var closest = (distance: Double.infinity, pair: "")
        for i in 0 ..< 12 {
            let scene = SyntheticScene(seed: SyntheticDataset.sceneSeed(datasetSeed: 1, scene: i))
            let photos = (0 ..< k).map { floats(scene.render(palette: $0, of: k, size: 64)) }
            for a in 0 ..< k {
                for b in a + 1 ..< k {
                    let d = colourDistance(photos[a], photos[b])
                    if d < closest.distance { closest = (d, "\(SyntheticPalette.names[a]) / \(SyntheticPalette.names[b]), scene \(i)") }
                }
            }
        }
        XCTAssertGreaterThan(closest.distance, 0.15, "closest palettes: \(closest.pair)")
    }

    /// Fractions of dark (< 0.5) and white (> 0.95) sketch pixels. Measured over 40 scenes: at
    /// 64², dark 0.081 to 0.172 (mean 0.122), white at least 0.705; at 256², dark 0.033 to 0.073
    /// (mean 0.049), white at least 0.890.
    func testSketchIsDarkLinesOnWhite() {
        for (size, range, whiteAtLeast) in [(64, 0.04 ... 0.22, 0.65), (256, 0.015 ... 0.12, 0.85)] {
            for i in 0 ..< (size == 64 ? 40 : 10) {
                let sketch = SyntheticScene(seed: SyntheticDataset.sceneSeed(datasetSeed: 2, scene: i)).sketch(size: size)
                XCTAssertEqual(sketch.channels, 1)
                let v = floats(sketch)
                let dark = Double(v.filter { $0 < 0.5 }.count) / Double(v.count)
                let white = Double(v.filter { $0 > 0.95 }.count) / Double(v.count)
                XCTAssertTrue(range.contains(dark), "scene \(i) at \(size)²: line fraction \(dark)")
                XCTAssertGreaterThan(white, whiteAtLeast, "scene \(i) at \(size)²")
                XCTAssertLessThan(v.min()!, 0.05, "lines reach black")
            }
        }
    }

    func testPaletteCatalogue() {
        XCTAssertEqual(SyntheticPalette.names.prefix(4), ["summer day", "autumn", "sunset", "winter night"])
        XCTAssertEqual(Set(SyntheticPalette.names).count, SyntheticPalette.catalogue.count)
        XCTAssertEqual(SyntheticPalette.first(3).map(\.name), ["summer day", "autumn", "sunset"])
    }

    // MARK: Data set

    func testSmallDatasetLayoutManifestAndContent() throws {
        let folder = makeTemporaryFolder(self) + "/synth"
        let seed: UInt64 = 0xFFFF_FFFF_FFFF_FF00  // beyond 2⁵³: must survive JSON exactly
        let options = SyntheticDataset.Options(count: 24, modes: 4, size: 64, seed: seed, outputFolder: folder)
        let summary = try SyntheticDataset.write(options)

        // 6 scenes at 0.9/0.05/0.05: 5.4/0.3/0.3 rounds to 6/0/0, then val and test get one each.
        XCTAssertEqual(summary.images, ["train": 16, "val": 4, "test": 4])
        XCTAssertEqual(try SyntheticDataset.readSummary(folder: folder), summary)
        XCTAssertEqual(summary.seed, seed)
        XCTAssertEqual(summary.scenes, 6)
        XCTAssertEqual(summary.palettes, ["summer day", "autumn", "sunset", "winter night"])

        let entries = try SyntheticDataset.readManifest(folder: folder)
        XCTAssertEqual(entries.count, 24)
        var onDisk: [String] = []
        for split in SyntheticDataset.splitNames {
            onDisk += try FileManager.default.contentsOfDirectory(atPath: folder + "/" + split).map { split + "/" + $0 }
        }
        XCTAssertEqual(onDisk.sorted(), entries.map(\.file).sorted(), "the manifest lists exactly the files written")

        var splitOfScene: [Int: String] = [:]
        for e in entries {
            XCTAssertEqual(e.file, "\(e.split)/\(String(format: "%06d", e.scene))_m\(e.palette).png")
            XCTAssertEqual(e.paletteName, SyntheticPalette.catalogue[e.palette].name)
            XCTAssertEqual(e.sceneSeed, SyntheticDataset.sceneSeed(datasetSeed: seed, scene: e.scene))
            XCTAssertEqual(splitOfScene[e.scene, default: e.split], e.split, "scene \(e.scene) spans splits")
            splitOfScene[e.scene] = e.split
        }
        XCTAssertEqual(Dictionary(grouping: entries, by: \.scene).values.map { $0.map(\.palette).sorted() },
                       Array(repeating: [0, 1, 2, 3], count: 6))

        // Each file is the scene's sketch beside the palette's photo that the manifest names.
        for scene in 0 ..< 6 {
            let group = entries.filter { $0.scene == scene }
            let rebuilt = SyntheticScene(seed: group[0].sceneSeed)
            let sketch = rebuilt.sketch(size: 64).rgb().pixels
            var firstLeft: [UInt8]?
            for e in group {
                let image = try Image.load(path: folder + "/" + e.file)
                XCTAssertEqual(image.pixels.shape, [64, 128, 3])
                let left = image.cropped(x: 0, y: 0, width: 64, height: 64)
                let right = image.cropped(x: 64, y: 0, width: 64, height: 64)
                let leftBytes = left.pixels.bytes()
                if let firstLeft { XCTAssertEqual(leftBytes, firstLeft, "\(e.file): sketch differs between palettes") }
                firstLeft = leftBytes
                XCTAssertLessThan(maxAbsDifference(left.pixels, sketch), 0.6 / 255)
                XCTAssertLessThan(maxAbsDifference(right.pixels, rebuilt.render(palette: e.palette, of: 4, size: 64).pixels), 0.6 / 255)
                let px = floats(right)
                var chroma = 0.0
                for i in stride(from: 0, to: px.count, by: 3) {
                    chroma += Double(abs(px[i] - px[i + 1]) + abs(px[i + 1] - px[i + 2]))
                }
                XCTAssertGreaterThan(chroma / Double(px.count / 3), 0.02, "\(e.file): photo half is grey")
            }
        }
    }

    func testOutputDoesNotDependOnThreads() throws {
        let root = makeTemporaryFolder(self)
        var bytes: [[Data]] = []
        for jobs in [1, 2] {
            let folder = root + "/jobs\(jobs)"
            if jobs == 1 {
                try SyntheticDataset.write(.init(count: 12, modes: 2, size: 32, seed: 9, outputFolder: folder, jobs: 1))
            } else {
                try SyntheticDataset.write(count: 12, modes: 2, size: 32, outputFolder: folder, seed: 9)
            }
            let files = try SyntheticDataset.readManifest(folder: folder).map(\.file)
            bytes.append(try files.map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
                         + [try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.jsonl"))])
        }
        XCTAssertEqual(bytes[0], bytes[1])
    }

    func testOverwriteReplacesOnlyDatasetFiles() throws {
        let folder = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: folder + "/train", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder + "/train/000099_m0.png", contents: Data([1]))
        _ = FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data([2]))
        var options = SyntheticDataset.Options(count: 4, modes: 2, size: 32, outputFolder: folder)
        XCTAssertThrowsError(try SyntheticDataset.write(options)) {
            XCTAssertEqual($0 as? SyntheticDatasetError, .outputNotEmpty(folder))
        }
        options.overwrite = true
        try SyntheticDataset.write(options)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/train/000099_m0.png"), "stale image kept")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/notes.txt"), "unrelated file removed")
        XCTAssertEqual(try SyntheticDataset.readManifest(folder: folder).count, 4)
    }

    // MARK: Validation

    func message(_ options: SyntheticDataset.Options) -> String? {
        do {
            try options.validate()
            return nil
        } catch {
            return error.description
        }
    }

    func testBadOptionsAreExplained() throws {
        let folder = makeTemporaryFolder(self) + "/new"
        func options(count: Int = 40, modes: Int = 4, size: Int = 64, jobs: Int = 2) -> SyntheticDataset.Options {
            .init(count: count, modes: modes, size: size, outputFolder: folder, jobs: jobs)
        }
        XCTAssertNil(message(options()))
        XCTAssertEqual(message(options(count: 3)),
                       "count 3 is smaller than modes 4: every scene is drawn in all 4 palettes, so the count must be at least 4.")
        XCTAssertEqual(message(options(count: 25)),
                       "count 25 is not a multiple of modes 4: every scene is drawn in all 4 palettes; use 24 or 28.")
        XCTAssertEqual(message(options(count: 8_000_004)),
                       "count 8000004 with modes 4 makes 2000001 scenes; at most 1000000 scenes fit the six-digit file names.")
        XCTAssertEqual(message(options(modes: 9)),
                       "modes must be between 1 and 8 (the palettes: summer day, autumn, sunset, winter night, spring morning, winter day, arid summer, misty dawn), got 9.")
        XCTAssertEqual(message(options(modes: 0)),
                       "modes must be between 1 and 8 (the palettes: summer day, autumn, sunset, winter night, spring morning, winter day, arid summer, misty dawn), got 0.")
        XCTAssertEqual(message(options(size: 16)), "size 16 is too small: use at least 32 pixels.")
        XCTAssertEqual(message(options(size: 4096)), "size 4096 is too large: use at most 2048 pixels.")
        XCTAssertEqual(message(options(size: 130)), "size 130 is not a multiple of 4 (networks halve it twice): use 128 or 132.")
        XCTAssertEqual(message(options(size: 33)), "size 33 is not a multiple of 4 (networks halve it twice): use 32 or 36.")
        XCTAssertEqual(message(options(jobs: 0)), "jobs must be at least 1, got 0.")

        let file = makeTemporaryFolder(self) + "/file.png"
        _ = FileManager.default.createFile(atPath: file, contents: Data([0]))
        XCTAssertEqual(message(.init(count: 4, modes: 4, size: 32, outputFolder: file)),
                       "output \(file) is a file, not a folder: choose a folder path.")
        let full = makeTemporaryFolder(self)
        _ = FileManager.default.createFile(atPath: full + "/x", contents: Data([0]))
        XCTAssertEqual(message(.init(count: 4, modes: 4, size: 32, outputFolder: full)),
                       "output folder \(full) is not empty: choose a new or empty folder, or allow overwriting to replace the data set there.")
        XCTAssertNil(message(.init(count: 4, modes: 4, size: 32, outputFolder: full, overwrite: true)))
    }

    func testSplitParsingAndValidation() throws {
        XCTAssertEqual(try SyntheticDataset.Split(parsing: "0.8, 0.1,0.1"), .init(train: 0.8, validation: 0.1, test: 0.1))
        for text in ["0.9,0.1", "a,b,c", "0.9,0.05,0.05,0", "", "0.9,,0.1", "nan,0,0"] {
            XCTAssertThrowsError(try SyntheticDataset.Split(parsing: text)) {
                XCTAssertEqual(($0 as? SyntheticDatasetError)?.description,
                               "split \"\(text)\" is not three comma-separated fractions train,val,test, such as 0.9,0.05,0.05.")
            }
        }
        func message(_ split: SyntheticDataset.Split) -> String? {
            self.message(.init(count: 4, modes: 4, size: 32, split: split, outputFolder: makeTemporaryFolder(self) + "/o"))
        }
        XCTAssertEqual(message(.init(train: 0.9, validation: 0.2, test: 0.1)),
                       "split 0.9,0.2,0.1 adds up to 1.2, not 1: give fractions of the scenes, such as 0.9,0.05,0.05.")
        XCTAssertEqual(message(.init(train: 1.1, validation: -0.1, test: 0)),
                       "split 1.1,-0.1,0 has a negative fraction: each of train,val,test must be 0 or more.")
        XCTAssertEqual(message(.init(train: 0, validation: 0.5, test: 0.5)),
                       "split 0,0.5,0.5 leaves nothing to train on: the train fraction must be above 0.")
    }

    func testScenesPerSplit() {
        let standard = SyntheticDataset.Split.standard
        XCTAssertTrue(standard.sceneCounts(1000) == (900, 50, 50))
        XCTAssertTrue(standard.sceneCounts(250) == (225, 13, 12))
        XCTAssertTrue(standard.sceneCounts(6) == (4, 1, 1))
        XCTAssertTrue(standard.sceneCounts(2) == (2, 0, 0), "too few scenes to give every split one")
        XCTAssertTrue(SyntheticDataset.Split(train: 1, validation: 0, test: 0).sceneCounts(10) == (10, 0, 0))
        XCTAssertTrue(SyntheticDataset.Split(train: 0.5, validation: 0.25, test: 0.25).sceneCounts(6) == (3, 2, 1))
    }
}
