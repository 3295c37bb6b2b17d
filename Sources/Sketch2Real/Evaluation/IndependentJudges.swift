import Foundation
import NN
import Torch

/// Realism measures that share nothing with any discriminator or pretrained network the
/// toolkit trains with: the radially averaged power spectrum, the most extreme local blob (the
/// "droplets" of normalised feature maps) and a classifier trained from scratch on the split
/// itself (C2ST). FD, KID and the LPIPS-style distance are computed on the HED-VGG16, which the
/// perceptual loss and the projected discriminator also see, so a model trained against that
/// network can flatter them; these three cannot be flattered that way.
///
/// All take N×3×H×W images in [0, 1] (`PixelMetrics.unitImages`).
public enum SpectralStatistics {
    /// Per image, the power of the luma's 2-D DFT (mean removed, divided by H·W) averaged over
    /// rings of radial frequency: bin k holds frequencies with radius in [k, k + 1) / min(H, W)
    /// cycles per pixel, k = 1 … min(H, W) / 2 − 1 (the DC bin and the corners beyond the Nyquist
    /// circle are left out). N × bins, float64.
    public static func radialPower(_ images: Tensor) -> Tensor {
        withNoGrad {
            let x = images.detached().to(.float64)
            let (h, w) = (x.size(2), x.size(3))
            var y = ImageStatistics.luma(x)
            y = y - y.mean(dims: [1, 2], keepDim: true)
            let (ch, sh) = fullBasis(h), (cw, sw) = fullBasis(w)
            // Y = (C − iS) y (C − iS)ᵀ: Re = C y Cᵀ − S y Sᵀ, Im = −(C y Sᵀ + S y Cᵀ).
            let cy = ch.matmul(y), sy = sh.matmul(y)
            let re = cy.matmul(cw.transposed(0, 1)) - sy.matmul(sw.transposed(0, 1))
            let im = cy.matmul(sw.transposed(0, 1)) + sy.matmul(cw.transposed(0, 1))
            let power = (re * re + im * im) / Double(h * w)
            let (rings, counts) = ringMatrix(h, w)
            return power.flatten(startDim: 1).matmul(rings) / counts
        }
    }

    /// Distance between two sets' spectra: the root mean square, over rings, of the difference
    /// of log10 of each set's mean ring power (in decades). A blank image has no power; a floor
    /// of 1e-12 keeps the logarithm finite.
    public static func distance(_ a: Tensor, _ b: Tensor) -> Double {
        let la = a.mean(dims: [0]).clamp(min: 1e-12).log() / M_LN10, lb = b.mean(dims: [0]).clamp(min: 1e-12).log() / M_LN10
        return (la - lb).pow(2).mean().sqrt().item()
    }

    static func fullBasis(_ n: Int) -> (Tensor, Tensor) {
        var c = [Double](repeating: 0, count: n * n), s = c
        for u in 0 ..< n {
            for i in 0 ..< n {
                let a = 2 * Double.pi * Double(u * i % n) / Double(n)
                c[u * n + i] = cos(a)
                s[u * n + i] = sin(a)
            }
        }
        return (Tensor(c, shape: [n, n]), Tensor(s, shape: [n, n]))
    }

    /// (H·W) × bins indicator of each frequency's ring, and the ring sizes (1 × bins).
    static func ringMatrix(_ h: Int, _ w: Int) -> (Tensor, Tensor) {
        let side = Double(Swift.min(h, w)), bins = Swift.max(1, Swift.min(h, w) / 2 - 1)
        var m = [Double](repeating: 0, count: h * w * bins), counts = [Double](repeating: 0, count: bins)
        for u in 0 ..< h {
            for v in 0 ..< w {
                let fu = Double(Swift.min(u, h - u)) / Double(h), fv = Double(Swift.min(v, w - v)) / Double(w)
                let k = Int((fu * fu + fv * fv).squareRoot() * side)
                guard k >= 1, k <= bins else { continue }
                m[(u * w + v) * bins + k - 1] = 1
                counts[k - 1] += 1
            }
        }
        return (Tensor(m, shape: [h * w, bins]), Tensor(counts.map { Swift.max($0, 1) }, shape: [1, bins]))
    }
}

/// The most extreme local blob of an image, against its surroundings: the largest |difference of
/// Gaussians| of its luma over positions and three scales (σ = 2, 4 and 6 px against 1.6σ:
/// blobs of about 4 to 16 px), each divided by the luma's standard deviation over a Gaussian
/// window of 4σ around it (+ 0.02), with reflected borders. A difference of Gaussians answers a
/// textured photograph's edges as strongly as a droplet; divided by the local texture, a lone
/// round spot on a smooth field (the "droplet" that normalised feature maps leave) stands out.
public enum BlobStatistics {
    public static let scales: [Double] = [2, 4, 6]
    public static let ratio = 1.6
    /// Added to the local standard deviation, so flat surroundings do not divide by zero.
    public static let textureFloor = 0.02
    /// The photos' quantile above which an output's score counts as a droplet.
    public static let fenceQuantile = 0.95

