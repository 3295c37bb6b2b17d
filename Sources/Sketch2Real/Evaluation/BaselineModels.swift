import Foundation
import Torch

/// Reference "models" for `eval`/`compare --baselines`: a constant mid-grey image and the mean
/// colour of the split's photos everywhere, which ignore the sketch (a model that does no better
/// than them on L1, PSNR and SSIM has learned nothing those numbers can see), and the training
/// photo whose sketch is nearest, a real photograph of another scene (how far the realism
/// measures can fall for a model that has only the training photos to learn from).
public enum BaselineModels {
    /// Mid-grey (0.5 in [0, 1]) everywhere.
    public static func grey() -> EvaluatedModel {
        constant(name: "constant grey", source: "baseline: 0.5 everywhere", colour: [0, 0, 0])
    }

    /// The mean RGB colour of the split's targets at `size`, everywhere.
    public static func meanColour(dataRoot: String, split: String, size: Int) throws -> EvaluatedModel {
        let dataset: PairedDataset
        do {
            dataset = try evaluationPairs(dataRoot: dataRoot, split: split, size: size)
        } catch let error as DatasetError {
            throw EvaluationError("\(dataRoot): \(error.message)")
        }
        var sum = [Double](repeating: 0, count: 3), count = 0
        for i in 0 ..< dataset.count {
            guard let target = try dataset.sample(i, draw: .centred).target else { continue }
            let means = target.to(.float64).mean(dims: [1, 2]).toArray(Double.self)
            for c in 0 ..< 3 { sum[c] += means[c] }
            count += 1
        }
        guard count > 0 else { throw EvaluationError("\(dataRoot)/\(split): no targets to average") }
        let colour = sum.map { Float($0 / Double(count)) }
        let shown = colour.map { String(format: "%.3f", ($0 + 1) / 2) }.joined(separator: ", ")
        return constant(name: "mean colour", source: "baseline: the mean colour of '\(split)' (RGB \(shown) in [0, 1])", colour: colour)
    }

    /// Side of the pooled sketches that `nearestTrainingPhoto` compares.
    public static let retrievalSide = 32
    /// The most training pairs `nearestTrainingPhoto` keeps (evenly spaced), and the most float32
    /// bytes their photos may take (at 128², 256 MB is 1,365 photos; at 256², 341).
    public static let retrievalLimit = 1_024
    public static let retrievalBytes = 256 << 20

    /// For each sketch, the photo of the `split` pair (normally `train`) whose sketch is nearest:
    /// the least squared difference of the two sketches' luma, average-pooled to 32² (so a line a
    /// few pixels off still matches). Photos and sketches are read at `size` the way evaluation
    /// reads its own pairs, and resized to a sketch of another size. Nil when the split does not
    /// exist or has no photos; a split of more pairs than `retrievalLimit` and `retrievalBytes`
    /// allow is thinned evenly.
    public static func nearestTrainingPhoto(dataRoot: String, split: String = "train", size: Int) throws -> EvaluatedModel? {
        guard let dataset = try? evaluationPairs(dataRoot: dataRoot, split: split, size: size) else { return nil }
        let limit = Swift.max(1, Swift.min(retrievalLimit, retrievalBytes / (3 * 4 * size * size)))
        let kept = dataset.count <= limit
            ? Array(0 ..< dataset.count)
            : (0 ..< limit).map { $0 * dataset.count / limit }
        var keys: [Tensor] = [], photos: [Tensor] = [], unreadable = 0
        for i in kept {
            // A candidate that cannot be read is left out (and counted): it is not a pair under test.
            guard let pair = try? dataset.sample(i, draw: .centred) else { unreadable += 1; continue }
            guard let photo = pair.target else { continue }
            keys.append(retrievalKey(pair.input.unsqueezed(0)))
            photos.append(photo)
        }
        guard !photos.isEmpty else { return nil }
        let bank = Tensor.cat(keys, dim: 0)                       // M×K
        let bankNorms = (bank * bank).sum(dims: [1]).unsqueezed(0) // 1×M
        let stacked = Tensor.stack(photos, dim: 0)                // M×3×S×S
        let count = photos.count, skipped = unreadable == 0 ? "" : ", \(unreadable) unreadable left out"
        return EvaluatedModel(
            name: "nearest training photo",
            source: "baseline: the photo of the '\(split)' pair whose sketch is nearest (\(count) pairs\(skipped); luma pooled to \(retrievalSide)²)",
            inputChannels: 3, stride: 1, trainingSize: nil,
            translate: { sketches in
                let query = retrievalKey(sketches)                 // N×K
                // |q − b|² = |q|² − 2 q·b + |b|²; |q|² is the same for every candidate.
                let distance = bankNorms - query.matmul(bank.transposed(0, 1)) * 2.0
                let chosen = stacked.indexSelect(dim: 0, index: distance.argmin(dim: 1))
                let (h, w) = (sketches.size(2), sketches.size(3))
                return chosen.size(2) == h && chosen.size(3) == w ? chosen : chosen.upsampleBilinear(size: Size2(h, w))
            })
    }

    /// N×C×H×W sketches in [-1, 1] → N×(32·32) float64 keys (so that the nearest does not depend
    /// on an autocast's rounding): the luma, average-pooled.
    static func retrievalKey(_ sketches: Tensor) -> Tensor {
        let luma = ImageStatistics.luma(sketches.to(.float64)).unsqueezed(1)
        return luma.adaptiveAvgPool2d(Size2(retrievalSide, retrievalSide)).flatten(startDim: 1)
    }

    /// The `split` of `dataRoot` as RGB pairs at `size`, read as evaluation reads its own (with
    /// `Draw.centred`: the whole image resized, not flipped), for the baselines that look at photos.
    static func evaluationPairs(dataRoot: String, split: String, size: Int) throws -> PairedDataset {
        try PairedDataset(root: dataRoot, split: split,
                          options: DatasetOptions(direction: .AtoB, inputChannels: 3, outputChannels: 3,
                                                  preprocess: .evaluation(size: size, multiple: 1)))
    }

    /// `colour` in [-1, 1] at every pixel of every output.
    static func constant(name: String, source: String, colour: [Float]) -> EvaluatedModel {
        let value = Tensor(colour, shape: [1, 3, 1, 1])
        return EvaluatedModel(name: name, source: source, inputChannels: 3, stride: 1, trainingSize: nil,
                              translate: { x in value.expand([x.size(0), 3, x.size(2), x.size(3)]).contiguous() })
    }
}
