import Foundation

/// One metric of the evaluation protocol as a value: its key in metrics.json, its label in
/// tables, which way is better, and the definition reports print under `term`. Table rows are
/// made from these (`kind(value)`), and a report's definitions are those of the metrics in its
/// table, so adding a metric is one value here and the code that measures it.
public struct MetricKind: Sendable {
    public let key: String
    public let label: String
    public let better: MetricDirection
    /// The heading of its definition; metrics measured together share one (NDB and JSD).
    public let term: String
    public let definition: String

    public func callAsFunction(_ value: Double?, std: Double? = nil, note: String? = nil, isCount: Bool = false) -> Metric {
        Metric(key: key, label: label, value: value, std: std, better: better, note: note, isCount: isCount)
    }

    /// A row without a value: `reason` is shown instead.
    public func unavailable(_ reason: String) -> Metric { .unavailable(key: key, label: label, reason: reason, better: better) }
}

/// Every metric `eval` and `compare` report.
public enum MetricCatalog {
    static let hedFeatures = Evaluator.hedFeatures

    public static let l1 = MetricKind(key: "l1", label: "L1", better: .lower, term: "L1",
        definition: "Mean absolute difference between output and target, both as 8-bit images scaled to [0, 1].")
    public static let psnr = MetricKind(key: "psnr", label: "PSNR (dB)", better: .higher, term: "PSNR",
        definition: "10·log10(1 / MSE) per image on [0, 1] images, averaged over pairs; identical images count as \(Int(PixelMetrics.maximumPSNR)) dB.")
    public static let ssim = MetricKind(key: "ssim", label: "SSIM", better: .higher, term: "SSIM",
        definition: "Mean SSIM per image as scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1), averaged over RGB channels and pairs.")
    public static let lpips = MetricKind(key: "lpips_style_hed_vgg16", label: LPIPSStyleDistance.name, better: .lower, term: "LPIPS-style (HED-VGG16)",
        definition: "LPIPS v0.1's calibrated VGG16 heads (PyPI lpips 0.1.4) on the HED edge detector's VGG16 (relu1_2…relu5_3, channel-unit-normalised, squared differences weighted, spatially averaged, summed). Not LPIPS: the backbone differs from the one the heads were calibrated on; HED's BGR 0–255 mean-subtracted input convention replaces LPIPS's scaling layer.")
    public static let fdHED = MetricKind(key: "fd_hed_vgg16", label: "FD (HED-VGG16)", better: .lower, term: "FD (HED-VGG16)",
        definition: "Fréchet distance between Gaussians fitted to \(hedFeatures) features of outputs and of real targets of the split; float64, trace of the matrix square root from eigendecompositions.")
    public static let kidHED = MetricKind(key: "kid_hed_vgg16", label: "KID (HED-VGG16)", better: .lower, term: "KID (HED-VGG16)",
        definition: "Unbiased squared MMD with the kernel (xᵀy/d + 1)³ on the same features, mean ± std over random subsets (size min(1000, N)), as the usual KID implementation.")

