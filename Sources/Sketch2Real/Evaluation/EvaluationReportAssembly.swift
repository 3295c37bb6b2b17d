import Foundation

// Turning measurements into the report: the metric rows of each model, their definitions, and
// the notes that say how far the numbers can be trusted. Evaluator.swift measures.
extension Evaluator {
    /// The report of the models measured on `split`: settings, definitions, notes and, on
    /// synthetic data, how well the palette classifier labels the real targets.
    func report(_ results: [ModelEvaluation], split: Split, reference: Reference) -> EvaluationReport {
        var definitions = MetricCatalog.definitions(of: results.flatMap(\.metrics), inception: inception?.variant)
        if let ndb = definitions["NDB"] { definitions["NDB"] = ndb + " Here: " + reference.ndbNote + "." }
        var notes = [
            "One output per pair for fidelity and realism: the deterministic translation of one-to-one models; for multimodal models a sample with a seeded random code (sample 0 of each pair).",
            "Images are compared as 8-bit pictures in [0, 1] (outputs clamped and rounded as when saved).",
        ]
        if !settings.skippedFiles.isEmpty {
            notes.append("\(settings.skippedFiles.count) unreadable pair(s) of the split were left out (--on-bad-file skip): \(settings.skippedFiles.prefix(5).joined(separator: "; "))\(settings.skippedFiles.count > 5 ? "; …" : "").")
        }
        if split.pairs < 50 {
            notes.append("Only \(split.pairs) pairs: FD and KID from so few images are dominated by sampling noise; compare them between models on the same pairs only.")
        }
        var check: EvaluationReport.ClassifierCheck?
        if let classifier = reference.classifier, let modes, let accuracy = reference.realTargetAccuracy {
            check = .init(modes: modes, palettes: SyntheticPalette.first(modes).map(\.name), validationAccuracy: classifier.validationAccuracy,
                          realTargetAccuracy: accuracy, cache: classifier.cachePath)
            if accuracy < 0.9 {
                notes.append(String(format: "The palette classifier labels only %.0f%% of the real targets correctly: known-mode numbers are unreliable.", accuracy * 100))
            }
        } else {
            notes.append("Known-mode coverage: n/a (the data set has no synthetic manifest with palettes).")
        }
        let formatter = ISO8601DateFormatter()
        return EvaluationReport(
            tool: "sketch2real \(SystemReport.version)", date: formatter.string(from: Date()), data: dataRoot, split: settings.split,
            pairs: split.pairs, sketches: split.groups.count, imageSize: split.size, settings: settings, definitions: definitions,
            classifier: check, notes: notes, models: results)
    }

    // MARK: Tables

    /// One model's rows of the metric table, in the report's order; a metric that does not apply
    /// is a row that says why.
    static func metrics(fidelity f: FidelityResult, realism: [RealismResult], diversity: SampleDiversity.Result?, multimodal: Bool,
                        ndb: StatisticallyDifferentBins.Result?, ndbNote: String, knownModes: KnownModeCoverage?,
                        inceptionVariant: InceptionV3.Variant?) -> [Metric] {
        typealias M = MetricCatalog
        var out = PixelFidelity.rows(l1: f.l1, psnr: f.psnr, ssim: f.ssim) + [M.lpips(f.lpipsStyle)]
        for r in realism {
            let (fd, kid) = r.network == "HED-VGG16" ? (M.fdHED, M.kidHED) : M.inception(inceptionVariant ?? .torchvision)
            out.append(fd(r.frechetDistance))
            out.append(kid(r.kernelDistance.mean, std: r.kernelDistance.std))
        }
        if let diversity {
            out.append(M.diversity(diversity.mean, std: diversity.std))
        } else {
            out.append(M.diversity.unavailable(multimodal ? "n/a" : "n/a (one-to-one model)"))
        }
        if let ndb {
            out.append(M.ndb(bins: ndb.bins)(Double(ndb.differentBins), note: ndbNote, isCount: true))
            out.append(M.jsd(ndb.jsd))
        } else {
            out.append(M.ndb(bins: nil).unavailable(ndbNote))
            out.append(M.jsd.unavailable("n/a"))
        }
        if let m = knownModes {
            out.append(M.modesReached(m.modesReachedPerSketch, note: "\(m.modes) true modes; \(m.samplesPerSketch) sample(s) per sketch"))
            out.append(M.modeKL(m.klFromUniform))
            out.append(M.modeJS(m.jsFromUniform))
        }
        return out
    }
}
