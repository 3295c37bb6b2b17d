import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Sketches smaller than a network's receptive padding — down to one pixel, and strips one pixel
/// wide — are padded up to the smallest side the network accepts and cropped back, for every
/// generator family, instead of failing inside libtorch.
final class TinyImageTests: XCTestCase {
    static let sizes = [(1, 1), (2, 2), (3, 5), (4, 4), (64, 3), (3, 64), (1, 64), (1024, 1), (5, 5), (8, 8)]

    func sketch(_ w: Int, _ h: Int) -> Image {
        Image(pixels: Tensor.rand([h, w, 1]))
    }

    func testEveryOneToOneGeneratorTranslatesTinySketches() throws {
        for model in [ModelKind.sragan, .pix2pix] {
            var c = TrainingConfig.defaults(for: model, size: 64)
            (c.sragan.ngf, c.sragan.blocks, c.pix2pix.ngf) = (4, 1, 4)
            c.pix2pix.architecture = .resnet6
            c.syncChannels()
            let translator = Translator(generator: try GeneratorFile.make(c))
            for (w, h) in Self.sizes {
                let out = try translator.translate(sketch(w, h))
                XCTAssertEqual([out.width, out.height], [w, h], "\(model) on \(w)×\(h)")
            }
        }
    }

    func testMultimodalSamplesOfTinySketches() throws {
        for model in [ModelKind.lsragan, .bicyclegan] {
            var c = TrainingConfig.defaults(for: model, size: 64)
            (c.sragan.ngf, c.sragan.blocks, c.latentUNet.ngf) = (4, 1, 2)
            c.syncChannels()
            let sampler = MultimodalSampler(model: MultimodalModel(generator: try GeneratorFile.makeLatent(c), encoder: nil, config: c))
            for (w, h) in Self.sizes {
                let images = try sampler.images(for: sketch(w, h), codes: sampler.randomCodes(2))
                XCTAssertEqual(images.map { [$0.width, $0.height] }, [[w, h], [w, h]], "\(model) on \(w)×\(h)")
            }
        }
    }
}