    /// Per image, max over positions and scales of |DoG| ÷ (local standard deviation + floor).
    public static func extremeBlob(_ images: Tensor) -> [Double] {
        withNoGrad {
            let y = ImageStatistics.luma(images.detached().to(.float32)).to(.float32).unsqueezed(1)
            var best: Tensor?
            for s in scales {
                let dog = (blur(y, sigma: s) - blur(y, sigma: s * ratio)).abs()
                let mean = blur(y, sigma: 4 * s), meanOfSquares = blur(y * y, sigma: 4 * s)
                let spread = (meanOfSquares - mean * mean).clamp(min: 0).sqrt() + textureFloor
                let score = (dog / spread).flatten(startDim: 1).max(dims: [1])
                best = best.map { Tensor.stack([$0, score], dim: 0).max(dims: [0]) } ?? score
            }
            return best!.to(.float64).toArray(Double.self)
        }
    }

    /// Separable Gaussian blur, radius ⌈3σ⌉ (capped below the image side), reflected borders.
    static func blur(_ y: Tensor, sigma: Double) -> Tensor {
        let r = Swift.max(1, Swift.min(Int((3 * sigma).rounded(.up)), Swift.min(y.size(2), y.size(3)) - 1))
        var k = (-r ... r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = k.reduce(0, +)
        k = k.map { $0 / total }
        let row = Tensor(k.map(Float.init), shape: [1, 1, 1, 2 * r + 1]), column = Tensor(k.map(Float.init), shape: [1, 1, 2 * r + 1, 1])
        let padded = y.padded([r, r, r, r], mode: .reflect)
        return padded.conv2d(weight: row).conv2d(weight: column)
    }

    /// The photos' 95th percentile of the score: about one photo in twenty lies above it, so the
    /// photos' own share is near 0.05 and a model's is compared with that.
    public static func fence(_ photos: [Double]) -> Double { quantile(photos, fenceQuantile) }

    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let v = values.sorted()
        guard !v.isEmpty else { return .nan }
        let p = q * Double(v.count - 1), i = Int(p.rounded(.down)), f = p - Double(i)
        return i + 1 < v.count ? v[i] * (1 - f) + v[i + 1] * f : v[i]
    }

    /// The share of `scores` above `fence`.
    public static func share(_ scores: [Double], above fence: Double) -> Double {
        scores.isEmpty ? .nan : Double(scores.filter { $0 > fence }.count) / Double(scores.count)
    }
}

/// Classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017): a small CNN, trained from scratch
/// on half of the split's outputs and photos, tells them apart on the other half; the two
/// halves swap and the accuracies average. 0.5: outputs and photos cannot be told apart; 1: every
/// one can. Images are average-pooled to at most 64², halves split by pair index (a pair's output
/// and photo fall in the same half), seeded, float32; the process's random state is restored.
public struct TwoSampleClassifierTest {
    public var seed: UInt64 = 0
    public var steps = 300
    public var batchSize = 32
    public var side = 64

    public init(seed: UInt64 = 0) { self.seed = seed }

    /// Held-out accuracy of telling `generated` (label 0) from `real` (label 1), N×3×h×w each.
    public func accuracy(generated: Tensor, real: Tensor) throws -> Double {
        let n = Swift.min(generated.size(0), real.size(0))
        guard n >= 4 else { throw EvaluationError("C2ST needs at least 4 outputs and 4 photos, got \(n)") }
        let saved = Torch.rngState()
        defer { try? Torch.setRNGState(saved) }
        Torch.manualSeed(seed)
        return try Torch.autocast(.fp32) {
            let even = Tensor(stride(from: 0, to: n, by: 2).map(Int64.init), shape: [(n + 1) / 2])
            let odd = Tensor(stride(from: 1, to: n, by: 2).map(Int64.init), shape: [n / 2])
            let g = generated.narrow(dim: 0, start: 0, length: n), r = real.narrow(dim: 0, start: 0, length: n)
            let a = try fold(train: (g.indexSelect(dim: 0, index: even), r.indexSelect(dim: 0, index: even)),
                             test: (g.indexSelect(dim: 0, index: odd), r.indexSelect(dim: 0, index: odd)))
            let b = try fold(train: (g.indexSelect(dim: 0, index: odd), r.indexSelect(dim: 0, index: odd)),
                             test: (g.indexSelect(dim: 0, index: even), r.indexSelect(dim: 0, index: even)))
            return (a.correct + b.correct) / (a.total + b.total)
        }
    }

