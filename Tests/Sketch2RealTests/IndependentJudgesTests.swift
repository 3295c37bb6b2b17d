import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// The realism measures that share no network with any discriminator: spectral distance,
/// droplet share and the classifier two-sample test.
final class IndependentJudgesTests: XCTestCase {
    /// Ring powers against a direct DFT written out in loops (float64).
    func testRadialPowerMatchesADirectDFT() {
        Torch.manualSeed(4)
        let (h, w) = (8, 10)
        let images = Tensor.rand([2, 3, h, w], dtype: .float64)
        let rings = SpectralStatistics.radialPower(images)
        let bins = Swift.min(h, w) / 2 - 1
        XCTAssertEqual(rings.shape, [2, bins])
        let values = images.toArray(Double.self)
        for n in 0 ..< 2 {
            var y = [Double](repeating: 0, count: h * w)
            for i in 0 ..< h * w {
                let base = n * 3 * h * w
                y[i] = 0.299 * values[base + i] + 0.587 * values[base + h * w + i] + 0.114 * values[base + 2 * h * w + i]
            }
            let mean = y.reduce(0, +) / Double(h * w)
            y = y.map { $0 - mean }
            var sums = [Double](repeating: 0, count: bins), counts = sums
            for u in 0 ..< h {
                for v in 0 ..< w {
                    var re = 0.0, im = 0.0
                    for a in 0 ..< h {
                        for b in 0 ..< w {
                            let angle = -2 * Double.pi * (Double(u * a) / Double(h) + Double(v * b) / Double(w))
                            re += y[a * w + b] * cos(angle)
                            im += y[a * w + b] * sin(angle)
                        }
                    }
                    let fu = Double(Swift.min(u, h - u)) / Double(h), fv = Double(Swift.min(v, w - v)) / Double(w)
                    let k = Int((fu * fu + fv * fv).squareRoot() * Double(Swift.min(h, w)))
                    guard k >= 1, k <= bins else { continue }
                    sums[k - 1] += (re * re + im * im) / Double(h * w)
                    counts[k - 1] += 1
                }
            }
            let got = rings.select(dim: 0, index: n).toArray(Double.self)
            for k in 0 ..< bins { XCTAssertEqual(got[k], sums[k] / counts[k], accuracy: 1e-9 * Swift.max(1, sums[k] / counts[k])) }
        }
    }

    func testSpectralDistanceIsZeroForTheSameSetAndLargeForBlankOrBlurredImages() {
        Torch.manualSeed(5)
        let photos = Tensor.rand([6, 3, 32, 32], dtype: .float64)
        let p = SpectralStatistics.radialPower(photos)
        XCTAssertEqual(SpectralStatistics.distance(p, p), 0, accuracy: 1e-12)
        let blank = SpectralStatistics.radialPower(Tensor.full([6, 3, 32, 32], 0.5, dtype: .float64))
        XCTAssertGreaterThan(SpectralStatistics.distance(blank, p), 5, "no power at all is many decades away")
        let blurred = SpectralStatistics.radialPower(photos.avgPool2d(kernel: 4).upsampleNearest(scale: 4))
        let d = SpectralStatistics.distance(blurred, p)
        XCTAssertGreaterThan(d, 0.3)
        XCTAssertLessThan(d, 5)
    }

    func testAOnePixelDropletStandsOutAndAFlatImageHasNone() {
        var pixels = [Float](repeating: 0.6, count: 3 * 48 * 48)
        // A dark disc of radius 4 px at (20, 27).
        for c in 0 ..< 3 { for r in 0 ..< 48 { for q in 0 ..< 48 where (r - 20) * (r - 20) + (q - 27) * (q - 27) <= 16 { pixels[(c * 48 + r) * 48 + q] = 0.1 } } }
        let disc = Tensor(pixels, shape: [1, 3, 48, 48])
        let flat = Tensor.full([1, 3, 48, 48], 0.6)
        let scores = BlobStatistics.extremeBlob(Tensor.cat([disc, flat], dim: 0))
        XCTAssertGreaterThan(scores[0], 0.5, "a disc of contrast 0.5 on a flat field stands out against its surroundings")
        XCTAssertEqual(scores[1], 0, accuracy: 1e-3)
        // The same disc on a strongly textured field (a checkerboard of 4-px squares) stands out far less.
        var textured = pixels
        for c in 0 ..< 3 { for r in 0 ..< 48 { for q in 0 ..< 48 where (r - 20) * (r - 20) + (q - 27) * (q - 27) > 16 {
            textured[(c * 48 + r) * 48 + q] = (r / 4 + q / 4) % 2 == 0 ? 0.2 : 0.9 } } }
        let onTexture = BlobStatistics.extremeBlob(Tensor(textured, shape: [1, 3, 48, 48]))[0]
        XCTAssertLessThan(onTexture, scores[0] / 2)
        // The fence is the photos' 95th percentile (numpy's linear rule); shares count strictly above it.
        XCTAssertEqual(BlobStatistics.quantile([4, 1, 3, 2], 0.25), 1.75, accuracy: 1e-12)
        XCTAssertEqual(BlobStatistics.fence(Array(0 ... 100).map(Double.init)), 95, accuracy: 1e-12)
        XCTAssertEqual(BlobStatistics.share([1, 8, 9, 7.75], above: 7.75), 0.5)
    }

    /// Grey squares against textured photos are told apart every time; two halves of the same
    /// kind of image are not; the result is seeded and the process's random state is kept.
    func testC2STSeparatesWhatDiffersAndNotWhatIsAlike() throws {
        Torch.manualSeed(6)
        let photos = Tensor.rand([16, 3, 16, 16])
        let grey = Tensor.full([16, 3, 16, 16], 0.5)
        let alike = Tensor.rand([16, 3, 16, 16])
        let before = Torch.rngState()
        var test = TwoSampleClassifierTest(seed: 1)
        test.steps = 60
        test.batchSize = 16
        let separated = try test.accuracy(generated: grey, real: photos)
        XCTAssertEqual(Torch.rngState(), before, "the caller's random state is restored")
        XCTAssertGreaterThan(separated, 0.95)
        let same = try test.accuracy(generated: alike, real: photos)
        XCTAssertLessThan(same, 0.75, "noise against noise stays near chance")
        XCTAssertEqual(try test.accuracy(generated: grey, real: photos), separated, "seeded")
        XCTAssertThrowsError(try test.accuracy(generated: grey.narrow(dim: 0, start: 0, length: 3), real: photos)) {
            XCTAssertEqual("\($0)", "C2ST needs at least 4 outputs and 4 photos, got 3")
        }
    }
}
