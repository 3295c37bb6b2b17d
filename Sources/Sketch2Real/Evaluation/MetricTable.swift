import Foundation

/// The metrics of several models side by side, with the best value of each column known.
public struct MetricTable: Sendable {
    public struct Column: Sendable {
        public let key: String
        public let label: String
        public let better: MetricDirection
    }

    public let models: [String]
    public let columns: [Column]
    /// `cells[model][column]`; nil where a model lacks the metric.
    public let cells: [[Metric?]]

    public init(_ evaluations: [ModelEvaluation]) {
        models = evaluations.map(\.name)
        var columns: [Column] = []
        for e in evaluations {
            for m in e.metrics where !columns.contains(where: { $0.key == m.key }) {
                columns.append(Column(key: m.key, label: m.label, better: m.better))
            }
        }
        self.columns = columns
        cells = evaluations.map { e in columns.map { c in e.metrics.first { $0.key == c.key } } }
    }

    /// Rows holding the best value of column `c` (ties share it); empty when fewer than two
    /// models have a value or all of them tie, since then no model is better than another.
    public func best(column c: Int) -> Set<Int> {
        let values = cells.indices.compactMap { r in cells[r][c]?.value.flatMap { $0.isFinite ? (r, $0) : nil } }
        guard values.count >= 2 else { return [] }
        let winners: Set<Int>
        switch columns[c].better {
        case .lower, .higher:
            let target = columns[c].better == .lower ? values.map(\.1).min()! : values.map(\.1).max()!
            winners = Set(values.filter { Swift.abs($0.1 - target) <= 1e-12 * Swift.max(1, Swift.abs(target)) }.map(\.0))
        case .nearOne:
            // Distance from 1 as a factor, so 0.5 and 2 are equally far.
            let far = values.map { ($0.0, $0.1 > 0 ? Swift.abs(log($0.1)) : .infinity) }
            let target = far.map(\.1).min()!
            winners = Set(far.filter { Swift.abs($0.1 - target) <= 1e-12 * Swift.max(1, target) }.map(\.0))
        }
        // A column where every model ties singles out no one.
        return winners.count == values.count ? [] : winners
    }

    /// A plain-text table for the terminal; the best value of a column is marked with *.
    public func text() -> String {
        let header = ["model"] + columns.map { "\($0.label) \($0.better.arrow)" }
        var rows = [header]
        let bests = columns.indices.map { best(column: $0) }
        for (r, name) in models.enumerated() {
            rows.append([name] + columns.indices.map { c in
                guard let m = cells[r][c] else { return "—" }
                return m.formatted + (bests[c].contains(r) ? " *" : "")
            })
        }
        if models.count == 1 {
            // One model reads better as a list.
            return zip(header.dropFirst(), rows[1].dropFirst()).map { "\($0.padding(toLength: 44, withPad: " ", startingAt: 0)) \($1)" }
                .joined(separator: "\n")
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: " | ")
        }.joined(separator: "\n") + "\n(* best in its column)"
    }
}
