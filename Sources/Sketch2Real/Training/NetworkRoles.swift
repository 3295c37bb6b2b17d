import NN

/// What a network does in a training algorithm; checkpoints store each under its role's name.
public enum NetworkRole: String, Sendable, CaseIterable, Comparable {
    /// The generator.
    case G
    /// The image → latent code encoder (LSRAGAN, BicycleGAN).
    case E
    /// The discriminator (the encoded path's, for the multimodal models).
    case D
    /// The random path's discriminator (LSRAGAN, BicycleGAN).
    case D2
    /// The projected discriminator's heads (`--projected-discriminator`).
    case DP

    public static func < (a: NetworkRole, b: NetworkRole) -> Bool { a.rawValue < b.rawValue }
}

/// The networks an algorithm trains, each with its optimiser, by role: declared once by the
/// trainer and used for the schedule, checkpoints, resume and `--init-from`.
struct TrainedNetworks {
    private(set) var entries: [NetworkRole: (module: Module, optimizer: any Optimizer)] = [:]

    /// Adds a network; an absent one (nil) is skipped, so optional roles read naturally.
    mutating func add(_ role: NetworkRole, _ module: Module?, _ optimizer: (any Optimizer)?) {
        guard let module, let optimizer else { return }
        entries[role] = (module, optimizer)
    }

    /// By checkpoint name.
    var networks: [String: Module] { Dictionary(uniqueKeysWithValues: entries.map { ($0.key.rawValue, $0.value.module) }) }
    var optimizers: [String: any Optimizer] { Dictionary(uniqueKeysWithValues: entries.map { ($0.key.rawValue, $0.value.optimizer) }) }
    /// In the fixed order G, E, D, D2, DP (the order the schedule lists them).
    var orderedOptimizers: [any Optimizer] { [NetworkRole.G, .E, .D, .D2, .DP].compactMap { entries[$0]?.optimizer } }
}
