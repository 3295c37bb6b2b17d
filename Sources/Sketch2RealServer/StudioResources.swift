import Foundation

/// The files the studio serves as they are: its page (HTML, style sheet, script; nothing loaded
/// from elsewhere and nothing inline, so the content security policy allows only the server's
/// own files; element ids are part of `StudioBrowserTests`' contract) and the API's OpenAPI 3.0.3
/// description (`StudioAPITests` checks that it names every route and error status).
///
/// They are the package's resources (Sources/Sketch2RealServer/Resources), in the folder SwiftPM
/// puts beside the executable. A copied `sketch2real` without that folder still trains and
/// translates; `serve` then says what is missing instead of stopping the process.
public struct StudioResources: Sendable {
    public let html, style, script, openAPI: String

    /// The folder's name beside the executable (or the test bundle).
    static let bundleName = "Sketch2Real_Sketch2RealServer.resources"

    public static func load() throws -> StudioResources {
        let candidates = [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()]
            .compactMap { $0?.standardizedFileURL.appendingPathComponent(bundleName) }
            .reduce(into: [URL]()) { if !$0.contains($1) { $0.append($1) } }
        // Last, the sources' own copy, for a build used where it was made (a test bundle run
        // from elsewhere, a binary run in the checkout).
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for folder in candidates + [sources] {
            let files = ["studio.html", "studio.css", "studio.js", "openapi.yaml"].map { folder.appendingPathComponent("Resources/" + $0) }
            let texts = files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
            if texts.count == files.count { return StudioResources(html: texts[0], style: texts[1], script: texts[2], openAPI: texts[3]) }
        }
        throw StudioError(.internalServerError, "the studio's page files are missing: keep the folder \(bundleName) beside the sketch2real executable (looked beside \(candidates.map { $0.deletingLastPathComponent().path }.joined(separator: ", ")) and in \(sources.path))")
    }
}
