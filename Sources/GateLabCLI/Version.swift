/// The version `gatelab --version` prints.
enum GateLabVersion {
    /// Semantic version of the tool and its libraries.
    static let current = "0.3.0"
}
