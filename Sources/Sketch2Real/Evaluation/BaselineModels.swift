import Foundation
import Torch

/// Trivial "models" that any trained model must beat, for `eval`/`compare --baselines`: a
/// constant mid-grey image, and the mean colour of the split's photos everywhere. Neither looks
/// at the sketch; a model that does no better than them on L1, PSNR and SSIM has learned
/// nothing those numbers can see.
public enum BaselineModels {
    /// Mid-grey (0.5 in [0, 1]) everywhere.
    public static func grey() -> EvaluatedModel {
        constant(name: "constant grey", source: "baseline: 0.5 everywhere", colour: [0, 0, 0])
    }

    /// The mean RGB colour of the split's targets at `size`, everywhere.
    public static func meanColour(dataRoot: String, split: String, size: Int) throws -> EvaluatedModel {
        let options = DatasetOptions(direction: .AtoB, inputChannels: 3, outputChannels: 3,
                                     preprocess: .evaluation(size: size, multiple: 1))
        let dataset: PairedDataset
        do {
            dataset = try PairedDataset(root: dataRoot, split: split, options: options)
        } catch let error as DatasetError {
            throw EvaluationError("\(dataRoot): \(error.message)")
        }
        var sum = [Double](repeating: 0, count: 3), count = 0
        for i in 0 ..< dataset.count {
            guard let target = try dataset.sample(i, draw: .init(x: 0.5, y: 0.5, flip: false)).target else { continue }
            let means = target.to(.float64).mean(dims: [1, 2]).toArray(Double.self)
            for c in 0 ..< 3 { sum[c] += means[c] }
            count += 1
        }
        guard count > 0 else { throw EvaluationError("\(dataRoot)/\(split): no targets to average") }
        let colour = sum.map { Float($0 / Double(count)) }
        let shown = colour.map { String(format: "%.3f", ($0 + 1) / 2) }.joined(separator: ", ")
        return constant(name: "mean colour", source: "baseline: the mean colour of '\(split)' (RGB \(shown) in [0, 1])", colour: colour)
    }

    /// `colour` in [-1, 1] at every pixel of every output.
    static func constant(name: String, source: String, colour: [Float]) -> EvaluatedModel {
        let value = Tensor(colour, shape: [1, 3, 1, 1])
        return EvaluatedModel(name: name, source: source, inputChannels: 3, stride: 1, trainingSize: nil,
                              translate: { x in value.expand([x.size(0), 3, x.size(2), x.size(3)]).contiguous() })
    }
}
