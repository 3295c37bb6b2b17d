import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// pix2pix checkpoints made by PyTorch (Tests/Fixtures/make_interop_fixtures.py) import, and
/// translate as PyTorch does; damaged and malicious files are refused with a clear error.
final class ImportTests: XCTestCase {
    static let folder = Bundle.module.resourcePath! + "/Fixtures/interop"
    var outputs: SafeTensors { try! SafeTensors.load(path: Self.folder + "/outputs.safetensors") }

    func imported(_ file: String, netG: String) throws -> (generator: any SketchToImageGenerator, config: TrainingConfig) {
        let path = Self.folder + "/" + file
        let (generator, config) = try PyTorchImport.pix2pix(try TorchCheckpoint.load(path: path), netG: netG, source: path)
        // Through a model file, as `sketch2real import` writes it and `translate` reads it.
        let out = makeTemporaryFolder(self) + "/model.safetensors"
        try GeneratorFile.export(generator, config: config, to: out)
        return try GeneratorFile.load(out)
    }

    func assertMatchesPyTorch(_ generator: any SketchToImageGenerator, _ name: String) throws {
        let x = fixture(name + ".input"), expected = fixture(name + ".output")
        let y = withNoGrad { generator.translate(x) }
        XCTAssertEqual(y.shape, expected.shape)
        // float32 networks of a few dozen layers with tanh outputs: agreement to 1e-4.
        XCTAssertLessThanOrEqual((y - expected).abs().max().item() as Double, 1e-4, name)
    }

    func testPix2PixUNetImportsAndTranslatesAsPyTorch() throws {
        let (generator, config) = try imported("unet128.pth", netG: "unet_128")
        XCTAssertEqual(config.model, .pix2pix)
        XCTAssertEqual(config.pix2pix.architecture, .unet128)
        XCTAssertEqual(config.pix2pix.ngf, 4)
        XCTAssertEqual(config.pix2pix.norm, .batch)
        XCTAssertEqual(config.data.inputChannels, 3)
        XCTAssertEqual(config.data.outputChannels, 3)
        try assertMatchesPyTorch(generator, "unet128")
        // DataParallel's `module.` prefix is removed.
        try assertMatchesPyTorch(try imported("unet128-dataparallel.pth", netG: "unet_128").generator, "unet128")
    }

    func testPix2PixResNetReadsChannelsNormAndDropoutFromTheTensors() throws {
        let (generator, config) = try imported("resnet6.pth", netG: "resnet_6blocks")
        XCTAssertEqual(config.pix2pix.architecture, .resnet6)
        XCTAssertEqual(config.pix2pix.norm, .instance)
        XCTAssertTrue(config.pix2pix.dropout)
        XCTAssertEqual(config.data.inputChannels, 1)
        try assertMatchesPyTorch(generator, "resnet6")
    }

    func load(_ file: String) throws -> [String: Tensor] { try TorchCheckpoint.load(path: Self.folder + "/" + file) }

    func fixture(_ key: String) -> Tensor { outputs.tensors.first { $0.name == key }!.tensor }

    /// Through a model file, as `sketch2real import` writes it and `sample` reads it.
    func roundTrip(_ generator: any SketchToImageGenerator, encoder: LatentEncoder?, config: TrainingConfig) throws -> MultimodalModel {
        let out = makeTemporaryFolder(self) + "/model.safetensors"
        try GeneratorFile.export(generator, encoder: encoder, config: config, to: out)
        return try GeneratorFile.loadMultimodal(out)
    }

    func testBicycleGANGeneratorAndEncoderImportAndMatchPyTorch() throws {
        let imported = try PyTorchImport.bicycleGAN(generator: try load("bicyclegan-G.pth"), encoder: try load("bicyclegan-E.pth"),
                                                    nz: nil, source: "bicyclegan-G.pth")
        let c = imported.config
        XCTAssertEqual(c.model, .bicyclegan)
        XCTAssertEqual([c.latentUNet.levels, c.latentUNet.ngf, c.multimodal.nz, c.data.inputChannels, c.data.outputChannels], [5, 4, 3, 1, 3])
        XCTAssertTrue(c.latentUNet.latentAtEveryLevel)
        XCTAssertEqual([c.encoder.nef, c.encoder.blocks], [4, 2])
        let model = try roundTrip(imported.generator, encoder: imported.encoder, config: c)
        let y = withNoGrad { model.generator.generate(fixture("bicyclegan.input"), z: fixture("bicyclegan.z")) }
        XCTAssertLessThanOrEqual((y - fixture("bicyclegan.output")).abs().max().item() as Double, 1e-4)
        let mu = withNoGrad { model.encoder!(fixture("bicyclegan.photo")).mu }
        XCTAssertLessThanOrEqual((mu - fixture("bicyclegan.mu")).abs().max().item() as Double, 1e-4)
        // Without E, G alone still tells the code length (it enters every level).
        let alone = try PyTorchImport.bicycleGAN(generator: try load("bicyclegan-G.pth"), encoder: nil, nz: nil, source: "G")
        XCTAssertEqual(alone.config.multimodal.nz, 3)
        XCTAssertThrowsError(try PyTorchImport.bicycleGAN(generator: try load("bicyclegan-G.pth"), encoder: try load("bicyclegan-E.pth"),
                                                          nz: 8, source: "G")) {
            XCTAssertEqual("\($0)", "--nz 8 disagrees with the encoder's code length 3")
        }
    }

