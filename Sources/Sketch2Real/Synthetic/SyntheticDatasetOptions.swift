import Foundation

extension SyntheticDataset {
    /// Fractions of scenes per split. Whole scenes are assigned, so all palettes of one sketch
    /// land in the same split and no sketch seen in training reappears in validation or test.
    public struct Split: Sendable, Equatable, CustomStringConvertible {
        public var train: Double, validation: Double, test: Double

        public static let standard = Split(train: 0.9, validation: 0.05, test: 0.05)

        public init(train: Double, validation: Double, test: Double) {
            self.train = train
            self.validation = validation
            self.test = test
        }

        /// Parses "train,val,test", e.g. "0.9,0.05,0.05".
        public init(parsing text: String) throws(SyntheticDatasetError) {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap(Double.init)
            guard parts.count == 3, values.count == 3, values.allSatisfy(\.isFinite) else {
                throw .splitUnreadable(text)
            }
            self.init(train: values[0], validation: values[1], test: values[2])
        }

        public var description: String {
            [train, validation, test].map { String(format: "%g", $0) }.joined(separator: ",")
        }

        func validate() throws(SyntheticDatasetError) {
            let values = [train, validation, test]
            if values.contains(where: { $0 < 0 || !$0.isFinite }) { throw .splitNegative(self) }
            let sum = values.reduce(0, +)
            if abs(sum - 1) > 1e-6 { throw .splitSum(self, sum) }
            if train <= 0 { throw .splitNoTraining(self) }
        }

        /// Scenes per split for `scenes` scenes: the fractions rounded by largest remainder, then
        /// every split with a non-zero fraction given at least one scene when there are enough
        /// (taken from the largest), so that a small run still has a validation and a test scene.
        public func sceneCounts(_ scenes: Int) -> (train: Int, validation: Int, test: Int) {
            let fractions = [train, validation, test]
            let raw = fractions.map { $0 * Double(scenes) }
            var counts = raw.map { Int($0.rounded(.down)) }
            let order = raw.indices.sorted { (raw[$0] - Double(counts[$0]), -$0) > (raw[$1] - Double(counts[$1]), -$1) }
            for i in order.prefix(scenes - counts.reduce(0, +)) { counts[i] += 1 }
            let wanted = fractions.indices.filter { fractions[$0] > 0 }
            if scenes >= wanted.count {
                for i in wanted where counts[i] == 0 {
                    let donor = counts.indices.max { counts[$0] < counts[$1] }!
                    counts[donor] -= 1
                    counts[i] += 1
                }
            }
            return (counts[0], counts[1], counts[2])
        }
    }

    /// What to generate and where. `count` images are `count / modes` scenes, each rendered in
    /// all `modes` palettes.
    public struct Options: Sendable {
        public var count: Int
        public var modes: Int
        public var size: Int
        public var seed: UInt64
        public var split: Split
        public var outputFolder: String
        /// Allows a non-empty output folder; the dataset files of an earlier run there are removed first.
        public var overwrite: Bool
        /// Worker threads; by default one per active processor.
        public var jobs: Int

        public static let sizes = 32 ... 2048
        /// Scene numbers have six digits in file names.
        public static let maximumScenes = 1_000_000

        public init(count: Int, modes: Int, size: Int, seed: UInt64 = 0, split: Split = .standard,
                    outputFolder: String, overwrite: Bool = false,
                    jobs: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.count = count
            self.modes = modes
            self.size = size
            self.seed = seed
            self.split = split
            self.outputFolder = outputFolder
            self.overwrite = overwrite
            self.jobs = jobs
        }

        public var scenes: Int { count / modes }

        /// Checks the numbers, then the output folder.
        public func validate() throws(SyntheticDatasetError) {
            try validateParameters()
            try validateOutputFolder()
        }

