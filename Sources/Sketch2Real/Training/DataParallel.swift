import Foundation
import NN
import Torch

/// Data-parallel training over the ranks of a process group, with PyTorch DDP's semantics:
/// every rank starts from rank 0's weights, reads its own shard of each epoch (rank r takes
/// positions r, r + W, … of the one-process order, so the ranks together see one process's
/// batches of W·B), and averages every gradient over the ranks before each optimiser step, in
/// buckets of about 25 MB. Batch norm would see only its rank's examples, so it is refused.
public final class DataParallel {
    public let group: ProcessGroup
    /// PyTorch DDP's default bucket size (`bucket_cap_mb` 25).
    public static let bucketBytes = 25 << 20
    /// The largest gradient bucket (`--bucket-mb`).
    public let gradientBucketBytes: Int
    /// The first failed collective (a rank died or hung past the timeout).
    private(set) var failure: Error?

    /// Start each bucket's all-reduce during backward (DDP's overlap); false: all of them after.
    public let overlap: Bool
    /// Reducers by the set of networks whose gradients they average (one per optimiser step).
    private var reducers: [[ObjectIdentifier]: GradientReducer] = [:]
    /// Communication measured so far: seconds spent waiting for all-reduces after backward
    /// (with overlap: only what backward did not hide), and the optimiser steps it covers.
    private(set) var communicationSeconds = 0.0
    private(set) var reductions = 0

    public init(group: ProcessGroup, overlap: Bool = true, bucketBytes: Int = DataParallel.bucketBytes) {
        (self.group, self.overlap, gradientBucketBytes) = (group, overlap, bucketBytes)
    }

    public var rank: Int { group.rank }
    public var worldSize: Int { group.worldSize }
    public var isLeader: Bool { group.rank == 0 }

    /// Refuses what cannot be trained data-parallel as this implementation does it.
    static func check(_ config: TrainingConfig) throws {
        let used: [NormKind] = {
            var n = [config.discriminator.norm]
            switch config.model.family.generator.name {
            case "sragan": n.append(config.sragan.norm)
            case "pix2pix": n.append(config.pix2pix.norm)
            default: n.append(config.latentUNet.norm)
            }
            if config.model.usesEncoder { n.append(config.encoder.norm) }
            return n
        }()
        if used.contains(.batch) {
            throw ModelError("batch norm is not synchronised across ranks, so each rank would normalise by its own few examples; train with --norm instance (or layer) when distributed")
        }
    }

    /// Tensors in buckets of at most `bucketBytes`, one dtype per bucket, in the given order.
    static func buckets(_ tensors: [Tensor], bucketBytes: Int = DataParallel.bucketBytes) -> [[Tensor]] {
        var out: [[Tensor]] = []
        var current: [Tensor] = [], bytes = 0
        for t in tensors {
            let size = t.count * t.dtype.byteSize
            if !current.isEmpty && (bytes + size > bucketBytes || current[0].dtype != t.dtype) {
                out.append(current)
                (current, bytes) = ([], 0)
            }
            current.append(t)
            bytes += size
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Every rank's weights and buffers become rank 0's.
    func broadcastState(_ networks: [String: Module]) throws {
        for (_, network) in networks.sorted(by: { $0.key < $1.key }) {
            for bucket in Self.buckets(network.stateDict().map(\.1)) { try group.broadcast(bucket, root: 0) }
        }
    }

    /// `loss.backward()`, after which every gradient of `modules` is its mean over the ranks.
    /// With `overlap`, buckets are reduced while backward still runs; otherwise after it. A
    /// failure is kept for the loop to report (a training step cannot throw).
    func backward(_ loss: Tensor, averaging modules: [Module?]) {
        let networks = modules.compactMap { $0 }
        guard worldSize > 1, failure == nil else { loss.backward(); return }
        guard overlap else {
            loss.backward()
            let start = Date()
            averageGradients(networks)
            record(Date().timeIntervalSince(start))
            return
        }
        do {
            // One reducer per set of networks; a network frozen or unfrozen since (another set of
            // trainable parameters) gets a new one, the same on every rank.
            let key = networks.map(ObjectIdentifier.init)
            let parameters = networks.flatMap { $0.trainableParameters() }
            let reducer: GradientReducer
            if let r = reducers[key], r.parameters.count == parameters.count {
                reducer = r
            } else {
                reducers[key] = nil
                reducer = try GradientReducer(group: group, parameters: parameters, bucketBytes: gradientBucketBytes)
                reducers[key] = reducer
            }
            try reducer.begin()
            loss.backward()
            record(try reducer.finish())
        } catch {
            failure = error
        }
    }

    private func record(_ seconds: Double) {
        communicationSeconds += seconds
        reductions += 1
    }

    /// Every gradient of `modules` becomes its mean over the ranks, bucket by bucket after
    /// backward (the path without overlap).
    func averageGradients(_ modules: [Module]) {
        let grads = modules.flatMap { $0.trainableParameters().compactMap(\.grad) }
        do {
            for bucket in Self.buckets(grads, bucketBytes: gradientBucketBytes) {
                try group.allReduceSum(bucket)
                for g in bucket { g.mulInPlace(1 / Double(worldSize)) }
            }
        } catch {
            failure = error
        }
    }

    /// The mean of each value over the ranks (for logs and the non-finite check), and whether any
    /// rank asked to stop: every rank then takes the same decisions at the same step.
    func agree(losses: [String: Double], stop: Bool) throws -> (losses: [String: Double], stop: Bool) {
        let keys = losses.keys.sorted()
        let t = Tensor(keys.map { losses[$0]! } + [stop ? 1 : 0], shape: [keys.count + 1]).to(.float64)
        try group.allReduceSum([t])
        let v = t.toArray(Double.self)
        var mean: [String: Double] = [:]
        for (i, k) in keys.enumerated() { mean[k] = v[i] / Double(worldSize) }
        return (mean, v[keys.count] > 0)
    }
}
