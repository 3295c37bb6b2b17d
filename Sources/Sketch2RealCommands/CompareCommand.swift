import ArgumentParser
import Foundation
import Sketch2Real

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Evaluate several models on the same pairs and seeds: one table, pictures side by side, JSON and HTML.",
        discussion: """
        Every model sees the same pairs, latent-code seeds, KID subsets and NDB bins; the table marks the best value \
        of each column (lower or higher, as the metric's arrow says). The metrics are those of `sketch2real eval`.
        """
    )

    @Argument(help: "Run folders, checkpoints or exported models.")
    var models: [String]

    @OptionGroup var options: EvaluationOptions

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("name at least one model to compare.") }
        let names = models.map { (($0.hasSuffix("/") ? String($0.dropLast()) : $0) as NSString).lastPathComponent }
        if Set(names).count != names.count {
            throw ValidationError("two models share a name (\(names.joined(separator: ", "))); tables name models by their folder or file name.")
        }
    }

    func run() throws {
        try options.run(models: models, title: "Comparison of " + models.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
    }
}
