import Foundation

/// The one rule for reading configurations back from JSON (config.json, checkpoints, exported
/// models): a field the JSON lacks takes its default, at any depth, so files written before a
/// field existed still load. It works on the JSON itself: the given object is laid over the
/// encoding of `T()` and the result is decoded by the compiler-synthesised `Decodable`
/// conformances, so no type writes its own initialiser, and a field cannot be forgotten in one.
/// Numbers are carried as written (integers as 64-bit integers, not doubles), so seeds survive.
///
/// An optional section that is absent by default (e.g. `augment`) has no defaults in that
/// encoding; `optionalSections` gives them, so a present but partial section fills in too.
public enum ConfigurationDecoding {
    public static func decode<T: Codable>(_ type: T.Type, defaults: T, optionalSections: [String: any Encodable] = [:],
                                          from data: Data) throws -> T {
        var base = try JSONDecoder().decode(JSONTree.self, from: JSONEncoder().encode(defaults))
        let given = try JSONDecoder().decode(JSONTree.self, from: data)
        if case .object(var top) = base, case .object(let theirs) = given {
            for (key, section) in optionalSections where top[key] == nil {
                if case .object = theirs[key] {
                    top[key] = try JSONDecoder().decode(JSONTree.self, from: JSONEncoder().encode(section))
                }
            }
            base = .object(top)
        }
        return try JSONDecoder().decode(T.self, from: JSONEncoder().encode(base.overlaid(with: given)))
    }
}

/// A configuration whose every field has a default: read with the one decoding rule, so a file
/// written before a field existed still loads (`TrainingConfig` and each of its sections).
public protocol DefaultedConfiguration: Codable {
    init()
    /// Optional sections, absent by default, with the defaults their fields take when present.
    static var optionalSections: [String: any Encodable] { get }
}

extension DefaultedConfiguration {
    public static var optionalSections: [String: any Encodable] { [:] }

    /// Reads JSON by `ConfigurationDecoding`'s rule.
    public static func decoded(from data: Data) throws -> Self {
        try ConfigurationDecoding.decode(Self.self, defaults: Self(), optionalSections: optionalSections, from: data)
    }
}

/// A JSON document as a value, with integers kept exact.
enum JSONTree: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .unsigned(u) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONTree].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONTree].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .unsigned(let u): try c.encode(u)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// `other` wherever it says something; objects merge key by key, anything else is replaced.
    func overlaid(with other: JSONTree) -> JSONTree {
        guard case .object(var mine) = self, case .object(let theirs) = other else { return other }
        for (key, value) in theirs { mine[key] = mine[key].map { $0.overlaid(with: value) } ?? value }
        return .object(mine)
    }
}