    func testLSRAGANImportsWithItsConfiguration() throws {
        let settings = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/lsragan.json"))
        let imported = try PyTorchImport.sragan(generator: try load("lsragan-G.pth"), encoder: try load("lsragan-E.pth"), settings: settings,
                                                multimodal: true, source: "lsragan-G.pth")
        XCTAssertEqual(imported.config.model, .lsragan)
        XCTAssertEqual(imported.config.multimodal.nz, 3)
        let model = try roundTrip(imported.generator, encoder: imported.encoder, config: imported.config)
        let y = withNoGrad { model.generator.generate(fixture("lsragan.input"), z: fixture("lsragan.z")) }
        XCTAssertLessThanOrEqual((y - fixture("lsragan.output")).abs().max().item() as Double, 1e-4)
        XCTAssertNotNil(model.encoder)
        // As a one-to-one model the same file is refused: its generator takes a code.
        XCTAssertThrowsError(try PyTorchImport.sragan(generator: try load("lsragan-G.pth"), encoder: nil, settings: settings,
                                                      multimodal: false, source: "lsragan-G.pth")) {
            XCTAssertEqual("\($0)", "latentChannels is 3 in --config: this generator takes a code; import it as --model lsragan")
        }
    }

    func testAMaliciousCheckpointIsRefusedWithoutRunningIt() {
        let path = Self.folder + "/malicious.pth"
        XCTAssertThrowsError(try TorchCheckpoint.load(path: path)) {
            XCTAssertEqual("\($0)", "\(path): refused: the checkpoint asks for the Python object 'posix.system'. Only state dicts (tensors, numbers, strings and containers) are imported, and no pickle code is run")
        }
    }

    func testDamagedAndForeignFilesAreRefused() throws {
        let folder = makeTemporaryFolder(self)
        let good = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/unet128.pth"))
        let cases: [(String, Data, String)] = [
            ("truncated.pth", good.prefix(good.count / 2), "not a readable zip archive (no end-of-central-directory record; the file may be truncated)"),
            ("empty.pth", Data(), "not a PyTorch checkpoint (torch.save writes a zip archive)"),
            ("image.pth", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A]), "not a PyTorch checkpoint (torch.save writes a zip archive)"),
            ("legacy.pth", Data([0x80, 0x02, 0x8A, 0x0A]), "a PyTorch checkpoint in the legacy format"),
        ]
        for (name, bytes, message) in cases {
            let path = folder + "/" + name
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try TorchCheckpoint.load(path: path), name) {
                XCTAssertTrue("\($0)".hasPrefix("\(path): \(message)"), "\($0)")
            }
        }
        // A file that is not there.
        XCTAssertThrowsError(try TorchCheckpoint.load(path: folder + "/missing.pth")) {
            XCTAssertTrue("\($0)".contains("missing.pth"), "\($0)")
        }
    }

    func testTheWrongArchitectureNamesTheTensorsThatDiffer() throws {
        let path = Self.folder + "/unet128.pth"
        let state = try TorchCheckpoint.load(path: path)
        XCTAssertThrowsError(try PyTorchImport.pix2pix(state, netG: "unet_256", source: path)) {
            let text = "\($0)"
            XCTAssertTrue(text.hasPrefix("\(path): the tensors do not match a pix2pix unet_256 generator: missing model.model.1.model.3.model.3."), text)
            XCTAssertTrue(text.contains("; unexpected "), text)
        }
        XCTAssertThrowsError(try PyTorchImport.pix2pix(state, netG: "resnet_9blocks", source: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): no tensor 'model.1.weight', which a pix2pix resnet_9blocks generator has; is --netG right?"), "\($0)")
        }
        XCTAssertThrowsError(try PyTorchImport.pix2pix(state, netG: "unet_512", source: path)) {
            XCTAssertTrue("\($0)".hasPrefix("--netG unet_512 is not a pix2pix generator Sketch2Real builds"), "\($0)")
        }
    }
}