    func fold(train: (Tensor, Tensor), test: (Tensor, Tensor)) throws -> (correct: Double, total: Double) {
        let x = Tensor.cat([train.0, train.1], dim: 0) * 2.0 - 1.0
        let labels = Tensor.cat([Tensor.zeros([train.0.size(0), 1]), Tensor.ones([train.1.size(0), 1])], dim: 0)
        let net = Sequential(Conv2d(3, 16, kernelSize: 3, stride: 2, padding: 1), LeakyReLU(0.2),
                             Conv2d(16, 32, kernelSize: 3, stride: 2, padding: 1), LeakyReLU(0.2),
                             Conv2d(32, 64, kernelSize: 3, stride: 2, padding: 1), LeakyReLU(0.2))
        let head = Linear(64, 1)
        let optimizer = Adam(net.parameters() + head.parameters(), learningRate: 1e-3)
        func logits(_ images: Tensor) -> Tensor { head(net(images).mean(dims: [2, 3])) }
        let count = x.size(0)
        for _ in 0 ..< steps {
            let pick = Tensor.randint(0, count, [Swift.min(batchSize, count)])
            var batch = x.indexSelect(dim: 0, index: pick)
            // Random horizontal flips: the classifier should judge content, not orientation.
            let flip = (Tensor.rand([batch.size(0), 1, 1, 1]) - 0.5).sign().clamp(min: 0)
            batch = batch * (1.0 - flip) + batch.flipped([3]) * flip
            let loss = logits(batch).bceWithLogits(labels.indexSelect(dim: 0, index: pick))
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        return withNoGrad {
            let fake = logits(test.0 * 2.0 - 1.0), photo = logits(test.1 * 2.0 - 1.0)
            let correct = fake.lt(0).to(.float64).sum().item() + photo.lt(0).logicalNot().to(.float64).sum().item()
            return (correct, Double(test.0.size(0) + test.1.size(0)))
        }
    }
}

/// Accumulates the three independent judges over an evaluation and gives their table rows.
struct IndependentJudges: PairMetricAccumulator {
    /// At most this many outputs and photos are kept for the C2ST (the first ones, in split order).
    static let classifierImages = 512
    var seed: UInt64 = 0
    var spectra: (outputs: [Tensor], targets: [Tensor]) = ([], [])
    var blobs: (outputs: [Double], targets: [Double]) = ([], [])
    var pooled: (outputs: [Tensor], targets: [Tensor]) = ([], [])
    var kept = 0
    var shape: [Int]?

    init(seed: UInt64 = 0) { self.seed = seed }

    mutating func add(outputs: Tensor, targets: Tensor) throws {
        let s = [outputs.size(2), outputs.size(3)]
        if shape == nil { shape = s }
        if shape == s {
            spectra.outputs.append(SpectralStatistics.radialPower(outputs))
            spectra.targets.append(SpectralStatistics.radialPower(targets))
        }
        blobs.outputs += BlobStatistics.extremeBlob(outputs)
        blobs.targets += BlobStatistics.extremeBlob(targets)
        let room = Self.classifierImages - kept
        if room > 0 {
            let n = Swift.min(room, outputs.size(0))
            let side = TwoSampleClassifierTest().side
            func pool(_ t: Tensor) -> Tensor {
                let x = t.narrow(dim: 0, start: 0, length: n).to(.float32)
                return x.size(2) > side || x.size(3) > side ? x.adaptiveAvgPool2d(Size2(Swift.min(side, x.size(2)), Swift.min(side, x.size(3)))) : x
            }
            pooled.outputs.append(pool(outputs))
            pooled.targets.append(pool(targets))
            kept += n
        }
    }

    func rows() -> [Metric] {
        guard !blobs.outputs.isEmpty else { return [] }
        typealias M = MetricCatalog
        var rows: [Metric] = []
        if !spectra.outputs.isEmpty {
            rows.append(M.spectralDistance(SpectralStatistics.distance(Tensor.cat(spectra.outputs, dim: 0), Tensor.cat(spectra.targets, dim: 0))))
        }
        let fence = BlobStatistics.fence(blobs.targets)
        let photos = BlobStatistics.share(blobs.targets, above: fence)
        rows.append(M.dropletShare(BlobStatistics.share(blobs.outputs, above: fence),
                                   note: String(format: "photos of the split: %.3f (fence %.3f)", photos, fence)))
        do {
            let accuracy = try TwoSampleClassifierTest(seed: seed).accuracy(generated: Tensor.cat(pooled.outputs, dim: 0),
                                                                            real: Tensor.cat(pooled.targets, dim: 0))
            rows.append(M.c2st(accuracy, note: "\(kept) outputs and \(kept) photos"))
        } catch {
            rows.append(M.c2st.unavailable("\(error)"))
        }
        return rows
    }
}
