import Foundation
import XCTest
@testable import Sketch2Real

/// `train --tensorboard` files, read back by the `tensorboard` package's own event reader (PyPI,
/// installed by scripts/bootstrap into .cache/tensorboard, a reference like PyTorch).
final class TensorBoardTests: XCTestCase {
    func testTensorBoardReadsTheLossesAndSampleGrids() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 4, "val": 2], size: 40)
        let runs = makeTemporaryFolder(self)
        let board = runs + "/board"
        let r = try runProgramBounded(["train", "--model", "sragan", "--data", data, "--runs", runs, "--name", "tb", "--size", "32",
                                       "--max-steps", "8", "--augment", "none", "--ngf", "8", "--ndf", "8", "--blocks", "1",
                                       "--workers", "1", "--log-every", "2", "--sample-every", "4", "--tensorboard", board], timeout: 300)
        XCTAssertEqual(r.status, 0, r.error + r.output)
        let read = try events(in: board)
        let scalars = read["scalars"] as! [String: [[Double]]]
        for tag in ["G_GAN", "G_L1", "G_perceptual", "D", "lr", "images_per_second", "val_L1"] {
            XCTAssertNotNil(scalars[tag], "no scalar '\(tag)' among \(scalars.keys.sorted())")
        }
        // The same numbers as log.jsonl (float32 in the event file).
        let log = try String(contentsOfFile: runs + "/tb/log.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["G_L1"] != nil }
        let logged = log.map { [($0["step"] as! NSNumber).doubleValue, ($0["G_L1"] as! NSNumber).doubleValue] }
        XCTAssertEqual(scalars["G_L1"]!.map { $0[0] }, logged.map { $0[0] })
        for (a, b) in zip(scalars["G_L1"]!, logged) { XCTAssertEqual(a[1], b[1], accuracy: 1e-6 * Swift.max(1, abs(b[1]))) }
        let images = read["images"] as! [[Double]]
        XCTAssertEqual(images.map { $0[0] }, [4, 8])
        XCTAssertTrue(images.allSatisfy { $0[1] > 0 && $0[2] > 0 && $0[3] > 100 })
        let grids = [4, 8].map { runs + String(format: "/tb/samples/step_%07d.png", $0) }
        XCTAssertEqual(images.map { Int($0[3]) }, try grids.map { try Data(contentsOf: URL(fileURLWithPath: $0)).count },
                       "the event file holds the sample grids' PNG files as written")

        // eval --tensorboard files the evaluation's numbers under the run's last logged step.
        let evalBoard = runs + "/eval-board"
        let e = try runProgramBounded(["eval", "--model", runs + "/tb", "--data", data, "--split", "val", "--out", runs + "/eval",
                                       "--kid-subsets", "2", "--kid-subset-size", "2", "--ndb-bins", "2", "--tensorboard", evalBoard], timeout: 300)
        XCTAssertEqual(e.status, 0, e.error + e.output)
        let evaluated = try events(in: evalBoard)["scalars"] as! [String: [[Double]]]
        let l1 = try XCTUnwrap(evaluated.first { $0.key.hasPrefix("eval/tb/") && $0.key.hasSuffix("l1") }, "\(evaluated.keys.sorted())")
        XCTAssertEqual(l1.value.map { $0[0] }, [8])
    }

    /// The scalars and sample images of the event files in `folder`, as TensorBoard reads them.
    func events(in folder: String) throws -> [String: Any] {
        let script = """
        import json, sys
        from tensorboard.backend.event_processing import event_accumulator as ea
        a = ea.EventAccumulator(sys.argv[1], size_guidance={ea.IMAGES: 0, ea.SCALARS: 0})
        a.Reload()
        tags = a.Tags()
        print(json.dumps({"scalars": {t: [[e.step, e.value] for e in a.Scalars(t)] for t in tags["scalars"]},
                          "images": [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in a.Images("samples")] if "samples" in tags["images"] else []}))
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", script, folder]
        python.environment = ["PYTHONPATH": repositoryRoot.appendingPathComponent(".cache/tensorboard").path]
        let out = Pipe(), err = Pipe()
        (python.standardOutput, python.standardError) = (out, err)
        try python.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0, errors + " (run scripts/bootstrap to install the reader)")
        return try JSONSerialization.jsonObject(with: output) as! [String: Any]
    }
}
