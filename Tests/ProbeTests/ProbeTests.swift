import Testing
@testable import Probe
