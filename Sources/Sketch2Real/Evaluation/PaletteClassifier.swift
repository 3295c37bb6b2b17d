import Foundation
import NN
import Torch

/// A small CNN that tells which palette (the hidden mode of the synthetic landscapes) an image
/// is coloured in. It is trained here, on ground truth rendered by `SyntheticScene` for scenes
/// that are in no data set, and cached, so known-mode coverage needs no labelled outputs.
///
/// Input: N×3×H×W in [-1, 1] with H, W multiples of 32, average-pooled to 32×32. Three stride-2
/// 3×3 convolutions (16, 32, 64 channels) with ReLUs, global average pooling, a linear layer.
public final class PaletteClassifier: Module {
    public let conv1: Conv2d
    public let conv2: Conv2d
    public let conv3: Conv2d
    public let fc: Linear
    public let modes: Int
    public static let inputSize = 32

    public init(modes: Int) {
        precondition(modes >= 2, "a palette classifier needs at least two modes")
        self.modes = modes
        conv1 = Conv2d(3, 16, kernelSize: 3, stride: 2, padding: 1)
        conv2 = Conv2d(16, 32, kernelSize: 3, stride: 2, padding: 1)
        conv3 = Conv2d(32, 64, kernelSize: 3, stride: 2, padding: 1)
        fc = Linear(64, modes)
        super.init()
    }

    /// Logits, N×modes.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let x = Self.prepared(images)
        let h = conv3(conv2(conv1(x).relu()).relu()).relu()
        return fc(h.mean(dims: [2, 3]))
    }

    /// The most likely palette of each image.
    public func classify(_ images: Tensor) -> [Int] {
        withNoGrad { self(images).argmax(dim: 1).toArray(Int64.self).map(Int.init) }
    }

    static func prepared(_ images: Tensor) -> Tensor {
        let rgb = images.size(1) == 1 ? images.expand([images.size(0), 3, images.size(2), images.size(3)]) : images
        return rgb.size(2) == inputSize && rgb.size(3) == inputSize ? rgb : rgb.adaptiveAvgPool2d(Size2(inputSize))
    }
}

extension PaletteClassifier {
    /// How a classifier is trained; part of the cache key.
    public struct Training: Sendable, Equatable {
        public var trainScenes = 160
        public var validationScenes = 40
        public var renderSize = 64
        public var steps = 400
        public var batchSize = 64
        public var learningRate = 2e-3
        public var seed: UInt64 = 0xC1A5_5EED
        public init() {}

        var cacheName: String { "palette-v1-s\(trainScenes)-\(validationScenes)-r\(renderSize)-n\(steps)-b\(batchSize)-seed\(seed)" }
    }

    /// A trained classifier and its accuracy on validation scenes rendered like the training ones.
    public struct Trained {
        public let classifier: PaletteClassifier
        public let validationAccuracy: Double
        public let cachePath: String
        public let fromCache: Bool
    }

    /// `<repository>/.cache/classifiers`, found from this source file.
    public static let defaultCacheFolder: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".cache/classifiers").path

    /// The classifier for the first `modes` catalogue palettes: read from `cacheFolder` when it is
    /// there, else trained (a few seconds) and saved there.
    public static func trained(modes: Int, training: Training = Training(), cacheFolder: String = defaultCacheFolder,
                               progress: (String) -> Void = { _ in }) throws -> Trained {
        let path = cacheFolder + "/\(training.cacheName)-k\(modes).safetensors"
        if FileManager.default.fileExists(atPath: path), let file = try? SafeTensors.load(path: path),
           let accuracy = file.metadata["validation_accuracy"].flatMap(Double.init) {
            let classifier = PaletteClassifier(modes: modes)
            if (try? classifier.loadStateDict(file.dictionary)) != nil {
                classifier.eval()
                classifier.freeze()
                return Trained(classifier: classifier, validationAccuracy: accuracy, cachePath: path, fromCache: true)
            }
        }
        progress("training the palette classifier (\(modes) palettes, \(training.trainScenes) scenes rendered at \(training.renderSize) px)")
        let (classifier, accuracy) = train(modes: modes, training: training)
        try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
        try SafeTensors(tensors: classifier.stateDict().map { ($0, $1) }, metadata: [
            "model": "PaletteClassifier", "modes": String(modes), "validation_accuracy": String(accuracy),
            "palettes": SyntheticPalette.first(modes).map(\.name).joined(separator: ", "),
        ]).save(path: path)
        progress(String(format: "palette classifier: %.1f%% correct on %d held-out renders; cached in %@", accuracy * 100,
                        training.validationScenes * modes, path))
        return Trained(classifier: classifier, validationAccuracy: accuracy, cachePath: path, fromCache: false)
    }

    /// Renders of `scenes` scenes (seeds from `seed`) in every palette: N×3×32×32 and labels.
    static func renders(scenes: Range<Int>, modes: Int, training: Training) -> (images: Tensor, labels: [Int]) {
        var images: [Tensor] = []
        var labels: [Int] = []
        for s in scenes {
            let scene = SyntheticScene(seed: SplitMix64.mix(training.seed ^ SplitMix64.mix(UInt64(s))) & ((1 << 53) - 1))
            for m in 0 ..< modes {
                images.append(scene.render(palette: m, of: modes, size: training.renderSize).tensor())
                labels.append(m)
            }
        }
        return (prepared(Tensor.cat(images, dim: 0)), labels)
    }

    static func train(modes: Int, training: Training) -> (PaletteClassifier, Double) {
        Torch.manualSeed(training.seed)
        let (trainImages, trainLabels) = renders(scenes: 0 ..< training.trainScenes, modes: modes, training: training)
        let validationRange = training.trainScenes ..< training.trainScenes + training.validationScenes
        let (validationImages, validationLabels) = renders(scenes: validationRange, modes: modes, training: training)
        let classifier = PaletteClassifier(modes: modes)
        let optimizer = Adam(classifier.trainableParameters(), learningRate: training.learningRate)
        let n = trainLabels.count
        var g = SplitMix64(training.seed, 0x7EA1)
        for _ in 0 ..< training.steps {
            let batch = (0 ..< Swift.min(training.batchSize, n)).map { _ in Int64(g.unit() * Double(n)) }
            let index = Tensor(batch)
            var x = trainImages.indexSelect(dim: 0, index: index)
            // Generated images are blurrier and noisier than renders: train on both kinds.
            if g.chance(0.5) { x = x.avgPool2d(kernel: 2).upsampleBilinear(scale: 2) }
            if g.chance(0.5) { x = x.flipped([3]) }
            x = x + Tensor.randn(x.shape) * 0.04
            let oneHot = Tensor(batch.flatMap { i in (0 ..< modes).map { $0 == trainLabels[Int(i)] ? Float(1) : 0 } },
                                shape: [batch.count, modes])
            let loss = -(classifier(x).logSoftmax(dim: 1) * oneHot).sum(dims: [1]).mean()
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        classifier.eval()
        classifier.freeze()
        let predicted = classifier.classify(validationImages)
        let correct = zip(predicted, validationLabels).filter { $0 == $1 }.count
        return (classifier, Double(correct) / Double(validationLabels.count))
    }
}
