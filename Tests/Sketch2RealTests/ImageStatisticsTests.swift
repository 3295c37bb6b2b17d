import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class ImageStatisticsTests: XCTestCase {
    /// Images with known values, N×3×H×W in [0, 1].
    func image(_ h: Int, _ w: Int, _ f: (Int, Int, Int) -> Double) -> Tensor {
        var v: [Double] = []
        for c in 0 ..< 3 { for i in 0 ..< h { for j in 0 ..< w { v.append(f(c, i, j)) } } }
        return Tensor(v, shape: [1, 3, h, w])
    }

    /// The band fraction by brute force: every bin of the 2-D DFT of the mean-free luma.
    func bruteForceNyquistFraction(_ x: Tensor) -> Double {
        let (h, w) = (x.size(2), x.size(3))
        let px = x.to(.float64).flatten().toArray(Double.self)
        var y = [Double](repeating: 0, count: h * w)
        for k in 0 ..< h * w { y[k] = 0.299 * px[k] + 0.587 * px[h * w + k] + 0.114 * px[2 * h * w + k] }
        let m = y.reduce(0, +) / Double(h * w)
        y = y.map { $0 - m }
        func near(_ u: Int, _ n: Int) -> Bool { let d = abs(u - n / 2); return min(d, n - d) <= ImageStatistics.nyquistBand }
        var band = 0.0, total = 0.0
        for u in 0 ..< h {
            for v in 0 ..< w {
                var re = 0.0, im = 0.0
                for i in 0 ..< h {
                    for j in 0 ..< w {
                        let a = -2 * Double.pi * (Double(u * i) / Double(h) + Double(v * j) / Double(w))
                        re += y[i * w + j] * cos(a)
                        im += y[i * w + j] * sin(a)
                    }
                }
                let p = re * re + im * im
                total += p
                if near(u, h) || near(v, w) { band += p }
            }
        }
        return band / total
    }

    func testNyquistPowerMatchesTheFullDFT() {
        var g = SystemRandomNumberGenerator()
        for (h, w) in [(12, 10), (16, 16), (9, 14)] {
            let x = image(h, w) { _, i, j in Double.random(in: 0 ... 1, using: &g) * 0.3 + 0.2 * sin(Double(i + 2 * j) / 3) + 0.4 }
            let fast = ImageStatistics.nyquistPowerFraction(x)[0]
            XCTAssertEqual(fast, bruteForceNyquistFraction(x), accuracy: 1e-10, "\(h)×\(w)")
        }
    }

    func testCheckerboardIsAllNyquistAndSmoothImagesNone() {
        let checker = image(32, 32) { _, i, j in (i + j) % 2 == 0 ? 0.6 : 0.4 }
        let stripes = image(32, 32) { _, i, _ in i % 2 == 0 ? 0.7 : 0.3 }
        let smooth = image(32, 32) { _, i, j in 0.5 + 0.3 * cos(2 * Double.pi * Double(i + j) / 32) }
        let f = ImageStatistics.nyquistPowerFraction(Tensor.cat([checker, stripes, smooth], dim: 0))
        XCTAssertEqual(f[0], 1, accuracy: 1e-12)
        XCTAssertEqual(f[1], 1, accuracy: 1e-12)
        XCTAssertEqual(f[2], 0, accuracy: 1e-12)
        // A flat image has no non-DC power: 0, not NaN.
        XCTAssertEqual(ImageStatistics.nyquistPowerFraction(image(8, 8) { _, _, _ in 0.5 }), [0])
    }

    func testSaturation() {
        let red = image(4, 4) { c, _, _ in c == 0 ? 1 : 0 }
        let grey = image(4, 4) { _, _, _ in 0.3 }
        let muted = image(4, 4) { c, _, _ in c == 0 ? 0.5 : 0.25 }
        let black = image(4, 4) { _, _, _ in 0 }
        let s = ImageStatistics.saturation(Tensor.cat([red, grey, muted, black], dim: 0))
        XCTAssertEqual(s[0], 1, accuracy: 1e-12)
        XCTAssertEqual(s[1], 0, accuracy: 1e-12)
        XCTAssertEqual(s[2], 0.5, accuracy: 1e-12)
        XCTAssertEqual(s[3], 0, accuracy: 1e-12)
    }

    func testBorderRatioSeesStripesAlongTheBorder() {
        // Rows alternate by 0.1 everywhere: border and interior change alike.
        let even = image(16, 16) { _, i, _ in i % 2 == 0 ? 0.5 : 0.6 }
        let e = ImageStatistics.borderAndInteriorChange(even)[0]
        XCTAssertEqual(e.border, (0.1 + 0.1 + 0 + 0) / 4, accuracy: 1e-12)
        XCTAssertEqual(e.interior, 0.1 * 13 / 26, accuracy: 1e-12)
        XCTAssertEqual(ImageStatistics.borderRatio([e]), 1, accuracy: 1e-9)
        // A bright first and last column on a gently varying image.
        let striped = image(16, 16) { _, i, j in j == 0 || j == 15 ? 1 : 0.4 + 0.01 * Double(i) }
        let s = ImageStatistics.borderAndInteriorChange(striped)[0]
        XCTAssertGreaterThan(ImageStatistics.borderRatio([s]), 10)
        XCTAssertTrue(ImageStatistics.borderRatio([(0, 0)]).isNaN)
    }

    func testEvaluationMetricsPutOutputsBesidePhotos() {
        var looks = LooksLikePhotos()
        let photo = image(16, 16) { c, i, j in 0.3 + 0.1 * Double(c) + 0.1 * cos(2 * Double.pi * Double(i + j) / 16) }
        let checker = image(16, 16) { c, i, j in 0.3 + 0.1 * Double(c) + ((i + j) % 2 == 0 ? 0.05 : -0.05) }
        looks.add(outputs: checker, targets: photo)
        let m = Dictionary(uniqueKeysWithValues: looks.rows().map { ($0.key, $0) })
        XCTAssertEqual(Set(m.keys), ["nyquist_power", "nyquist_power_vs_photos", "saturation", "saturation_vs_photos", "border_ratio"])
        XCTAssertGreaterThan(m["nyquist_power_vs_photos"]!.value!, 100)
        XCTAssertEqual(m["saturation_vs_photos"]!.better, .nearOne)
    }

    func testNearOneColumnsPreferTheRatioClosestToOne() {
        func evaluation(_ name: String, _ v: Double) -> ModelEvaluation {
            ModelEvaluation(name: name, source: "", multimodal: false,
                            metrics: [Metric(key: "saturation_vs_photos", label: "Saturation ÷ photos'", value: v, better: .nearOne)],
                            fidelity: FidelityResult(pairs: 1, l1: 0, l1Std: 0, psnr: 0, psnrStd: 0, ssim: 0, ssimStd: 0, lpipsStyle: 0, lpipsStyleStd: 0), realism: [], diversity: nil, ndb: nil, knownModes: nil, configuration: nil, seconds: 0)
        }
        // 0.8 is a factor 1.25 from 1, 1.3 a factor 1.3.
        XCTAssertEqual(MetricTable([evaluation("a", 1.3), evaluation("b", 0.8), evaluation("c", 0.5)]).best(column: 0), [1])
        XCTAssertTrue(MetricTable([evaluation("a", 1.3)]).text().contains("→1"))
    }
}
