import Foundation
import Torch

/// Writes an evaluation's files: metrics.json (every number and setting), report.html
/// (self-contained) and grid.png (the pictures of the report in one image).
public enum ReportFolder {
    @discardableResult
    public static func write(report: EvaluationReport, pictures: EvaluationPictures, logs: [(name: String, log: TrainingLog?)],
                             title: String, to folder: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let json = folder + "/metrics.json", html = folder + "/report.html", grid = folder + "/grid.png"
        try AtomicFile.write(try report.json() + Data("\n".utf8), to: json)
        let page = try HTMLReport.render(title: title, report: report, pictures: pictures, logs: logs)
        try AtomicFile.write(Data(page.utf8), to: html)
        var written = [json, html]
        if let picture = pictures.grid() {
            try picture.save(path: grid)
            written.append(grid)
        }
        return written
    }

    /// The log of each model that has one; unreadable logs count as absent.
    public static func logs(of models: [EvaluatedModel]) -> [(name: String, log: TrainingLog?)] {
        models.map { m in (m.name, m.logFile.flatMap { try? TrainingLog.read(path: $0) }) }
    }
}
