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
}
