import Foundation
import NN
import Sketch2Real
import Torch
import XCTest
@testable import Sketch2RealCommands

/// What `train` does before its first step, run in-process.
final class TrainStartupTests: XCTestCase {
    /// `train` builds its networks and loads the perceptual network once: its memory check
    /// measures the trainer's own networks, so the command constructs as many modules as the
    /// library's trainer does alone.
    func testTrainBuildsItsNetworksOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("train-startup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        try FileManager.default.createDirectory(atPath: data + "/train", withIntermediateDirectories: true)
        for i in 0 ..< 2 {
            let sketch = Image.filled(width: 32, height: 32, value: 0.2 + 0.3 * Double(i))
            let photo = Image.filled(width: 32, height: 32, value: 0.9 - 0.3 * Double(i))
            try ImageGrid.joinedHorizontally([sketch, photo]).save(path: data + "/train/\(i).png")
        }
        let arguments = ["--model", "sragan", "--data", data, "--runs", root + "/runs", "--size", "32", "--max-steps", "1",
                         "--augment", "none", "--ngf", "8", "--ndf", "8", "--blocks", "1", "--workers", "1"]
        let precision = Torch.precision
        defer { Torch.precision = precision }

        let beforeCommand = Module.constructedCount
        try TrainCommand.parse(arguments + ["--name", "command"]).run()
        let byCommand = Module.constructedCount - beforeCommand

        let config = try TrainCommand.parse(arguments + ["--name", "library"]).makeConfig()
        XCTAssertGreaterThan(config.lambdaPerceptual, 0, "the run loads the perceptual network")
        let beforeLibrary = Module.constructedCount
        let trainer = try Trainer.make(config: config, dataRoot: data, runFolder: root + "/runs/library", resume: false)
        _ = try trainer.train(progress: ProgressReporter(silent: true), shouldStop: { false })
        let byLibrary = Module.constructedCount - beforeLibrary

        XCTAssertEqual(byCommand, byLibrary, "train built \(byCommand - byLibrary) modules beyond the trainer's")
    }
}
