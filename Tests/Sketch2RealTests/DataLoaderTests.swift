import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class DataLoaderTests: XCTestCase {
    func makeDataset(_ n: Int, size: Int = 16) throws -> (String, PairedDataset) {
        let root = makeTemporaryFolder(self)
        try writeAlignedDataset(root: root, counts: ["train": n], size: size)
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: size + 4, cropSize: size))
        return (root, try PairedDataset(root: root, split: "train", options: options))
    }

    func collect(_ loader: DataLoader, epoch: Int, from: Int = 0) throws -> [Batch] {
        let it = loader.batches(epoch: epoch, from: from)
        var out: [Batch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    func testOrderIsAFunctionOfSeedAndEpoch() throws {
        let (_, ds) = try makeDataset(10)
        let a = try DataLoader(dataset: ds, seed: 3), b = try DataLoader(dataset: ds, seed: 3, workers: 1)
        XCTAssertEqual(a.order(epoch: 2), b.order(epoch: 2))
        XCTAssertNotEqual(a.order(epoch: 2), a.order(epoch: 3))
        XCTAssertNotEqual(a.order(epoch: 2), try DataLoader(dataset: ds, seed: 4).order(epoch: 2))
        XCTAssertEqual(a.order(epoch: 5).sorted(), Array(0 ..< 10))
        XCTAssertEqual(try DataLoader(dataset: ds, shuffle: false).order(epoch: 7), Array(0 ..< 10))
    }

    func testBatchesAreIdenticalWhateverTheThreadCount() throws {
        let (_, ds) = try makeDataset(7)
        let one = try collect(try DataLoader(dataset: ds, batchSize: 3, seed: 1, workers: 1, prefetch: 1), epoch: 0)
        let four = try collect(try DataLoader(dataset: ds, batchSize: 3, seed: 1, workers: 4, prefetch: 8), epoch: 0)
        XCTAssertEqual(one.map(\.input.shape), [[3, 3, 16, 16], [3, 3, 16, 16], [1, 3, 16, 16]])
        XCTAssertEqual(one.map(\.indices), four.map(\.indices))
        for (x, y) in zip(one, four) {
            XCTAssertEqual(x.input.toArray(Float.self), y.input.toArray(Float.self))
            XCTAssertEqual(x.target!.toArray(Float.self), y.target!.toArray(Float.self))
        }
    }

    func testResumeFromAPositionContinuesTheSameEpoch() throws {
        let (_, ds) = try makeDataset(9)
        let loader = try DataLoader(dataset: ds, batchSize: 2, seed: 5)
        let full = try collect(loader, epoch: 1)
        let resumed = try collect(loader, epoch: 1, from: full[1].nextPosition)
        XCTAssertEqual(resumed.map(\.indices), Array(full.dropFirst(2)).map(\.indices))
        XCTAssertEqual(resumed[0].input.toArray(Float.self), full[2].input.toArray(Float.self))
    }

    func testBadFilesFailOrAreSkippedAndCounted() throws {
        let (root, _) = try makeDataset(4)
        _ = FileManager.default.createFile(atPath: root + "/train/001.png", contents: Data("garbage".utf8))
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: 20, cropSize: 16))
        let ds = try PairedDataset(root: root, split: "train", options: options)
        let failing = try DataLoader(dataset: ds, batchSize: 4, shuffle: false)
        XCTAssertThrowsError(try collect(failing, epoch: 0)) {
            XCTAssertEqual("\($0)", "\(root)/train/001.png: not a readable image (unknown format, truncated or corrupt)")
        }
        let skipping = try DataLoader(dataset: ds, batchSize: 4, shuffle: false, onBadFile: .skip)
        let batches = try collect(skipping, epoch: 0)
        XCTAssertEqual(batches.map(\.indices), [[0, 2, 3]])
        XCTAssertEqual(skipping.skipped.map(\.path), [root + "/train/001.png"])
    }

    func testUnequalSizesInOneBatchAreAClearError() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        try ImageGrid.joinedHorizontally([gradientImage(width: 8, height: 8), gradientImage(width: 8, height: 8)]).save(path: root + "/train/a.png")
        try ImageGrid.joinedHorizontally([gradientImage(width: 12, height: 8), gradientImage(width: 12, height: 8)]).save(path: root + "/train/b.png")
        let ds = try PairedDataset(root: root, split: "train", options: DatasetOptions(preprocess: PreprocessOptions(mode: .none, flip: false)))
        XCTAssertThrowsError(try collect(try DataLoader(dataset: ds, batchSize: 2, shuffle: false), epoch: 0)) {
            XCTAssertEqual("\($0)", "images in one batch differ in size ([3, 8, 12], [3, 8, 8]): use batch size 1 or a cropping preprocess mode")
        }
        XCTAssertThrowsError(try DataLoader(dataset: ds, batchSize: 0)) { XCTAssertEqual("\($0)", "batch size must be at least 1, got 0") }
    }

    /// A bad file under the `fail` policy stops every worker before the error reaches the
    /// caller, so a process that exits on it does not race a worker still decoding an image
    /// (that race crashed `train` in about 4 of 10 such exits).
    func testAFailingBatchStopsItsWorkersBeforeThrowing() throws {
        let (root, _) = try makeDataset(40)
        _ = FileManager.default.createFile(atPath: root + "/train/000.png", contents: Data("garbage".utf8))
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: 20, cropSize: 16))
        let ds = try PairedDataset(root: root, split: "train", options: options)
        let loader = try DataLoader(dataset: ds, batchSize: 1, shuffle: false, workers: 4, prefetch: 16)
        let batches = loader.batches(epoch: 0)
        XCTAssertThrowsError(try batches.next())
        XCTAssertEqual(batches.activeWorkers, 0)
    }

    func testAbandonedEpochStopsItsWorkers() throws {
        let (_, ds) = try makeDataset(20)
        let loader = try DataLoader(dataset: ds, batchSize: 1, seed: 0, workers: 2, prefetch: 4)
        do {
            let it = loader.batches(epoch: 0)
            _ = try it.next()
        }
        // A new epoch after an abandoned one works and yields everything.
        XCTAssertEqual(try collect(loader, epoch: 1).count, 20)
    }
}
