import Foundation
import Torch

/// One sample of a multimodal model: a 1×C×H×W sketch in [-1, 1] and the `LatentCodes` stream
/// of its code → a 1×3×H×W image in [-1, 1]. The same (sketch, stream) must give the same image.
public typealias StochasticTranslation = (_ sketch: Tensor, _ stream: UInt64) -> Tensor

/// Diversity of a multimodal model by BicycleGAN's protocol (Zhu et al. 2017): for each input,
/// `samplesPerInput` samples with seeds derived from (seed, input index, sample index); the
/// LPIPS-style distance between consecutive samples (samplesPerInput − 1 pairs per input);
/// the mean over all pairs. Higher means more varied outputs. One-to-one models have no
/// sampler and get no number.
public struct SampleDiversity {
    public struct Result: Codable, Sendable, Equatable {
        public let mean: Double
        public let std: Double
        public let inputs: Int
        public let samplesPerInput: Int
        public let pairs: Int
    }

    public let distance: LPIPSStyleDistance
    public let samplesPerInput: Int
    public let seed: UInt64

    public init(distance: LPIPSStyleDistance, samplesPerInput: Int = 20, seed: UInt64 = 0) {
        precondition(samplesPerInput >= 2, "diversity needs at least two samples per input")
        self.distance = distance
        self.samplesPerInput = samplesPerInput
        self.seed = seed
    }

    /// The code stream of sample `sample` of input `input`: `LatentCodes`' code `sample` of
    /// sketch `input`, as `sample`, `demo` and the studio draw it.
    public func sampleSeed(input: Int, sample: Int) -> UInt64 {
        LatentCodes.stream(seed: seed, sketch: input, sample: sample)
    }

    /// Measures `sample` on `inputs` (1×C×H×W each); `each` sees every input's samples, in
    /// order, for whatever else needs them (mode classification, grids, NDB).
    public func measure(inputs: [Tensor], sample: StochasticTranslation,
                        each: (_ input: Int, _ samples: [Tensor]) throws -> Void = { _, _ in }) throws -> Result {
        guard !inputs.isEmpty else { throw EvaluationError("diversity needs at least one input") }
        var distances: [Double] = []
        for (i, x) in inputs.enumerated() {
            var samples: [Tensor] = []
            var previous: [Tensor]?
            for s in 0 ..< samplesPerInput {
                let y = withNoGrad { sample(x, sampleSeed(input: i, sample: s)) }
                samples.append(y)
                let features = distance.features(y)
                if let previous { distances += distance.distance(previous, features) }
                previous = features
            }
            try each(i, samples)
        }
        let mean = distances.reduce(0, +) / Double(distances.count)
        let variance = distances.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(distances.count)
        return Result(mean: mean, std: variance.squareRoot(), inputs: inputs.count, samplesPerInput: samplesPerInput,
                      pairs: distances.count)
    }
}
