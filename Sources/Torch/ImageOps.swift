import CTorch

/// OpenCV operations on images held in tensors (HW or HWC, channels last). Unlike tensor ops
/// these throw: they sit at the boundary where user files come in.
public enum ImageOps {
    public enum Interpolation: Int32, Sendable { case nearest = 0, bilinear = 1, bicubic = 2, area = 3 }

    static func checked(_ h: CTTensor?) throws -> Tensor {
        guard let h else { throw TorchError(takeLastError()) }
        return Tensor(handle: h)
    }

    /// Decodes an encoded image into float32 HWC in [0, 1]: 1 (grey), 3 (RGB) or 4 (RGBA) channels.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> (pixels: Tensor, bitDepth: Int) {
        var depth: Int32 = 0
        let t = try checked(ct_image_decode(bytes.baseAddress, bytes.count, &depth))
        return (t.rank == 2 ? t.unsqueezed(2) : t, Int(depth))
    }

    /// Encodes uint8 HWC pixels (int32 holding 0…65535 for 16-bit PNG/TIFF) in the format of `fileExtension` (".png", ".jpg", ".webp", ".bmp", ".tif").
    public static func encode(_ pixels: Tensor, fileExtension: String, quality: Int = 95) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        let status = fileExtension.withCString { ct_image_encode(pixels.handle, $0, Int32(quality), &out, &count) }
        guard status == 0, let out else { throw TorchError(takeLastError()) }
        defer { ct_free_buffer(out) }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }

    public static func resize(_ pixels: Tensor, width: Int, height: Int, interpolation: Interpolation) throws -> Tensor {
        try checked(ct_image_resize(pixels.handle, Int32(width), Int32(height), interpolation.rawValue))
    }

    public static func gaussianBlur(_ pixels: Tensor, sigma: Double) throws -> Tensor {
        try checked(ct_gaussian_blur(pixels.handle, sigma))
    }

    /// Canny edges of a uint8 HW image: 0 or 255.
    public static func canny(_ gray: Tensor, low: Double, high: Double, aperture: Int = 3, l2Gradient: Bool = true) throws -> Tensor {
        try checked(ct_canny(gray.handle, low, high, Int32(aperture), l2Gradient ? 1 : 0))
    }

    /// One-pixel-wide skeleton (Zhang–Suen) of a uint8 HW binary image: 0 or 255.
    public static func thinning(_ binary: Tensor) throws -> Tensor {
        try checked(ct_thinning(binary.handle))
    }

    /// Labels (int32 HW) and per-label stats (int32 n×5: left, top, width, height, area) of non-zero regions.
    public static func connectedComponents(_ binary: Tensor, connectivity: Int = 8) throws -> (labels: Tensor, stats: Tensor) {
        var stats: CTTensor?
        let labels = try checked(ct_connected_components(binary.handle, Int32(connectivity), &stats))
        guard let stats else { throw TorchError("connected components returned no statistics") }
        return (labels, Tensor(handle: stats))
    }
}