    /// FD and KID on Inception-v3 features: labelled FID only with pytorch-fid's weights.
    static func inception(_ variant: InceptionV3.Variant) -> (fd: MetricKind, kid: MetricKind) {
        let standard = variant == .pytorchFID
        let weights = standard ? "pytorch-fid weights" : "torchvision weights"
        let definition = "On \(Evaluator.inceptionFeatures), with user-supplied weights (\(standard ? "pytorch-fid's FID Inception: comparable to published FID when computed on the same images" : "torchvision's ImageNet Inception-v3: close to but not the standard FID network, which pytorch-fid's 1008-class weights reproduce")); images are fed in [-1, 1] (torchvision's transform_input semantics)."
        return (MetricKind(key: "fd_inception_v3", label: standard ? "FID (Inception-v3, \(weights))" : "FD (Inception-v3, \(weights))",
                           better: .lower, term: "FD/KID (Inception-v3)", definition: definition),
                MetricKind(key: "kid_inception_v3", label: "KID (Inception-v3, \(weights))", better: .lower,
                           term: "FD/KID (Inception-v3)", definition: definition))
    }

    public static let diversity = MetricKind(key: "diversity_lpips_style_hed_vgg16", label: "Diversity: " + LPIPSStyleDistance.name, better: .higher,
        term: "Diversity",
        definition: "BicycleGAN's protocol: samples per sketch with seeded codes, LPIPS-style (HED-VGG16) distance between consecutive samples, averaged; one-to-one models have none.")
    static let ndbDefinition = "Richardson & Weiss 2018: k-means (k-means++ seeding, seeded) on real targets; a bin is different when a two-sided two-proportion z-test rejects equal real and generated proportions at the significance level; NDB counts such bins."
    static func ndb(bins: Int?) -> MetricKind {
        MetricKind(key: "ndb", label: bins.map { "NDB (of \($0) bins)" } ?? "NDB", better: .lower, term: "NDB", definition: ndbDefinition)
    }
    public static let jsd = MetricKind(key: "jsd", label: "JSD (NDB bins)", better: .lower, term: "JSD",
        definition: "Jensen–Shannon divergence (natural log) between the real and generated NDB bin histograms.")
    static let knownModesDefinition = "Synthetic landscapes only: a small CNN trained on rendered ground truth labels each sample's palette; modes reached per sketch = distinct palettes among a sketch's samples ÷ K; KL and JS (natural log) of the palette histogram from uniform."
    public static let modesReached = MetricKind(key: "modes_reached", label: "Modes reached per sketch", better: .higher, term: "Known modes", definition: knownModesDefinition)
    public static let modeKL = MetricKind(key: "mode_kl_uniform", label: "Mode KL from uniform", better: .lower, term: "Known modes", definition: knownModesDefinition)
    public static let modeJS = MetricKind(key: "mode_js_uniform", label: "Mode JS from uniform", better: .lower, term: "Known modes", definition: knownModesDefinition)
    static let edgeDefinition = "Pearson correlation over pixels between the Sobel edge magnitude of the output's luma and its sketch's line strength (darkness, widened by a 5×5 box), one output per distinct sketch; 'with another sketch' pairs each output with the next scene's sketch, the chance level."
    public static let edgeCorrelation = MetricKind(key: "edge_correlation", label: "Edge correlation with its sketch", better: .higher,
                                                   term: "Edge correlation", definition: edgeDefinition)
    public static let edgeCorrelationOther = MetricKind(key: "edge_correlation_other_sketch", label: "Edge correlation with another sketch",
                                                        better: .lower, term: "Edge correlation", definition: edgeDefinition)
    static let nyquistDefinition = "Per image, the fraction of the luma's non-DC spectral power (2-D DFT) within \(ImageStatistics.nyquistBand) bins of the Nyquist frequency along either axis: the pixel-alternating checkerboard transposed convolutions leave; averaged over outputs, and 'vs photos' divides by the same average over the split's targets."
    public static let nyquist = MetricKind(key: "nyquist_power", label: "Nyquist power", better: .lower, term: "Nyquist power", definition: nyquistDefinition)
    public static let nyquistRatio = MetricKind(key: "nyquist_power_vs_photos", label: "Nyquist power ÷ photos'", better: .lower,
                                                term: "Nyquist power", definition: nyquistDefinition)
    static let saturationDefinition = "Mean HSV saturation (max − min) / max over pixels and outputs; 'vs photos' divides by the targets' mean (1 is best)."
    public static let saturation = MetricKind(key: "saturation", label: "Saturation", better: .nearOne, term: "Saturation", definition: saturationDefinition)
    public static let saturationRatio = MetricKind(key: "saturation_vs_photos", label: "Saturation ÷ photos'", better: .nearOne,
                                                   term: "Saturation", definition: saturationDefinition)
    public static let borderRatio = MetricKind(key: "border_ratio", label: "Border ratio", better: .nearOne, term: "Border ratio",
        definition: "Mean absolute change between the first and last two rows and columns, divided by the mean change between all other adjacent rows and columns, summed over outputs (stripes along the border raise it; photos are near 1).")
    public static let bestOfK = MetricKind(key: "best_of_k_l1", label: "Best-of-K L1 per palette", better: .lower, term: "Best-of-K L1",
        definition: "Synthetic landscapes only: for each palette's ground truth of a scene, the smallest L1 between it and any of the model's K outputs for that scene's sketch (K = --samples for multimodal models, 1 for one-to-one models), averaged; low when every palette is drawn faithfully, not merely reached.")

    public static let encodedL1 = MetricKind(key: "encoded_l1", label: "L1 with E's code of the photo", better: .lower, term: "Encoded L1",
        definition: "Models with an encoder E only: L1 (8-bit images in [0, 1]) between the photo and the image drawn from its sketch with E's mean code of that photo, averaged over pairs; below the L1 of a random code when E's code carries the photo's colours.")

    public static let spectralDistance = MetricKind(key: "spectral_distance", label: "Spectral distance to photos", better: .lower,
        term: "Spectral distance",
        definition: "Root mean square over rings of radial frequency (width 1/min(H, W) cycles per pixel, DC left out) of the difference between log10 of the outputs' and the split's photos' mean power of the luma's 2-D DFT in that ring, in decades (power floored at 1e-12): too smooth, too noisy or periodic outputs raise it. Shares no network with any discriminator or loss.")
    public static let dropletShare = MetricKind(key: "droplet_share", label: "Droplet share", better: .lower, term: "Droplet share",
        definition: "Share of outputs whose most extreme local blob — max over positions and σ = 2, 4, 6 px of |difference of Gaussians| of the luma (against 1.6σ; blobs of about 4–16 px) divided by the luma's standard deviation in a Gaussian window of 4σ (+ 0.02), reflected borders — lies above the 95th percentile of the same score over the split's photos (whose own share, about 0.05, is given beside it). Shares no network with any discriminator or loss.")
    public static let c2st = MetricKind(key: "c2st_accuracy", label: "C2ST accuracy (0.5 = like photos)", better: .lower, term: "C2ST",
        definition: "Classifier two-sample test: a 3-layer CNN trained from scratch (seeded, 300 Adam steps, batches of 32, random flips) on half of the outputs and photos (average-pooled to at most 64², split by pair index) tells outputs from photos on the other half, and the halves swap; the mean held-out accuracy. 0.5: indistinguishable; 1: every output told apart. Shares no network with any discriminator or loss; with 72 pairs its standard error is about 0.04.")

    /// Every fixed kind, for looking one up by key.
    static let fixed: [MetricKind] = [l1, psnr, ssim, lpips, fdHED, kidHED, diversity, ndb(bins: nil), jsd, modesReached, modeKL, modeJS,
                                      edgeCorrelation, edgeCorrelationOther, nyquist, nyquistRatio, saturation, saturationRatio, borderRatio, bestOfK, encodedL1,
                                      spectralDistance, dropletShare, c2st]

    /// The definitions of the metrics in `rows`, by term, for a report.
    static func definitions(of rows: [Metric], inception: InceptionV3.Variant?) -> [String: String] {
        var kinds = fixed
        if let inception { kinds += [self.inception(inception).fd, self.inception(inception).kid] }
        let keys = Set(rows.map(\.key))
        return Dictionary(kinds.filter { keys.contains($0.key) }.map { ($0.term, $0.definition) }, uniquingKeysWith: { a, _ in a })
    }
}
