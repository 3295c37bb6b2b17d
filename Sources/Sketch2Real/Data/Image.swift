import Foundation
import Torch

/// An image in memory: float32 pixels, HWC, values in [0, 1], 1 (grey) or 3 (RGB) channels.
/// Alpha is composited on white when a file is read.
public struct Image: @unchecked Sendable {
    public let pixels: Tensor

    public var height: Int { pixels.size(0) }
    public var width: Int { pixels.size(1) }
    public var channels: Int { pixels.size(2) }

    /// Wraps HWC float32 pixels in [0, 1]; images live on the CPU, where OpenCV reads them.
    public init(pixels: Tensor) {
        precondition(pixels.rank == 3 && [1, 3].contains(pixels.size(2)), "Image pixels are HWC with 1 or 3 channels")
        let onCPU = pixels.device == .cpu ? pixels : pixels.to(.cpu)
        self.pixels = onCPU.dtype == .float32 ? onCPU : onCPU.to(.float32)
    }

    /// A uniform image.
    public static func filled(width: Int, height: Int, channels: Int = 3, value: Double) -> Image {
        Image(pixels: Tensor.full([height, width, channels], value, device: .cpu))
    }

    // MARK: Files

    /// Formats this program reads, by file extension.
    public static let readableExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]
    /// Formats this program writes.
    public static let writableExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]

    /// Reads an image file. Errors name the file and say what is wrong with it.
    /// Images with more than `maxPixels` pixels are refused.
    public static func load(path: String, maxPixels: Int = 50_000_000) throws -> Image {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError(path: path, reason: readFailureReason(path))
        }
        return try decode(data, source: path, maxPixels: maxPixels)
    }

    public static func decode(_ data: Data, source: String = "image data", maxPixels: Int = 50_000_000) throws -> Image {
        if data.isEmpty { throw ImageError(path: source, reason: "empty file (0 bytes)") }
        // PNG and JPEG state their size up front: refuse a decompression bomb before decoding it,
        // and a file cut short, which the decoders would otherwise fill with grey.
        if let header = ImageHeader.read(Array(data.prefix(65_536))) {
            if header.width * header.height > maxPixels {
                throw ImageError(path: source, reason: "\(header.width)×\(header.height) pixels exceeds the limit of \(maxPixels) pixels; resize it first")
            }
            if let missing = Self.missingEnd(of: data, format: header.format) {
                throw ImageError(path: source, reason: "truncated \(header.format == .png ? "PNG" : "JPEG") file (\(missing)); the file was cut short — copy or export it again")
            }
        }
        let decoded: (pixels: Tensor, bitDepth: Int)
        do {
            decoded = try data.withUnsafeBytes { try ImageOps.decode($0) }
        } catch let e as TorchError {
            throw ImageError(path: source, reason: e.message)
        }
        let p = decoded.pixels
        let (h, w, c) = (p.size(0), p.size(1), p.size(2))
        if h * w > maxPixels {
            throw ImageError(path: source, reason: "\(w)×\(h) pixels exceeds the limit of \(maxPixels) pixels")
        }
        switch c {
        case 1, 3: return Image(pixels: p)
        case 4:
            let rgb = p.narrow(dim: 2, start: 0, length: 3), alpha = p.narrow(dim: 2, start: 3, length: 1)
            return Image(pixels: rgb * alpha + (1.0 - alpha))
        case 2:
            let grey = p.narrow(dim: 2, start: 0, length: 1), alpha = p.narrow(dim: 2, start: 1, length: 1)
            return Image(pixels: grey * alpha + (1.0 - alpha))
        default:
            throw ImageError(path: source, reason: "unsupported channel count \(c)")
        }
    }

    /// What is missing at the end of a PNG (its IEND chunk) or JPEG (its end-of-image marker),
    /// looked for among the last bytes since some writers append padding; nil when complete.
    static func missingEnd(of data: Data, format: ImageHeader.Format) -> String? {
        let tail = Array(data.suffix(64))
        switch format {
        case .png:
            let iend: [UInt8] = Array("IEND".utf8)
            let found = tail.count >= 4 && (0 ... tail.count - 4).contains { Array(tail[$0 ..< $0 + 4]) == iend }
            return found ? nil : "no IEND chunk at its end"
        case .jpeg:
            let found = tail.count >= 2 && (0 ... tail.count - 2).contains { tail[$0] == 0xFF && tail[$0 + 1] == 0xD9 }
            return found ? nil : "no end-of-image marker"
        }
    }

    static func readFailureReason(_ path: String) -> String {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) { return FileErrorText.missing(path) }
        if isDir.boolValue { return "is a folder, not an image" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "cannot be read"
    }

    /// Encodes in the format named by `fileExtension` (png, jpg, webp, bmp, tif).
    /// `bitDepth` 16 is for PNG and TIFF; `quality` for JPEG and WebP (above 100: lossless WebP).
    public func encoded(fileExtension: String, quality: Int = 95, bitDepth: Int = 8) throws -> [UInt8] {
        let ext = fileExtension.lowercased()
        guard Self.writableExtensions.contains(ext) else {
            throw ImageError(path: "." + ext, reason: "cannot write this format (use png or jpg)")
        }
        guard bitDepth == 8 || (bitDepth == 16 && ["png", "tif", "tiff"].contains(ext)) else {
            throw ImageError(path: "." + ext, reason: "\(bitDepth)-bit samples cannot be written in this format")
        }
        let maxValue = bitDepth == 16 ? 65535.0 : 255.0
        let samples = withNoGrad { (pixels.clamp(min: 0, max: 1) * maxValue).rounded().to(bitDepth == 16 ? .int32 : .uint8).contiguous() }
        return try ImageOps.encode(samples, fileExtension: "." + ext, quality: quality)
    }

    /// Writes the file atomically; the format follows the extension. Returns the bytes written,
    /// for callers that also pass the encoded picture on (TensorBoard's sample grids).
    @discardableResult
    public func save(path: String, quality: Int = 95, bitDepth: Int = 8) throws -> [UInt8] {
        let ext = URL(fileURLWithPath: path).pathExtension
        do {
            let bytes = try encoded(fileExtension: ext, quality: quality, bitDepth: bitDepth)
            try AtomicFile.write(Data(bytes), to: path)
            return bytes
        } catch let e as ImageError {
            throw ImageError(path: path, reason: e.reason)
        } catch let e as TorchError {
            throw ImageError(path: path, reason: e.message)
        }
    }

    // MARK: Geometry and colour

    /// Resizes with area averaging when shrinking and bicubic interpolation when enlarging.
    /// A width or height below 1 is refused with an error naming both sizes, since it usually
    /// comes from a computed size (a scale, a rounding) rather than from a literal.
    public func resized(width: Int, height: Int) throws -> Image {
        guard width > 0, height > 0 else {
            throw ImageError(path: "\(self.width)×\(self.height) image",
                             reason: "cannot resize to \(width)×\(height): width and height must be at least 1 pixel")
        }
        if width == self.width && height == self.height { return self }
        let shrinking = width * height < self.width * self.height
        let r: Tensor
        do {
            r = try ImageOps.resize(pixels.contiguous(), width: width, height: height,
                                    interpolation: shrinking ? .area : .bicubic)
        } catch let e as TorchError {
            throw ImageError(path: "\(self.width)×\(self.height) image", reason: "cannot resize to \(width)×\(height): \(e.message)")
        }
        return Image(pixels: shrinking ? r : r.clamp(min: 0, max: 1))
    }

    /// The region `x..<x+width`, `y..<y+height`.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= self.width && y + height <= self.height,
                     "crop outside the image")
        return Image(pixels: pixels.narrow(dim: 0, start: y, length: height).narrow(dim: 1, start: x, length: width).contiguous())
    }

    public func flippedHorizontally() -> Image { Image(pixels: pixels.flipped([1])) }

    /// ITU-R BT.601 luma, as OpenCV's RGB→grey conversion.
    public func grayscale() -> Image {
        if channels == 1 { return self }
        let w = Tensor([0.299, 0.587, 0.114] as [Float], shape: [1, 1, 3], device: .cpu)
        return Image(pixels: (pixels * w).sum(dims: [2], keepDim: true))
    }

    public func rgb() -> Image {
        channels == 3 ? self : Image(pixels: pixels.expand([height, width, 3]).contiguous())
    }

    public func withChannels(_ n: Int) -> Image {
        precondition(n == 1 || n == 3, "images have 1 or 3 channels")
        return n == 1 ? grayscale() : rgb()
    }

    // MARK: Network tensors

    /// 1×C×H×W in [-1, 1], on this thread's device (`Torch.currentDevice`).
    public func tensor() -> Tensor {
        (pixels.permute(2, 0, 1).unsqueezed(0) * 2.0 - 1.0).contiguous().onCurrentDevice()
    }

    /// From C×H×W or 1×C×H×W values in [-1, 1] (clamped).
    public init(tensor: Tensor) {
        var t = tensor.detached()
        if t.rank == 4 {
            precondition(t.size(0) == 1, "one image at a time: batch size is \(t.size(0))")
            t = t.select(dim: 0, index: 0)
        }
        precondition(t.rank == 3, "image tensors are C×H×W")
        self.init(pixels: ((t.to(.float32).to(.cpu).clamp(min: -1, max: 1) + 1.0) / 2.0).permute(1, 2, 0).contiguous())
    }
}

/// A problem with one image file, naming the file.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Lays out images in a grid on a white background.
public enum ImageGrid {
    /// `rows[r][c]` placed in cells of the largest width and height; grey images become RGB.
    public static func make(_ rows: [[Image]], spacing: Int = 4) -> Image {
        let all = rows.flatMap { $0 }
        precondition(!all.isEmpty, "a grid needs at least one image")
        let cellW = all.map(\.width).max()!, cellH = all.map(\.height).max()!
        let columns = rows.map(\.count).max()!
        let width = columns * cellW + (columns + 1) * spacing
        let height = rows.count * cellH + (rows.count + 1) * spacing
        let canvas = Tensor.ones([height, width, 3], device: .cpu)
        for (r, row) in rows.enumerated() {
            for (c, image) in row.enumerated() {
                let y = spacing + r * (cellH + spacing), x = spacing + c * (cellW + spacing)
                canvas.narrow(dim: 0, start: y, length: image.height).narrow(dim: 1, start: x, length: image.width)
                    .copyFrom(image.rgb().pixels)
            }
        }
        return Image(pixels: canvas)
    }
}
