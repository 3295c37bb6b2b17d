import Foundation
import Torch

/// Runs every metric of the evaluation protocol on one or more models over the same pairs,
/// seeds and reference statistics, so that numbers in one report compare like with like.
///
/// - Fidelity (L1, PSNR, SSIM, LPIPS-style) and realism (FD and KID) use one output per pair
///   of the split: `translate` for one-to-one models, a sample with a seeded random code for
///   multimodal ones. Realism compares those outputs with the split's targets.
/// - Diversity, NDB/JSD and known-mode coverage use one output per distinct sketch for
///   one-to-one models, or `samplesPerInput` samples for each of the first `diversityInputs`
///   distinct sketches for multimodal ones. On the synthetic landscapes the K colourings of a
///   scene share one sketch, so sketches are grouped by scene through the data set's manifest.
public final class Evaluator {
    public let dataRoot: String
    public private(set) var settings: EvaluationSettings
    public let lpips: LPIPSStyleDistance
    public let inception: InceptionV3?
    let progress: (String) -> Void
    let manifest: [String: SyntheticDataset.Entry]?
    let modes: Int?

    public init(dataRoot: String, settings: EvaluationSettings, progress: @escaping (String) -> Void = { _ in }) throws {
        try settings.validate()
        self.dataRoot = dataRoot
        self.settings = settings
        self.progress = progress
        do {
            lpips = try LPIPSStyleDistance(hedWeightsPath: settings.hedWeights, headsPath: settings.lpipsHeads)
        } catch let error as SketchError {
            throw EvaluationError(error.message)
        }
        inception = try settings.inceptionWeights.map { try InceptionV3.load(path: $0) }
        // Mode coverage needs at least two known modes; a one-palette synthetic set has nothing to cover.
        if let entries = try? SyntheticDataset.readManifest(folder: dataRoot), let summary = try? SyntheticDataset.readSummary(folder: dataRoot),
           summary.modes >= 2 {
            manifest = Dictionary(entries.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
            modes = summary.modes
        } else {
            manifest = nil
            modes = nil
        }
    }

    /// Feature descriptions, for reports.
    public static let hedFeatures = "HED-VGG16 relu5_3, global average pool, 512-d"
    public static let inceptionFeatures = "Inception-v3 pool3 (global average pool after Mixed_7c), 2048-d, input resized to 299×299 (bilinear)"

    // MARK: Data

    struct Split {
        let dataset: PairedDataset
        let pairs: Int
        let size: Int
        /// Pair indices grouped by sketch, in order of first appearance.
        let groups: [[Int]]
        /// Per pair, the true palette (synthetic data only).
        let palettes: [Int]?
    }

    func openSplit(_ models: [EvaluatedModel]) throws -> Split {
        let size = settings.size ?? models.first?.trainingSize ?? 256
        let multiple = models.map(\.stride).reduce(1) { lcm($0, $1) }
        guard size % multiple == 0 else {
            throw EvaluationError("image size \(size) is not a multiple of \(multiple), which the generators need; pass --size")
        }
        let directions = Set(models.map(\.direction))
        guard directions.count <= 1 else {
            throw EvaluationError("the models were trained in different directions (AtoB and BtoA); compare models of one direction")
        }
        let options = DatasetOptions(direction: directions.first ?? .AtoB, inputChannels: 3, outputChannels: 3,
                                     preprocess: .evaluation(size: size, multiple: multiple))
        var dataset: PairedDataset
        do {
            dataset = try PairedDataset(root: dataRoot, split: settings.split, options: options)
        } catch let error as DatasetError {
            throw EvaluationError("\(dataRoot): \(error.message)")
        }
        if case .single = dataset.files { throw EvaluationError("\(dataRoot): the '\(settings.split)' split has no targets; evaluation needs sketch | photo pairs") }
        if settings.onBadFile == .skip { dataset = try readablePairs(of: dataset) }
        let pairs = Swift.min(dataset.count, settings.maxPairs ?? .max)
        guard pairs >= 2 else { throw EvaluationError("the '\(settings.split)' split has \(pairs) pair(s); FD and KID need at least 2") }
        var groups: [[Int]] = []
        var palettes: [Int]?
        if let manifest {
            var byScene: [Int: Int] = [:]
            var found: [Int] = []
            for i in 0 ..< pairs {
                let key = settings.split + "/" + (dataset.describe(i) as NSString).lastPathComponent
                guard let entry = manifest[key] else { found = []; groups = []; break }
                found.append(entry.palette)
                if let g = byScene[entry.scene] { groups[g].append(i) } else { byScene[entry.scene] = groups.count; groups.append([i]) }
            }
            if found.count == pairs { palettes = found }
        }
        if palettes == nil { groups = (0 ..< pairs).map { [$0] } }
        return Split(dataset: dataset, pairs: pairs, size: size, groups: groups, palettes: palettes)
    }

    /// The dataset without the pairs that cannot be read, each named once (`--on-bad-file skip`).
    func readablePairs(of dataset: PairedDataset) throws -> PairedDataset {
        var keep: [Int] = []
        for i in 0 ..< dataset.count {
            do {
                _ = try dataset.sample(i, draw: .centred)
                keep.append(i)
            } catch {
                let text = error is ImageError ? "\(error)" : "\(dataset.describe(i)): \(error)"
                progress("skipped \(text)")
                settings.skippedFiles.append(text)
            }
        }
        guard keep.count < dataset.count else { return dataset }
        guard !keep.isEmpty else { throw EvaluationError("no pair of the '\(settings.split)' split could be read; fix or replace the files") }
        return try PairedDataset(files: dataset.files.keeping(keep), options: dataset.options)
    }

    func pair(_ split: Split, _ i: Int) throws -> (input: Tensor, target: Tensor, caption: String) {
        let s = try split.dataset.sample(i, draw: .centred)
        guard let target = s.target else { throw EvaluationError("\(split.dataset.describe(i)) has no target") }
        return (s.input, target, (split.dataset.describe(i) as NSString).lastPathComponent)
    }

    /// The model's view of 3-channel sketches: grey sketches are luma, as `Image.grayscale`.
    static func adapt(_ sketches: Tensor, channels: Int) -> Tensor {
        guard channels == 1, sketches.size(1) == 3 else { return sketches }
        let w = Tensor([0.299, 0.587, 0.114] as [Float], shape: [1, 3, 1, 1])
        return (sketches * w).sum(dims: [1], keepDim: true)
    }

    static func rgb(_ images: Tensor) -> Tensor {
        images.size(1) == 1 ? images.expand([images.size(0), 3, images.size(2), images.size(3)]).contiguous() : images
    }

    func pixels(_ images: Tensor) -> Tensor {
        PixelMetrics.unitImages(images).adaptiveAvgPool2d(Size2(settings.ndbPixelSize)).flatten(startDim: 1)
    }

    // MARK: Reference statistics, shared by all models

    struct Reference {
        var hed: Tensor
        var inception: Tensor?
        var classifier: PaletteClassifier.Trained?
        var realTargetAccuracy: Double?
        var ndb: StatisticallyDifferentBins?
        var ndbNote: String
    }

    func reference(_ split: Split) throws -> Reference {
        progress("reference: features of \(split.pairs) targets of '\(settings.split)'")
        var hed: [Tensor] = [], inceptionRows: [Tensor] = [], labels: [Int] = []
        var classifier: PaletteClassifier.Trained?
        if let modes, split.palettes != nil {
            classifier = try PaletteClassifier.trained(modes: modes, cacheFolder: settings.classifierCache ?? PaletteClassifier.defaultCacheFolder,
                                                       progress: progress)
        }
        for start in stride(from: 0, to: split.pairs, by: settings.batchSize) {
            let indices = start ..< Swift.min(start + settings.batchSize, split.pairs)
            let targets = Tensor.stack(try indices.map { try pair(split, $0).target }, dim: 0)
            hed.append(withNoGrad { lpips.features(targets)[4].mean(dims: [2, 3]) })
            if let inception { inceptionRows.append(withNoGrad { Self.inceptionFeatures(inception, targets) }) }
            if let classifier { labels += classifier.classifier.classify(targets) }
        }
        var accuracy: Double?
        if let palettes = split.palettes, !labels.isEmpty {
            accuracy = Double(zip(labels, palettes).filter { $0 == $1 }.count) / Double(labels.count)
        }
        let (ndb, note) = try ndbReference(split)
        return Reference(hed: Tensor.cat(hed, dim: 0), inception: inceptionRows.isEmpty ? nil : Tensor.cat(inceptionRows, dim: 0),
                         classifier: classifier, realTargetAccuracy: accuracy, ndb: ndb, ndbNote: note)
    }

    static func inceptionFeatures(_ network: InceptionV3, _ images: Tensor) -> Tensor {
        network.poolFeatures(rgb(images).upsampleBilinear(size: Size2(299), alignCorners: false))
    }

    func ndbReference(_ evaluated: Split) throws -> (StatisticallyDifferentBins?, String) {
        var dataset = evaluated.dataset
        var splitName = settings.split
        if settings.ndbSplit != settings.split,
           let other = try? PairedDataset(root: dataRoot, split: settings.ndbSplit, options: evaluated.dataset.options) {
            if case .single = other.files {} else {
                dataset = settings.onBadFile == .skip ? try readablePairs(of: other) : other
                splitName = settings.ndbSplit
            }
        }
        var indices = Array(0 ..< dataset.count)
        if indices.count > settings.ndbMaxReal {
            var g = SplitMix64(settings.seed, 0x0DB)
            indices = KernelDistance.subset(of: indices.count, count: settings.ndbMaxReal, using: &g).map(Int.init).sorted()
        }
        let bins = Swift.min(settings.ndbBins, indices.count / settings.ndbMinimumPerBin)
        guard bins >= 2 else {
            return (nil, "n/a: \(indices.count) real images in '\(splitName)' are too few for 2 bins of \(settings.ndbMinimumPerBin)")
        }
        progress("reference: NDB bins from \(indices.count) targets of '\(splitName)'")
        var rows: [Tensor] = []
        for start in stride(from: 0, to: indices.count, by: 32) {
            let chunk = indices[start ..< Swift.min(start + 32, indices.count)]
            let targets = try chunk.map { i -> Tensor in
                guard let t = try dataset.sample(i, draw: .centred).target else {
                    throw EvaluationError("\(dataset.describe(i)) has no target")
                }
                return t
            }
            rows.append(pixels(Tensor.stack(targets, dim: 0)))
        }
        let analysis = try StatisticallyDifferentBins(real: Tensor.cat(rows, dim: 0), bins: bins, seed: settings.seed,
                                                      significance: settings.ndbSignificance)
        var note = "\(bins) bins from \(indices.count) targets of '\(splitName)' (\(settings.ndbPixelSize)×\(settings.ndbPixelSize) RGB pixels)"
        if bins < settings.ndbBins { note += "; fewer than the \(settings.ndbBins) asked for, to keep at least \(settings.ndbMinimumPerBin) real images per bin" }
        return (analysis, note)
    }

    // MARK: Evaluation

    /// Evaluates each model on the same pairs; pictures hold the first `gridRows` sketches.
    public func evaluate(_ models: [EvaluatedModel]) throws -> (report: EvaluationReport, pictures: EvaluationPictures) {
        guard !models.isEmpty else { throw EvaluationError("no model to evaluate") }
        let split = try openSplit(models)
        progress("evaluating \(models.count) model(s) on \(split.pairs) pairs (\(split.groups.count) distinct sketches) of \(dataRoot)/\(settings.split) at \(split.size)×\(split.size)")
        let reference = try reference(split)
        var pictures = EvaluationPictures(models: models.map(\.name))
        for g in split.groups.prefix(settings.gridRows) {
            let p = try pair(split, g[0])
            pictures.rows.append(.init(caption: p.caption, input: Image(tensor: p.input), target: Image(tensor: p.target), outputs: []))
        }
        var results: [ModelEvaluation] = []
        for model in models {
            let (result, outputs) = try evaluate(model, split: split, reference: reference)
            results.append(result)
            for r in pictures.rows.indices { pictures.rows[r].outputs.append(outputs[r]) }
        }
        return (report(results, split: split, reference: reference), pictures)
    }

    func evaluate(_ model: EvaluatedModel, split: Split, reference: Reference) throws -> (ModelEvaluation, [[Image]]) {
        let start = Date()
        progress("\(model.name): translating \(split.pairs) pairs")
        let diversity = model.sample.map { _ in SampleDiversity(distance: lpips, samplesPerInput: settings.samplesPerInput, seed: settings.seed) }
        var lp: [Double] = []
        var fidelityRows = PixelFidelity(), looks = LooksLikePhotos(), judges = IndependentJudges(seed: settings.seed)
        var hed: [Tensor] = [], inceptionRows: [Tensor] = []
        var outputsByPair: [Int: Tensor] = [:], inputsByPair: [Int: Tensor] = [:]
        var encodedL1: [Double] = []
        let representatives = Set(split.groups.map { $0[0] })
        for begin in stride(from: 0, to: split.pairs, by: settings.batchSize) {
            let indices = Array(begin ..< Swift.min(begin + settings.batchSize, split.pairs))
            let loaded = try indices.map { try pair(split, $0) }
            let inputs = Tensor.stack(loaded.map(\.input), dim: 0), targets = Tensor.stack(loaded.map(\.target), dim: 0)
            let outputs: Tensor = withNoGrad {
                let x = Self.adapt(inputs, channels: model.inputChannels)
                if let sample = model.sample, let diversity {
                    return Tensor.cat(indices.enumerated().map { k, i in
                        sample(x.narrow(dim: 0, start: k, length: 1), diversity.sampleSeed(input: i, sample: 0))
                    }, dim: 0)
                }
                return model.translate(x)
            }
            let out = Self.rgb(outputs.detached().to(.float32))
            guard out.shape == targets.shape else {
                throw EvaluationError("\(model.name) produced images of shape \(out.shape) for targets of shape \(targets.shape)")
            }
            let ou = PixelMetrics.unitImages(out), tu = PixelMetrics.unitImages(targets)
            try fidelityRows.add(outputs: ou, targets: tu)
            if let encoded = model.encoded {
                let drawn = Self.rgb(withNoGrad { encoded(Self.adapt(inputs, channels: model.inputChannels), targets) }.detached().to(.float32))
                encodedL1 += PixelMetrics.l1(PixelMetrics.unitImages(drawn), tu)
            }
            looks.add(outputs: ou, targets: tu)
            try judges.add(outputs: ou, targets: tu)
            // The LPIPS-style distance and HED features see the 8-bit outputs too.
            let quantised = ou.to(.float32) * 2.0 - 1.0
            let fo = lpips.features(quantised), ft = lpips.features(targets)
            lp += lpips.distance(fo, ft)
            hed.append(fo[4].mean(dims: [2, 3]))
            if let inception { inceptionRows.append(withNoGrad { Self.inceptionFeatures(inception, quantised) }) }
            for (k, i) in indices.enumerated() where representatives.contains(i) {
                outputsByPair[i] = quantised.narrow(dim: 0, start: k, length: 1)
                inputsByPair[i] = inputs.narrow(dim: 0, start: k, length: 1)
            }
        }
        let fidelity = FidelityResult(pairs: split.pairs, l1: mean(fidelityRows.l1), l1Std: std(fidelityRows.l1), psnr: mean(fidelityRows.psnr),
                                      psnrStd: std(fidelityRows.psnr), ssim: mean(fidelityRows.ssim), ssimStd: std(fidelityRows.ssim), lpipsStyle: mean(lp), lpipsStyleStd: std(lp))
        progress("\(model.name): FD and KID")
        var realism = [try realismResult(network: "HED-VGG16", features: Self.hedFeatures, generated: Tensor.cat(hed, dim: 0), real: reference.hed)]
        if let real = reference.inception {
            realism.append(try realismResult(network: "Inception-v3", features: Self.inceptionFeatures, generated: Tensor.cat(inceptionRows, dim: 0), real: real))
        }

        // Per distinct sketch: the samples that NDB, known modes and the grids look at.
        var pictureOutputs: [[Image]] = []
        var generatedPixels: [Tensor] = []
        var labels: [[Int]] = []
        var diversityResult: SampleDiversity.Result?
        var bestOfK: [Double] = []
        let classifier = reference.classifier?.classifier
        if let sample = model.sample, let diversity {
            let groups = Array(split.groups.prefix(settings.diversityInputs))
            progress("\(model.name): \(settings.samplesPerInput) samples for each of \(groups.count) sketches")
            let inputs = try groups.map { Self.adapt(try pair(split, $0[0]).input.unsqueezed(0), channels: model.inputChannels) }
            diversityResult = try diversity.measure(inputs: inputs, sample: sample) { i, samples in
                let batch = Self.rgb(PixelMetrics.unitImages(Tensor.cat(samples, dim: 0)).to(.float32) * 2.0 - 1.0)
                generatedPixels.append(pixels(batch))
                if let classifier { labels.append(classifier.classify(batch)) }
                if split.palettes != nil { bestOfK += try bestL1(batch, targetsOf: groups[i], split) }
                if i < settings.gridRows {
                    pictureOutputs.append(samples.prefix(settings.gridSamples).map { Image(tensor: Self.rgb($0)) })
                }
            }
            // Grids may show more sketches than diversity samples.
            while pictureOutputs.count < Swift.min(settings.gridRows, split.groups.count) {
                let i = pictureOutputs.count
                let x = Self.adapt(try pair(split, split.groups[i][0]).input.unsqueezed(0), channels: model.inputChannels)
                pictureOutputs.append((0 ..< Swift.min(settings.gridSamples, settings.samplesPerInput)).map { k in
                    Image(tensor: Self.rgb(withNoGrad { sample(x, diversity.sampleSeed(input: i, sample: k)) }))
                })
            }
        } else {
            for g in split.groups {
                let out = outputsByPair[g[0]]!
                generatedPixels.append(pixels(out))
                if let classifier { labels.append(classifier.classify(out)) }
                if split.palettes != nil, bestOfK.count < settings.diversityInputs * (split.groups.first?.count ?? 1) {
                    bestOfK += try bestL1(out, targetsOf: g, split)
                }
                if pictureOutputs.count < settings.gridRows { pictureOutputs.append([Image(tensor: out)]) }
            }
        }
        let ndb = reference.ndb?.evaluate(Tensor.cat(generatedPixels, dim: 0))
        let knownModes = try modes.flatMap { k in labels.isEmpty ? nil : try KnownModeCoverage(labels: labels, modes: k) }
        var metrics = Self.metrics(fidelity: fidelity, realism: realism, diversity: diversityResult, multimodal: model.isMultimodal,
                                   ndb: ndb, ndbNote: reference.ndbNote, knownModes: knownModes, inceptionVariant: inception?.variant)
        metrics += sketchFidelity(split: split, outputs: outputsByPair, inputs: inputsByPair)
        metrics += looks.rows()
        progress("\(model.name): spectral distance, droplets, C2ST")
        metrics += judges.rows()
        if !encodedL1.isEmpty {
            metrics.append(MetricCatalog.encodedL1(mean(encodedL1), std: std(encodedL1), note: "the L1 row above uses a random code"))
        }
        if !bestOfK.isEmpty {
            metrics.append(MetricCatalog.bestOfK(mean(bestOfK), note: "\(model.isMultimodal ? settings.samplesPerInput : 1) output(s) per sketch"))
        }
        let seconds = Date().timeIntervalSince(start)
        progress(String(format: "%@: done in %.1f s", model.name, seconds))
        return (ModelEvaluation(name: model.name, source: model.source, multimodal: model.isMultimodal, metrics: metrics, fidelity: fidelity,
                                realism: realism, diversity: diversityResult, ndb: ndb, knownModes: knownModes,
                                configuration: model.configuration, seconds: seconds), pictureOutputs)
    }

    /// For each target of a sketch's group (each palette of a synthetic scene), the smallest L1
    /// (8-bit images in [0, 1]) between it and any of the sketch's outputs.
    func bestL1(_ outputs: Tensor, targetsOf group: [Int], _ split: Split) throws -> [Double] {
        let candidates = PixelMetrics.unitImages(Self.rgb(outputs))
        return try group.map { j in
            let target = PixelMetrics.unitImages(try pair(split, j).target.unsqueezed(0))
            return PixelMetrics.l1(candidates, target.expand(candidates.shape)).min() ?? .nan
        }
    }

    /// Edge correlation of each distinct sketch's output with that sketch, and with the sketch of
    /// the next distinct scene (the chance level).
    func sketchFidelity(split: Split, outputs: [Int: Tensor], inputs: [Int: Tensor]) -> [Metric] {
        let order = split.groups.map { $0[0] }.filter { outputs[$0] != nil && inputs[$0] != nil }
        guard order.count >= 2 else { return [] }
        var own: [Double] = [], other: [Double] = []
        for (k, i) in order.enumerated() {
            let next = order[(k + 1) % order.count]
            own += EdgeCorrelation.perPair(images: outputs[i]!, sketches: inputs[i]!)
            other += EdgeCorrelation.perPair(images: outputs[i]!, sketches: inputs[next]!)
        }
        return [
            MetricCatalog.edgeCorrelation(mean(own), note: "Pearson correlation of the output's edges with its sketch's lines"),
            MetricCatalog.edgeCorrelationOther(mean(other), note: "chance level: the same output against another scene's sketch"),
        ]
    }

    func realismResult(network: String, features: String, generated: Tensor, real: Tensor) throws -> RealismResult {
        let fd = try FrechetDistance.compute(try FeatureStatistics(features: generated), try FeatureStatistics(features: real))
        let kid = try KernelDistance.compute(generated, real, subsets: settings.kidSubsets, subsetSize: settings.kidSubsetSize, seed: settings.seed)
        return RealismResult(network: network, features: features, frechetDistance: fd, kernelDistance: kid,
                             generatedCount: generated.size(0), realCount: real.size(0))
    }
}

func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
func std(_ v: [Double]) -> Double {
    let m = mean(v)
    return v.isEmpty ? .nan : (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot()
}
private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
private func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
