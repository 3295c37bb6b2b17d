import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// `export --format pth` files load into the reference definitions with `strict=True` and give
/// Sketch2Real's outputs; our own reader reads them back bit for bit.
final class PthExportTests: XCTestCase {
    func testExportedStateDictsLoadIntoTheReferenceStrictly() throws {
        let folder = makeTemporaryFolder(self)
        var c = TrainingConfig.defaults(for: .sragan, size: 64)
        (c.sragan.ngf, c.sragan.blocks, c.sragan.attentionReduction) = (8, 2, 4)
        c.syncChannels()
        let g = try GeneratorFile.make(c)
        g.eval()
        let pth = folder + "/g.pth"
        try TorchCheckpointWriter.data(g.stateDict().map { (name: $0.0, tensor: $0.1) }).write(to: URL(fileURLWithPath: pth))
        // Read back by our reader: the same tensors, bit for bit.
        let back = try TorchCheckpoint.load(path: pth)
        for (name, t) in g.stateDict() { XCTAssertEqual(back[name]?.bytes(), t.bytes(), name) }
        // Into reference/sragan.py with strict=True, in PyTorch.
        let x = Tensor.rand([2, g.inputChannels, 32, 24]) * 2.0 - 1.0
        let io = folder + "/io.safetensors", out = folder + "/torch.safetensors"
        try SafeTensors(tensors: [("x", x)], metadata: [:]).save(path: io)
        let settings = try GeneratorFile.generatorConfigJSON(c)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", """
            import json, sys, torch
            sys.path.insert(0, sys.argv[4])
            from sragan import SRAGANGenerator
            from safetensors.torch import load_file, save_file
            net = SRAGANGenerator(json.loads(sys.argv[1]))
            net.load_state_dict(torch.load(sys.argv[2]), strict=True)
            net.eval()
            with torch.no_grad():
                save_file({"y": net(load_file(sys.argv[3])["x"])}, sys.argv[5])
            """, settings, pth, io, repositoryRoot.appendingPathComponent("reference").path, out]
        p.environment = ["PYTHONPATH": repositoryRoot.appendingPathComponent(".cache/python").path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, errors)
        let fromTorch = try SafeTensors.load(path: out).tensors[0].tensor
        let here = withNoGrad { g.translate(x) }
        XCTAssertLessThanOrEqual((fromTorch - here).abs().max().item() as Double, 1e-4)
    }
}
