import ArgumentParser
import Foundation
import Sketch2Real

struct DatasetSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the synthetic landscape data set whose modes are known.",
        discussion: """
        Every scene is drawn as a line sketch and rendered in each of --modes palettes (summer day, \
        autumn, sunset, winter night, …): --count images are --count ÷ --modes scenes × --modes \
        palettes, and the palette index is the hidden mode. Files follow the pix2pix aligned \
        layout, OUT/{train,val,test}/SSSSSS_mK.png (scene number, palette index), each the sketch \
        beside the photo; whole scenes are assigned to splits. OUT/manifest.jsonl lists every \
        image with its scene seed and palette; OUT/dataset.json sums up. The output depends only \
        on the options, not on the number of jobs.
        """
    )

    @Option(help: "Images to write: count ÷ modes scenes, each in every palette, so a multiple of --modes.")
    var count = 4000

    @Option(help: "Palettes (modes) per scene, 1 to \(SyntheticPalette.catalogue.count): the first of \(SyntheticPalette.names.joined(separator: ", ")).")
    var modes = 4

    @Option(help: "Side of each sketch and photo in pixels (files are twice as wide); a multiple of 4, at least 32.")
    var size = 256

    @Option(name: .customLong("out"), help: ArgumentHelp("Folder to write the data set into; created if missing.", valueName: "folder"))
    var outputFolder: String

    @Option(help: "Seed of the whole data set: the same seed and options give byte-identical files.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Fractions of the scenes for train, val and test.", valueName: "train,val,test"))
    var split = "0.9,0.05,0.05"

    @Flag(help: "Write into a non-empty folder, first removing the images, manifest and summary of an earlier run there.")
    var overwrite = false

    @Option(help: "Worker threads (default: one per processor).")
    var jobs: Int?

    var workers: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: ArgumentHelp("Also save a picture of the first four scenes, sketch and every palette.", valueName: "png-file"))
    var contactSheet: String?

    func options() throws -> SyntheticDataset.Options {
        do {
            let split = try SyntheticDataset.Split(parsing: split)
            return SyntheticDataset.Options(count: count, modes: modes, size: size, seed: seed, split: split,
                                            outputFolder: outputFolder, overwrite: overwrite, jobs: workers)
        } catch {
            throw ValidationError(Self.message(error))
        }
    }

    func validate() throws {
        let options = try options()
        do {
            try options.validate()
        } catch {
            throw ValidationError(Self.message(error))
        }
        if let contactSheet, !["png", "jpg", "jpeg"].contains((contactSheet as NSString).pathExtension.lowercased()) {
            throw ValidationError("--contact-sheet \(contactSheet) must end in .png or .jpg.")
        }
    }

    /// The library's sentences with the option spelled as typed on the command line.
    static func message(_ error: SyntheticDatasetError) -> String {
        let text = error.description
        if case .outputNotEmpty(let path) = error {
            return "--out folder \(path) is not empty: choose a new or empty folder, or pass --overwrite to replace the data set there."
        }
        for option in ["modes", "count", "size", "jobs", "split", "output"] where text.hasPrefix(option + " ") {
            return "--" + (option == "output" ? "out" : option) + text.dropFirst(option.count)
        }
        return text
    }

    func run() throws {
        let options = try options()
        let palettes = SyntheticPalette.first(modes).map(\.name).joined(separator: ", ")
        print("writing \(count) images of \(size)×\(size) (\(options.scenes) scenes × \(modes) palettes: \(palettes)) to \(outputFolder) with \(workers) jobs")
        let interactive = isatty(STDOUT_FILENO) != 0
        let reporter = ProgressReporter(interactive: interactive)
        let summary = try SyntheticDataset.write(options) { reporter.report($0) }
        reporter.finish()
        let seconds = reporter.seconds
        let rate = seconds > 0 ? Double(count) / seconds : 0
        print(String(format: "wrote %d images in %.1f s (%.1f images/s): train %d, val %d, test %d",
                     count, seconds, rate, summary.images["train"] ?? 0, summary.images["val"] ?? 0, summary.images["test"] ?? 0))
        if let contactSheet {
            try SyntheticContactSheet.make(seed: seed, scenes: min(4, options.scenes), modes: modes, size: size)
                .save(path: contactSheet)
            print("contact sheet: \(contactSheet)")
        }
    }
}

/// Prints progress at most a few times a second: in place on a terminal, as plain lines at
/// every tenth otherwise (logs).
private final class ProgressReporter: @unchecked Sendable {
    let interactive: Bool
    private var lastPrint = 0.0, lastTenth = -1
    private(set) var seconds = 0.0

    init(interactive: Bool) { self.interactive = interactive }

    func report(_ p: SyntheticDataset.Progress) {
        seconds = p.seconds
        let line = String(format: "%d/%d images  %.1f images/s", p.written, p.total, p.imagesPerSecond)
        if interactive {
            guard p.seconds - lastPrint >= 0.25 || p.written == p.total else { return }
            lastPrint = p.seconds
            print("\r" + line, terminator: "")
            fflush(nil)
        } else {
            let tenth = p.written * 10 / max(p.total, 1)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            print(line)
        }
    }

    func finish() {
        if interactive { print("") }
    }
}
