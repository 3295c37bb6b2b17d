import Foundation
import Torch

/// What to do with an image that cannot be read or does not fit.
public enum BadFilePolicy: String, Sendable, Codable, CaseIterable {
    /// Stop with the file's error.
    case fail
    /// Leave it out, count it, and report the count at the end.
    case skip
}

/// A batch: N×C×H×W tensors in [-1, 1].
public struct Batch: @unchecked Sendable {
    public var input: Tensor
    public var target: Tensor?
    public var paths: [String]
    public var indices: [Int]
    /// Position in the epoch's order just after this batch (where a resumed run continues).
    public var nextPosition: Int
}

/// Shuffles, decodes, augments and batches on background threads, ahead of training.
///
/// The order of an epoch is a function of (seed, epoch) alone, and each example's random
/// crop and flip of (seed, epoch, index), so results do not depend on thread timing and a
/// resumed run sees exactly the batches the interrupted one would have.
public final class DataLoader: @unchecked Sendable {
    public let dataset: PairedDataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let workers: Int
    public let prefetch: Int
    public let onBadFile: BadFilePolicy
    /// This process's part of each epoch when training data-parallel: rank r of W takes
    /// positions r, r + W, … of the epoch's order (which is cut to a multiple of W, so every rank
    /// takes the same number of steps). (0, 1) for one process.
    public let shard: (rank: Int, count: Int)

    private let lock = NSLock()
    private var skippedFiles: [ImageError] = []

    public init(dataset: PairedDataset, batchSize: Int = 1, shuffle: Bool = true, seed: UInt64 = 0,
                workers: Int = 2, prefetch: Int = 16, onBadFile: BadFilePolicy = .fail, shard: (rank: Int, count: Int) = (0, 1)) throws {
        guard shard.count >= 1, (0 ..< shard.count).contains(shard.rank) else {
            throw DatasetError("shard \(shard.rank) of \(shard.count) does not exist")
        }
        self.shard = shard
        guard batchSize >= 1 else { throw DatasetError("batch size must be at least 1, got \(batchSize)") }
        guard workers >= 1 else { throw DatasetError("loader workers must be at least 1, got \(workers)") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.workers = workers
        self.prefetch = Swift.max(prefetch, batchSize)
        self.onBadFile = onBadFile
    }

    /// Example indices in the order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var indices = Array(0 ..< dataset.count)
        if shuffle {
            var g = SplitMix64(seed, UInt64(epoch), 0x5348_5546)
            indices.shuffle(using: &g)
        }
        return indices
    }

    /// This process's indices in the order of `epoch` (all of them for one process).
    public func shardOrder(epoch: Int) -> [Int] {
        let all = order(epoch: epoch)
        guard shard.count > 1 else { return all }
        let kept = all.count - all.count % shard.count
        return stride(from: shard.rank, to: kept, by: shard.count).map { all[$0] }
    }

    /// Batches per epoch when no file is skipped.
    public var batchesPerEpoch: Int {
        let examples = shard.count > 1 ? dataset.count / shard.count : dataset.count
        return (examples + batchSize - 1) / batchSize
    }

    /// Files left out so far under the `skip` policy.
    public var skipped: [ImageError] { lock.withLock { skippedFiles } }

    /// The batches of `epoch`, starting at `position` in its order (0 for a fresh epoch).
    public func batches(epoch: Int, from position: Int = 0) -> Batches {
        Batches(loader: self, epoch: epoch, order: shardOrder(epoch: epoch), start: position)
    }

    func recordSkip(_ e: ImageError) { lock.withLock { skippedFiles.append(e) } }

    /// Iterates batches; each `next()` throws the first bad file under the `fail` policy.
    public final class Batches: @unchecked Sendable {
        let loader: DataLoader
        let epoch: Int
        let order: [Int]
        private var position: Int
        private let condition = NSCondition()
        private var results: [Int: Result<PairedSample, Error>] = [:]
        private var nextToClaim: Int
        private var consumed: Int
        private var cancelled = false
        private var running = 0

        init(loader: DataLoader, epoch: Int, order: [Int], start: Int) {
            self.loader = loader
            self.epoch = epoch
            self.order = order
            position = Swift.min(Swift.max(0, start), order.count)
            nextToClaim = position
            consumed = position
            running = loader.workers
            for _ in 0 ..< loader.workers {
                // Images are decoded and augmented on the CPU whatever device the networks use.
                let t = Thread { [self] in Torch.withDevice(.cpu) { work() } }
                t.stackSize = 8 << 20
                t.start()
            }
        }

        deinit { cancel() }

        /// Stops the workers and waits until each has left (a worker busy with an image
        /// finishes that one first). Waiting matters on the error paths: a process that exits
        /// while a worker still decodes races the worker against the libraries' teardown.
        /// Also done when the iterator is released.
        public func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            while running > 0 { condition.wait() }
            condition.unlock()
        }

        /// Workers still running (0 once `cancel` has returned).
        public var activeWorkers: Int {
            condition.lock()
            defer { condition.unlock() }
            return running
        }

        private func work() {
            while true {
                condition.lock()
                while !cancelled && nextToClaim < order.count && nextToClaim >= consumed + loader.prefetch { condition.wait() }
                if cancelled || nextToClaim >= order.count {
                    running -= 1
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                let p = nextToClaim
                nextToClaim += 1
                condition.unlock()
                let r = Result { try loader.dataset.sample(order[p], seed: loader.seed, epoch: epoch) }
                condition.lock()
                results[p] = r
                condition.broadcast()
                condition.unlock()
            }
        }

        private func take(_ p: Int) -> Result<PairedSample, Error> {
            condition.lock()
            defer { condition.unlock() }
            while results[p] == nil { condition.wait() }
            let r = results.removeValue(forKey: p)!
            consumed = p + 1
            condition.broadcast()
            return r
        }

        /// The next batch, or nil at the end of the epoch.
        public func next() throws -> Batch? {
            var samples: [PairedSample] = []
            while samples.count < loader.batchSize && position < order.count {
                let r = take(position)
                position += 1
                switch r {
                case .success(let s): samples.append(s)
                case .failure(let e):
                    let fileError = e as? ImageError ?? ImageError(path: loader.dataset.describe(order[position - 1]), reason: "\(e)")
                    if loader.onBadFile == .fail {
                        cancel()
                        throw fileError
                    }
                    loader.recordSkip(fileError)
                }
            }
            if samples.isEmpty { return nil }
            let shapes = Set(samples.map { $0.input.shape })
            guard shapes.count == 1 else {
                cancel()
                throw DatasetError("images in one batch differ in size (\(shapes.map { "\($0)" }.sorted().joined(separator: ", "))): use batch size 1 or a cropping preprocess mode")
            }
            let targets = samples.compactMap(\.target)
            return Batch(input: Tensor.stack(samples.map(\.input)),
                         target: targets.count == samples.count ? Tensor.stack(targets) : nil,
                         paths: samples.map(\.inputPath), indices: samples.map(\.index), nextPosition: position)
        }
    }
}
