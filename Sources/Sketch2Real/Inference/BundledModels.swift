import Foundation
import Torch

/// The models that ship with the program in the repository's `models/` folder: an SRAGAN for
/// one image per sketch and an LSRAGAN for many. Commands use them when no model is named.
public enum BundledModels {
    /// File name of the default one-to-one model (sketch → image).
    public static let translation = "sragan-landscapes.safetensors"
    /// File name of the default multimodal model (sketch → many images).
    public static let sampling = "lsragan-landscapes.safetensors"
    /// File name of the multimodal model trained on synthetic landscapes (`dataset synth`, 8
    /// palettes) rather than photos: clean line drawings → day, dusk, night, winter and more.
    public static let synthetic = "lsragan-synthetic.safetensors"
    /// Environment variable that names the models folder explicitly.
    public static let environmentKey = "SKETCH2REAL_MODELS"

    /// The models folder: `$SKETCH2REAL_MODELS` when set, else the `models/` folder of the
    /// checkout that holds the running program (found by walking up from the executable), else
    /// `./models`.
    public static func directory() -> String {
        if let explicit = ProcessInfo.processInfo.environment[environmentKey], !explicit.isEmpty {
            return explicit
        }
        let fm = FileManager.default
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? ".")
        var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("models")
            if fm.fileExists(atPath: candidate.appendingPathComponent(translation).path) {
                return candidate.path
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return "models"
    }

    /// Path of a bundled model file, or a clear error naming where it was looked for.
    public static func path(_ name: String) throws -> String {
        let dir = directory()
        let file = (dir as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file) else {
            throw ModelError("no model given and the bundled model \(name) is not in \(dir); pass --model FILE or set \(environmentKey)")
        }
        return file
    }

    /// Every model file (`*.safetensors`) in a folder, sorted by name.
    public static func files(in dir: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw ModelError("\(dir): \(FileErrorText.missing(dir, what: "models folder"))")
        }
        return names.filter { $0.hasSuffix(".safetensors") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
    }
}
