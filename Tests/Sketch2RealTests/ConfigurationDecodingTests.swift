import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The decoding rule of `ConfigurationDecoding`: every field of every configuration survives
/// JSON and resume, and a field missing from the JSON, at any depth, takes its default.
final class ConfigurationDecodingTests: XCTestCase {
    /// The stored fields as JSON (`json()` writes the resolved configuration; the decoding rule is
    /// about what is stored).
    func json(_ c: TrainingConfig) throws -> JSONTree { try JSONDecoder().decode(JSONTree.self, from: JSONEncoder().encode(c)) }
    func text(_ c: TrainingConfig) throws -> String { String(decoding: try JSONEncoder().encode(c), as: UTF8.self) }

    func leaves(_ v: JSONTree, _ path: [String] = []) -> [[String]] {
        if case .object(let o) = v { return o.keys.sorted().flatMap { leaves(o[$0]!, path + [$0]) } }
        return [path]
    }

    func value(_ v: JSONTree, at path: [String]) -> JSONTree? {
        guard let first = path.first else { return v }
        guard case .object(let o) = v, let child = o[first] else { return nil }
        return value(child, at: Array(path.dropFirst()))
    }

    /// `v` with the value at `path` replaced (nil: removed).
    func setting(_ v: JSONTree, at path: [String], to new: JSONTree?) -> JSONTree {
        guard case .object(var o) = v, let first = path.first else { return new ?? .null }
        if path.count == 1 { o[first] = new } else { o[first] = setting(o[first] ?? .object([:]), at: Array(path.dropFirst()), to: new) }
        return .object(o)
    }

