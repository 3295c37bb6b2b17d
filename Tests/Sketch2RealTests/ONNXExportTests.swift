import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// ONNX files run in ONNX Runtime (PyPI, installed by scripts/bootstrap into .cache/onnx, a
/// reference like PyTorch) and pass onnx.checker; outputs match ours and PyTorch's.
final class ONNXExportTests: XCTestCase {
    static let interop = Bundle.module.resourcePath! + "/Fixtures/interop"

    /// Runs `script` with ONNX Runtime, onnx and safetensors importable.
    func python(_ script: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script] + arguments
        p.environment = ["PYTHONPATH": [".cache/onnx", ".cache/python"].map { repositoryRoot.appendingPathComponent($0).path }.joined(separator: ":")]
        let out = Pipe(), err = Pipe()
        (p.standardOutput, p.standardError) = (out, err)
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, e + " (scripts/bootstrap installs onnxruntime and onnx into .cache/onnx)")
        return o
    }

    func testPix2PixGeneratorsRunInONNXRuntimeAsHere() throws {
        let folder = makeTemporaryFolder(self)
        for (file, netG, name, sizes) in [("unet128.pth", "unet_128", "unet128", [(128, 256)]), ("resnet6.pth", "resnet_6blocks", "resnet6", [(36, 44), (20, 28)])] {
            let path = Self.interop + "/" + file
            let (generator, config) = try PyTorchImport.pix2pix(try TorchCheckpoint.load(path: path), netG: netG, source: path)
            generator.eval()
            let onnx = folder + "/\(name).onnx"
            try Data(try ONNXExport.model(generator, config: config)).write(to: URL(fileURLWithPath: onnx))
            // Inputs: the fixture's (with PyTorch's output) and others of other sizes and batch 2.
            let fixtures = try SafeTensors.load(path: Self.interop + "/outputs.safetensors")
            func fixture(_ k: String) -> Tensor { fixtures.tensors.first { $0.name == k }!.tensor }
            var inputs: [(name: String, tensor: Tensor)] = [("fixture", fixture(name + ".input"))]
            for (k, (h, w)) in sizes.enumerated() { inputs.append(("other\(k)", Tensor.rand([2, generator.inputChannels, h, w]) * 2.0 - 1.0)) }
            let inputFile = folder + "/\(name)-inputs.safetensors", outputFile = folder + "/\(name)-ort.safetensors"
            try SafeTensors(tensors: inputs, metadata: [:]).save(path: inputFile)
            let report = try python("""
                import sys, onnx, onnxruntime as ort
                from safetensors.numpy import load_file, save_file
                model = onnx.load(sys.argv[1])
                onnx.checker.check_model(model, full_check=True)
                session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
                outputs = {k: session.run(["image"], {"sketch": v})[0] for k, v in load_file(sys.argv[2]).items()}
                save_file(outputs, sys.argv[3])
                print(model.opset_import[0].version, [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim])
                """, [onnx, inputFile, outputFile])
            XCTAssertEqual(report.trimmingCharacters(in: .whitespacesAndNewlines), "17 ['batch', \(generator.inputChannels), 'height', 'width']")
            let ort = try SafeTensors.load(path: outputFile)
            for (key, x) in inputs {
                let fromORT = ort.tensors.first { $0.name == key }!.tensor
                let here = withNoGrad { generator.translate(x) }
                XCTAssertEqual(fromORT.shape, here.shape)
                // float32 networks of a few dozen layers, tanh outputs: agreement to 1e-4.
                XCTAssertLessThanOrEqual((fromORT - here).abs().max().item() as Double, 1e-4, "\(name) \(key): ONNX Runtime against Sketch2Real")
                if key == "fixture" {
                    XCTAssertLessThanOrEqual((fromORT - fixture(name + ".output")).abs().max().item() as Double, 1e-4, "\(name): against PyTorch")
                }
            }
        }
    }

    /// Exports, runs in ONNX Runtime on `inputs`, and compares with `generator.translate`.
    func assertONNXRuntimeAgrees(_ generator: any SketchToImageGenerator, _ config: TrainingConfig, _ inputs: [Tensor], _ what: String) throws {
        let folder = makeTemporaryFolder(self)
        let onnx = folder + "/model.onnx", inputFile = folder + "/inputs.safetensors", outputFile = folder + "/ort.safetensors"
        try Data(try ONNXExport.model(generator, config: config)).write(to: URL(fileURLWithPath: onnx))
        try SafeTensors(tensors: inputs.enumerated().map { ("x\($0.offset)", $0.element) }, metadata: [:]).save(path: inputFile)
        _ = try python("""
            import sys, onnx, onnxruntime as ort
            from safetensors.numpy import load_file, save_file
            onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)
            session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            save_file({k: session.run(["image"], {"sketch": v})[0] for k, v in load_file(sys.argv[2]).items()}, sys.argv[3])
            """, [onnx, inputFile, outputFile])
        let ort = try SafeTensors.load(path: outputFile)
        for (k, x) in inputs.enumerated() {
            let fromORT = ort.tensors.first { $0.name == "x\(k)" }!.tensor, here = withNoGrad { generator.translate(x) }
            XCTAssertEqual(fromORT.shape, here.shape)
            XCTAssertLessThanOrEqual((fromORT - here).abs().max().item() as Double, 1e-4, "\(what), input \(x.shape)")
        }
    }

    func testSRAGANGeneratorsRunInONNXRuntimeAsHere() throws {
        // The bundled model (transposed decoder, CBAM attention in every second block).
        let bundled = try GeneratorFile.load(repositoryRoot.appendingPathComponent("models/sragan-landscapes.safetensors").path)
        let c0 = bundled.generator.inputChannels
        try assertONNXRuntimeAgrees(bundled.generator, bundled.config, [Tensor.rand([1, c0, 128, 128]) * 2.0 - 1.0, Tensor.rand([2, c0, 64, 96]) * 2.0 - 1.0],
                                    "bundled SRAGAN")
        // A new run's default: layer norm and the resize-convolution decoder; attention in every block.
        var c = TrainingConfig.defaults(for: .sragan, size: 64)
        (c.sragan.ngf, c.sragan.blocks, c.sragan.attentionEvery, c.sragan.attentionReduction) = (8, 2, 1, 4)
        c.syncChannels()
        let fresh = try GeneratorFile.make(c)
        fresh.eval()
        try assertONNXRuntimeAgrees(fresh, c, [Tensor.rand([3, fresh.inputChannels, 40, 24]) * 2.0 - 1.0], "resize-convolution SRAGAN")
        // Demodulated convolutions in the blocks and the decoder, and residual gains (made
        // non-zero, or the branches would not count).
        (c.sragan.demodulate, c.sragan.residualGain) = (true, true)
        let demodulated = try XCTUnwrap(try GeneratorFile.make(c) as? SRAGANGenerator)
        withNoGrad { for b in demodulated.blocks { b.residualGain = Tensor.rand([c.sragan.ngf * 4]) + 0.5 } }
        demodulated.eval()
        try assertONNXRuntimeAgrees(demodulated, c, [Tensor.rand([2, demodulated.inputChannels, 32, 48]) * 2.0 - 1.0],
                                    "demodulated SRAGAN with residual gains")
        // Noise inputs: the fixed evaluation maps depend on a size the graph leaves dynamic.
        c.sragan.noiseInputs = true
        XCTAssertThrowsError(try ONNXExport.model(try GeneratorFile.make(c), config: c)) {
            XCTAssertEqual("\($0)", "ONNX export: generators with noise inputs (--noise-inputs) cannot be exported yet; translate with sketch2real instead")
        }
    }

    func testGeneratorsWithALatentCodeRunInONNXRuntimeAsHere() throws {
        for (kind, demodulated) in [(ModelKind.lsragan, false), (.lsragan, true), (.bicyclegan, false), (.msgan, false)] {
            var c = TrainingConfig.defaults(for: kind, size: 64)
            (c.sragan.ngf, c.sragan.blocks, c.sragan.attentionEvery, c.sragan.attentionReduction) = (8, 2, 2, 4)
            (c.latentUNet.ngf, c.latentUNet.levels, c.multimodal.nz) = (4, 5, 3)
            if kind == .lsragan { c.sragan.latentAtEveryStage = true }
            // The code scales demodulated convolutions in the blocks and the decoder; gains non-zero.
            if demodulated { (c.sragan.demodulate, c.sragan.residualGain, c.sragan.upsampling) = (true, true, .resizeConv) }
            c.syncChannels()
            let g = try GeneratorFile.makeLatent(c)
            if demodulated, let s = g as? SRAGANGenerator {
                withNoGrad { for b in s.blocks { b.residualGain = Tensor.rand([c.sragan.ngf * 4]) + 0.5 } }
            }
            g.eval()
            let x = Tensor.rand([2, g.inputChannels, 32, 64]) * 2.0 - 1.0, z = Tensor.randn([2, 3])
            let folder = makeTemporaryFolder(self)
            let onnx = folder + "/model.onnx", io = folder + "/io.safetensors", out = folder + "/ort.safetensors"
            try Data(try ONNXExport.model(g, config: c)).write(to: URL(fileURLWithPath: onnx))
            try SafeTensors(tensors: [("sketch", x), ("z", z)], metadata: [:]).save(path: io)
            _ = try python("""
                import sys, onnx, onnxruntime as ort
                from safetensors.numpy import load_file, save_file
                onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)
                session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
                save_file({"image": session.run(["image"], load_file(sys.argv[2]))[0]}, sys.argv[3])
                """, [onnx, io, out])
            let fromORT = try SafeTensors.load(path: out).tensors[0].tensor, here = withNoGrad { g.generate(x, z: z) }
            XCTAssertEqual(fromORT.shape, here.shape)
            XCTAssertLessThanOrEqual((fromORT - here).abs().max().item() as Double, 1e-4, "\(kind)\(demodulated ? ", demodulated" : "")")
        }
    }

    func testTheEncoderRunsInONNXRuntimeAsHere() throws {
        var c = TrainingConfig.defaults(for: .bicyclegan, size: 64)
        (c.encoder.nef, c.encoder.blocks, c.multimodal.nz) = (4, 3, 3)
        c.syncChannels()
        let e = try GeneratorFile.makeEncoder(c)!
        e.eval()
        let y = Tensor.rand([2, 3, 64, 48]) * 2.0 - 1.0
        let folder = makeTemporaryFolder(self)
        let onnx = folder + "/e.onnx", io = folder + "/io.safetensors", out = folder + "/ort.safetensors"
        try Data(try ONNXExport.encoder(e, config: c)).write(to: URL(fileURLWithPath: onnx))
        try SafeTensors(tensors: [("photo", y)], metadata: [:]).save(path: io)
        _ = try python("""
            import sys, onnx, onnxruntime as ort
            from safetensors.numpy import load_file, save_file
            onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)
            session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            mu, logvar = session.run(["mu", "logvar"], load_file(sys.argv[2]))
            save_file({"mu": mu, "logvar": logvar}, sys.argv[3])
            """, [onnx, io, out])
        let ort = try SafeTensors.load(path: out)
        let (mu, logVariance) = withNoGrad { e(y) }
        for (name, here) in [("mu", mu), ("logvar", logVariance)] {
            let fromORT = ort.tensors.first { $0.name == name }!.tensor
            XCTAssertLessThanOrEqual((fromORT - here).abs().max().item() as Double, 1e-4, name)
        }
    }
}
