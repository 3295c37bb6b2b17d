import Foundation
import Torch

/// How a dataset is read: which side is the input, channel counts and preprocessing.
public struct DatasetOptions: Sendable, Codable, Equatable {
    public var direction: Direction
    public var inputChannels: Int
    public var outputChannels: Int
    public var preprocess: PreprocessOptions
    /// Larger images are refused with an error naming the file.
    public var maxPixels: Int

    public init(direction: Direction = .AtoB, inputChannels: Int = 3, outputChannels: Int = 3,
                preprocess: PreprocessOptions = PreprocessOptions(), maxPixels: Int = 50_000_000) {
        self.direction = direction
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.preprocess = preprocess
        self.maxPixels = maxPixels
    }

    public func validate() throws {
        for (name, c) in [("input", inputChannels), ("output", outputChannels)] where c != 1 && c != 3 {
            throw DatasetError("\(name) channels must be 1 or 3, got \(c)")
        }
        try preprocess.validate()
    }
}

/// One training example as network tensors: C×H×W in [-1, 1].
public struct PairedSample: @unchecked Sendable {
    public var input: Tensor
    /// Nil for inference-only (single) datasets.
    public var target: Tensor?
    public var inputPath: String
    public var index: Int
}

/// Pairs (or single inputs) read from files, with pix2pix's preprocessing applied identically
/// to both images of a pair.
public final class PairedDataset: @unchecked Sendable {
    public let files: DatasetFiles
    public let options: DatasetOptions

    public init(files: DatasetFiles, options: DatasetOptions) throws {
        try options.validate()
        if files.count == 0 { throw DatasetError("the dataset has no images") }
        self.files = files
        self.options = options
    }

    /// Opens the `split` of the dataset at `root` in any supported layout.
    public convenience init(root: String, split: String, options: DatasetOptions) throws {
        try self.init(files: try DatasetLayout.discover(root: root, split: split), options: options)
    }

    public var count: Int { files.count }

    /// The source file(s) of example `index`, for messages.
    public func describe(_ index: Int) -> String {
        switch files {
        case .aligned(let f), .single(let f): f[index]
        case .paired(let p): "\(p[index].a) + \(p[index].b)"
        }
    }

    /// Reads and preprocesses example `index` with the random choices drawn from (seed, epoch, index).
    public func sample(_ index: Int, seed: UInt64, epoch: Int) throws -> PairedSample {
        var g = SplitMix64(seed, UInt64(epoch), UInt64(index))
        return try sample(index, draw: options.preprocess.draw(using: &g))
    }

    public func sample(_ index: Int, draw: PreprocessOptions.Draw) throws -> PairedSample {
        let (a, b, path) = try images(index)
        var (inImage, outImage) = (a, b)
        if let b, options.direction == .BtoA { (inImage, outImage) = (b, a) }
        if let b, (a.width, a.height) != (b.width, b.height) {
            throw ImageError(path: describe(index), reason: "the two images differ in size (\(a.width)×\(a.height) and \(b.width)×\(b.height))")
        }
        let input: Tensor
        do {
            input = try options.preprocess.apply(inImage, draw).withChannels(options.inputChannels).tensor().squeezed(0)
        } catch let e as DatasetError {
            throw ImageError(path: path, reason: e.message)
        }
        let target = try outImage.map { try options.preprocess.apply($0, draw).withChannels(options.outputChannels).tensor().squeezed(0) }
        return PairedSample(input: input, target: target, inputPath: path, index: index)
    }

    func images(_ index: Int) throws -> (Image, Image?, String) {
        switch files {
        case .single(let f):
            return (try Image.load(path: f[index], maxPixels: options.maxPixels), nil, f[index])
        case .paired(let p):
            let a = try Image.load(path: p[index].a, maxPixels: options.maxPixels)
            let b = try Image.load(path: p[index].b, maxPixels: options.maxPixels)
            return (a, b, options.direction == .AtoB ? p[index].a : p[index].b)
        case .aligned(let f):
            let ab = try Image.load(path: f[index], maxPixels: options.maxPixels)
            guard ab.width % 2 == 0, ab.width >= 2 else {
                throw ImageError(path: f[index], reason: "width \(ab.width) is odd: an aligned image must be A | B, two halves of equal width")
            }
            let half = ab.width / 2
            let a = ab.cropped(x: 0, y: 0, width: half, height: ab.height)
            let b = ab.cropped(x: half, y: 0, width: half, height: ab.height)
            // Sketch halves saved as RGB are still sketches: keep them as read.
            return (a, b, f[index])
        }
    }
}
