import Foundation

/// How images are sized before entering the network (pix2pix's `preprocess` options).
public enum PreprocessMode: String, Sendable, Codable, CaseIterable {
    /// Resize to loadSize × loadSize, then a random cropSize crop (training default: 286 → 256).
    case resizeAndCrop
    /// A random cropSize crop of the original.
    case crop
    /// Scale so the width is cropSize, keeping the aspect ratio.
    case scaleWidth
    /// Keep the size (rounded down to the network's multiple).
    case none
}

public struct PreprocessOptions: Sendable, Codable, Equatable {
    public var mode: PreprocessMode
    public var loadSize: Int
    public var cropSize: Int
    public var flip: Bool
    /// Output sides are made a multiple of this (the generator's total stride).
    public var multiple: Int

    public init(mode: PreprocessMode = .resizeAndCrop, loadSize: Int = 286, cropSize: Int = 256, flip: Bool = true, multiple: Int = 4) {
        self.mode = mode
        self.loadSize = loadSize
        self.cropSize = cropSize
        self.flip = flip
        self.multiple = multiple
    }

    /// pix2pix's load size for a crop size: 286 for 256, scaled alike for other sizes.
    public static func loadSize(forCrop size: Int) -> Int { size + size * 30 / 256 }

    /// Test-time preprocessing: the same size as training, no randomness.
    public static func evaluation(size: Int, multiple: Int = 4) -> PreprocessOptions {
        PreprocessOptions(mode: .resizeAndCrop, loadSize: size, cropSize: size, flip: false, multiple: multiple)
    }

    /// The largest image side training, evaluation and data set building accept: a 4096² RGB
    /// float tensor is 200 MB, and a network's activations are tens of times that.
    public static let maximumSide = 4096

    public func validate() throws {
        guard multiple >= 1 else { throw DatasetError("the size multiple must be at least 1") }
        guard cropSize <= Self.maximumSide, loadSize <= Self.maximumSide else {
            throw DatasetError("image size \(cropSize > Self.maximumSide ? cropSize : loadSize) is larger than \(Self.maximumSide), the largest side this program trains or evaluates on")
        }
        guard cropSize >= multiple, cropSize % multiple == 0 else {
            throw DatasetError("crop size \(cropSize) must be a positive multiple of \(multiple) (the network's stride)")
        }
        if mode == .resizeAndCrop, loadSize < cropSize {
            throw DatasetError("load size \(loadSize) is smaller than the crop size \(cropSize)")
        }
    }

    /// Random choices for one sample, shared by both images of a pair.
    public struct Draw: Sendable, Equatable {
        public var x: Double, y: Double
        public var flip: Bool
        /// `x`, `y` in [0, 1) place the crop from the left/top to the right/bottom.
        public init(x: Double, y: Double, flip: Bool) {
            self.x = x
            self.y = y
            self.flip = flip
        }

        /// The crop in the middle, not flipped: what evaluation, validation and benchmarks read.
        public static let centred = Draw(x: 0.5, y: 0.5, flip: false)
    }

    public func draw<G: RandomNumberGenerator>(using g: inout G) -> Draw {
        Draw(x: Double.random(in: 0 ..< 1, using: &g), y: Double.random(in: 0 ..< 1, using: &g),
             flip: flip && Bool.random(using: &g))
    }

    /// Applies the options to one image with the sample's draw.
    public func apply(_ image: Image, _ d: Draw) throws -> Image {
        var img = image
        switch mode {
        case .resizeAndCrop:
            img = try img.resized(width: loadSize, height: loadSize)
            img = crop(img, d)
        case .crop:
            guard img.width >= cropSize, img.height >= cropSize else {
                throw DatasetError("image of \(img.width)×\(img.height) is smaller than the crop size \(cropSize)")
            }
            img = crop(img, d)
        case .scaleWidth:
            let h = Swift.max(multiple, Int((Double(img.height) * Double(cropSize) / Double(img.width)).rounded()))
            img = try img.resized(width: cropSize, height: h)
            img = try roundedToMultiple(img)
        case .none:
            img = try roundedToMultiple(img)
        }
        return d.flip ? img.flippedHorizontally() : img
    }

    func crop(_ img: Image, _ d: Draw) -> Image {
        let x = Int(d.x * Double(img.width - cropSize + 1)), y = Int(d.y * Double(img.height - cropSize + 1))
        return img.cropped(x: x, y: y, width: cropSize, height: cropSize)
    }

    /// Resizes to the nearest multiple of `multiple` (as pix2pix's make_power_2 does for 4).
    func roundedToMultiple(_ img: Image) throws -> Image {
        func round(_ v: Int) -> Int { Swift.max(multiple, Int((Double(v) / Double(multiple)).rounded()) * multiple) }
        return try img.resized(width: round(img.width), height: round(img.height))
    }
}
