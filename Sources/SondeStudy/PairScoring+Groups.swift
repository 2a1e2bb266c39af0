/// Task scores pooled: per group of tasks, and over all of them.
extension PairScoring {
    public struct GroupScore: Codable, Sendable, Equatable {
        public let group: String
        public let tasks: Int
        /// Pairs scored in the group's tasks.
        public let pairs: Int
        /// Means over the pairs scored: each task weighs by its pairs (0 when none was scored).
        public let accuracy: Double
        public let meanMargin: Double

        /// `members` pooled under the name `group`.
        public init(_ group: String, _ members: [TaskScore]) {
            let n = members.reduce(0) { $0 + $1.pairs }
            func mean(_ value: (TaskScore) -> Double) -> Double {
                n > 0 ? members.reduce(0.0) { $0 + value($1) * Double($1.pairs) } / Double(n) : 0
            }
            (self.group, tasks, pairs, accuracy, meanMargin) = (group, members.count, n, mean(\.accuracy), mean(\.meanMargin))
        }
    }

    /// The scores pooled by group, in the order of the groups' names.
    public static func groups(_ scores: [TaskScore]) -> [GroupScore] {
        Dictionary(grouping: scores, by: \.group).sorted { $0.key < $1.key }.map { GroupScore($0, $1) }
    }
}