    /// Every leaf of the defaults changed: numbers moved, flags flipped, enumerations set to
    /// another case, and the optional fields (absent by default) given values.
    func everythingChanged() throws -> TrainingConfig {
        let others: [String: JSONTree] = [
            "model": .string("lsragan"), "gan": .string("lsgan"), "initScheme": .string("xavier"), "onBadFile": .string("skip"),
            "data/direction": .string("BtoA"), "data/preprocess/mode": .string("crop"),
            "discriminator/norm": .string("batch"), "encoder/norm": .string("batch"), "latentUNet/norm": .string("none"),
            "pix2pix/architecture": .string("resnet9"), "pix2pix/norm": .string("instance"),
            "sragan/norm": .string("batch"), "sragan/upsampling": .string("resizeConv"),
        ]
        func changed(_ v: JSONTree, _ path: [String]) -> JSONTree {
            if let other = others[path.joined(separator: "/")] { return other }
            switch v {
            case .bool(let b): return .bool(!b)
            case .int(let i): return .int(i + 3)
            case .unsigned(let u): return .unsigned(u &+ 3)
            case .double(let d): return .double(d * 1.5 + 0.25)
            case .array(let a): return .array(a.enumerated().map { changed($1, path + ["\($0)"]) })
            case .object(let o): return .object(Dictionary(uniqueKeysWithValues: o.map { ($0, changed($1, path + [$0])) }))
            case .null, .string: XCTFail("no other value given for \(path.joined(separator: "/"))"); return v
            }
        }
        var doc = changed(try json(TrainingConfig()), [])
        doc = setting(doc, at: ["augment"], to: .object(["kinds": .array([.string("translation")]), "translationRatio": .double(0.2), "cutoutRatio": .double(0.3)]))
        doc = setting(doc, at: ["projected"], to: .object(["conditionChannels": .int(3), "stages": .array([.int(3), .int(4)]), "mixedChannels": .int(32),
                                                          "headWidth": .int(48), "weight": .double(0.5), "warmupSteps": .int(200)]))
        doc = setting(doc, at: ["initFrom"], to: .string("runs/pretrained"))
        doc = setting(doc, at: ["vgg19Weights"], to: .string("weights/vgg19.safetensors"))
        doc = setting(doc, at: ["multimodal", "conditionalD2"], to: .bool(false))
        doc = setting(doc, at: ["seed"], to: .unsigned(UInt64.max - 7))
        return try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(doc))
    }

    /// Leaves of a value by reflection: every stored property of every nested configuration.
    func reflectedLeaves(_ x: Any, _ path: String = "") -> [String: String] {
        let m = Mirror(reflecting: x)
        if m.displayStyle == .struct, !m.children.isEmpty {
            var out: [String: String] = [:]
            for child in m.children { out.merge(reflectedLeaves(child.value, path + "/" + (child.label ?? "?"))) { a, _ in a } }
            return out
        }
        return [path: String(describing: x)]
    }

    func testEveryFieldIsChangedAndSurvivesJSON() throws {
        let c = try everythingChanged()
        let changed = reflectedLeaves(c), defaults = reflectedLeaves(TrainingConfig())
        XCTAssertEqual(Set(changed.keys).subtracting(["/augment", "/projected"]), Set(defaults.keys).subtracting(["/augment", "/projected"]))
        for (path, text) in defaults.sorted(by: { $0.key < $1.key }) {
            XCTAssertNotEqual(changed[path], text, "\(path) was not changed: the test must give every field a non-default value")
        }
        let back = try TrainingConfig.from(json: text(c))
        XCTAssertEqual(back, c)
        XCTAssertEqual(back.seed, UInt64.max - 7)
        XCTAssertEqual(back.augment?.kinds.map(\.rawValue), ["translation"])
        XCTAssertEqual(back.projected?.stages, [3, 4])
    }

    func testEachMissingFieldTakesItsDefaultAndNothingElseChanges() throws {
        let c = try everythingChanged()
        let full = try json(c)
        // An optional section's fields default to its type's defaults.
        var withSections = TrainingConfig()
        withSections.augment = DiffAugment()
        withSections.projected = ProjectedDiscriminatorConfig()
        let defaults = try json(withSections)
        let paths = leaves(full)
        XCTAssertGreaterThan(paths.count, 80)
        for path in paths {
            let decoded = try TrainingConfig.from(json: String(decoding: try JSONEncoder().encode(setting(full, at: path, to: nil)), as: UTF8.self))
            let expected = setting(full, at: path, to: value(defaults, at: path))
            XCTAssertTrue(try json(decoded) == expected, "without \(path.joined(separator: "/"))")
        }
        // Whole sections missing, and an empty document: the defaults.
        for section in ["sragan", "multimodal", "data", "encoder", "latentUNet"] {
            let decoded = try TrainingConfig.from(json: String(decoding: try JSONEncoder().encode(setting(full, at: [section], to: nil)), as: UTF8.self))
            XCTAssertTrue(try json(decoded) == setting(full, at: [section], to: value(defaults, at: [section])), section)
        }
        XCTAssertEqual(try TrainingConfig.from(json: "{}"), TrainingConfig())
    }

    /// Derived values are computed from their sources, whatever a section's own copy says:
    /// networks, files and validation see the computed ones.
    func testDerivedValuesAreComputedNotTakenFromTheSections() throws {
        var c = TrainingConfig.defaults(for: .lsragan, size: 64)
        (c.sragan.ngf, c.sragan.blocks, c.encoder.nef) = (4, 1, 4)
        c.multimodal.nz = 5
        c.data.inputChannels = 3
        // Stale copies, as a hand-edited file or a forgotten sync would leave them.
        (c.sragan.inputChannels, c.sragan.latentChannels, c.encoder.latentChannels, c.discriminator.inputChannels) = (1, 8, 8, 2)
        let r = c.resolved
        XCTAssertEqual([r.sragan.inputChannels, r.sragan.latentChannels, r.encoder.latentChannels, r.discriminator.inputChannels], [3, 5, 5, 6])
        let written = try TrainingConfig.from(json: c.json())
        XCTAssertEqual(written.sragan.latentChannels, 5, "files hold the computed values")
        let g = try GeneratorFile.makeLatent(c)
        XCTAssertEqual([g.inputChannels, g.latentChannels], [3, 5], "networks are built from the computed values")
        XCTAssertEqual(try GeneratorFile.makeEncoder(c)?.config.latentChannels, 5)
    }

    func testAWrongTypeIsAnErrorNotADefault() {
        XCTAssertThrowsError(try TrainingConfig.from(json: #"{"sragan": {"ngf": "wide"}}"#))
        XCTAssertThrowsError(try TrainingConfig.from(json: #"{"model": "sragan2"}"#))
        XCTAssertThrowsError(try TrainingConfig.from(json: "[1, 2]"))
    }

    func testEveryFieldSurvivesResume() throws {
        var c = TrainingConfig.defaults(for: .lsragan, size: 64)
        c.seed = UInt64.max - 7
        c.multimodal.lambdaMS = 0.37
        c.multimodal.conditionalD2 = false
        c.sragan.attentionReduction = 8
        c.augment = DiffAugment(kinds: [.color, .cutout])
        c.initFrom = "runs/pretrained"
        c.data.preprocess.flip = false
        c.syncChannels()
        try c.validate()
        let folder = makeTemporaryFolder(self) + "/run"
        let run = RunFolder(path: folder)
        try run.create()
        try Checkpoint(step: 5, epoch: 1, configuration: try c.json()).save(path: run.latestCheckpoint)
        let (resumed, _, checkpoint) = try TrainingLoop.prepare(config: TrainingConfig(), runFolder: folder, resume: true, maxSteps: nil)
        XCTAssertEqual(resumed, c)
        XCTAssertEqual(checkpoint?.step, 5)
    }
}