        /// Everything but the output folder.
        public func validateParameters() throws(SyntheticDatasetError) {
            let palettes = SyntheticPalette.catalogue.count
            if !(1 ... palettes).contains(modes) { throw .modesOutOfRange(modes, available: palettes) }
            if count < modes { throw .countBelowModes(count: count, modes: modes) }
            if count % modes != 0 { throw .countNotMultiple(count: count, modes: modes) }
            if count / modes > Self.maximumScenes { throw .tooManyScenes(count: count, modes: modes) }
            if size < Self.sizes.lowerBound { throw .sizeTooSmall(size) }
            if size > Self.sizes.upperBound { throw .sizeTooLarge(size) }
            if size % 4 != 0 { throw .sizeNotMultipleOf4(size) }
            if jobs < 1 { throw .jobsBelowOne(jobs) }
            try split.validate()
        }

        public func validateOutputFolder() throws(SyntheticDatasetError) {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: outputFolder, isDirectory: &isFolder) else { return }
            if !isFolder.boolValue { throw .outputIsAFile(outputFolder) }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: outputFolder)) ?? []
            if !contents.isEmpty && !overwrite { throw .outputNotEmpty(outputFolder) }
        }
    }
}

/// A synthetic data set request that cannot be carried out, said so that the user knows what to change.
public enum SyntheticDatasetError: Error, Equatable, CustomStringConvertible {
    case modesOutOfRange(Int, available: Int)
    case countBelowModes(count: Int, modes: Int)
    case countNotMultiple(count: Int, modes: Int)
    case tooManyScenes(count: Int, modes: Int)
    case sizeTooSmall(Int)
    case sizeTooLarge(Int)
    case sizeNotMultipleOf4(Int)
    case jobsBelowOne(Int)
    case splitUnreadable(String)
    case splitNegative(SyntheticDataset.Split)
    case splitSum(SyntheticDataset.Split, Double)
    case splitNoTraining(SyntheticDataset.Split)
    case outputIsAFile(String)
    case outputNotEmpty(String)
    case writeFailed(String)

    public var description: String {
        switch self {
        case .modesOutOfRange(let modes, let available):
            return "modes must be between 1 and \(available) (the palettes: \(SyntheticPalette.names.joined(separator: ", "))), got \(modes)."
        case .countBelowModes(let count, let modes):
            return "count \(count) is smaller than modes \(modes): every scene is drawn in all \(modes) palettes, so the count must be at least \(modes)."
        case .countNotMultiple(let count, let modes):
            let lower = count / modes * modes
            return "count \(count) is not a multiple of modes \(modes): every scene is drawn in all \(modes) palettes; use \(lower) or \(lower + modes)."
        case .tooManyScenes(let count, let modes):
            return "count \(count) with modes \(modes) makes \(count / modes) scenes; at most \(SyntheticDataset.Options.maximumScenes) scenes fit the six-digit file names."
        case .sizeTooSmall(let size):
            return "size \(size) is too small: use at least \(SyntheticDataset.Options.sizes.lowerBound) pixels."
        case .sizeTooLarge(let size):
            return "size \(size) is too large: use at most \(SyntheticDataset.Options.sizes.upperBound) pixels."
        case .sizeNotMultipleOf4(let size):
            let lower = size / 4 * 4
            let options = lower >= SyntheticDataset.Options.sizes.lowerBound ? "\(lower) or \(lower + 4)" : "\(lower + 4)"
            return "size \(size) is not a multiple of 4 (networks halve it twice): use \(options)."
        case .jobsBelowOne(let jobs):
            return "jobs must be at least 1, got \(jobs)."
        case .splitUnreadable(let text):
            return "split \"\(text)\" is not three comma-separated fractions train,val,test, such as 0.9,0.05,0.05."
        case .splitNegative(let split):
            return "split \(split) has a negative fraction: each of train,val,test must be 0 or more."
        case .splitSum(let split, let sum):
            return "split \(split) adds up to \(String(format: "%g", sum)), not 1: give fractions of the scenes, such as 0.9,0.05,0.05."
        case .splitNoTraining(let split):
            return "split \(split) leaves nothing to train on: the train fraction must be above 0."
        case .outputIsAFile(let path):
            return "output \(path) is a file, not a folder: choose a folder path."
        case .outputNotEmpty(let path):
            return "output folder \(path) is not empty: choose a new or empty folder, or allow overwriting to replace the data set there."
        case .writeFailed(let reason):
            return "cannot write the data set: \(reason)"
        }
    }
}
