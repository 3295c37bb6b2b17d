import Foundation

/// How an evaluation runs; saved with every result so that a number can be reproduced.
public struct EvaluationSettings: Codable, Sendable, Equatable {
    /// The split whose pairs are evaluated.
    public var split = "test"
    /// At most this many pairs of the split (nil: all).
    public var maxPairs: Int?
    /// Unreadable pairs: stop with the first one's error, or leave them out (each named) and
    /// evaluate the rest.
    public var onBadFile: BadFilePolicy = .fail
    /// Pairs left out as unreadable under `onBadFile == .skip` (filled in by the evaluator).
    public var skippedFiles: [String] = []
    /// Image side (nil: the first model's training crop size).
    public var size: Int?
    public var batchSize = 8
    /// Seeds subsets, k-means and latent codes.
    public var seed: UInt64 = 0
    /// Samples per sketch for diversity, NDB and known modes of multimodal models (BicycleGAN: 20).
    public var samplesPerInput = 20
    /// Sketches sampled for diversity (BicycleGAN: 100).
    public var diversityInputs = 100
    public var kidSubsets = 100
    public var kidSubsetSize = 1000
    /// NDB bins asked for; fewer are used when the real set is small (see `ndbMinimumPerBin`).
    public var ndbBins = 100
    /// Real images per bin at the least: bins = min(ndbBins, real images ÷ this).
    public var ndbMinimumPerBin = 10
    /// The split whose targets define the NDB bins (the training data, as in the NDB paper);
    /// the evaluated split when it does not exist.
    public var ndbSplit = "train"
    public var ndbMaxReal = 2000
    public var ndbSignificance = 0.05
    /// NDB clusters images downsampled (area average) to this side, RGB in [0, 1].
    public var ndbPixelSize = 16
    /// Sketches shown in the image grids.
    public var gridRows = 8
    /// Samples shown per sketch for multimodal models.
    public var gridSamples = 5
    public var hedWeights: String?
    public var lpipsHeads: String?
    public var inceptionWeights: String?
    public var classifierCache: String?

    public init() {}

    public func validate() throws {
        guard batchSize >= 1, samplesPerInput >= 2, diversityInputs >= 1, kidSubsets >= 1, kidSubsetSize >= 2,
              ndbBins >= 2, ndbMinimumPerBin >= 1, ndbMaxReal >= 2, ndbPixelSize >= 1, gridRows >= 1, gridSamples >= 1
        else { throw EvaluationError("evaluation settings out of range: batch size, counts and sizes must be positive, samples per input at least 2, NDB bins at least 2") }
        guard (0 ..< 1).contains(ndbSignificance), ndbSignificance > 0 else {
            throw EvaluationError("the NDB significance level must lie in (0, 1)")
        }
        if let maxPairs, maxPairs < 2 { throw EvaluationError("evaluate at least 2 pairs (FD and KID need two images)") }
        if let size, size < 16 { throw EvaluationError("image size must be at least 16") }
    }
}
