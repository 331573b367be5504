import Testing
import GateLabGSL
#if canImport(Glibc)
import Glibc
#endif

@Suite("LinearAlgebra")
struct LinearAlgebraTests {
    @Test("singular values of diagonal matrices, square, tall and wide, in descending order")
    func singularValuesOfDiagonals() throws {
        #expect(isClose(try LinearAlgebra.singularValues(rows: 3, cols: 3, [3, 0, 0, 0, -5, 0, 0, 0, 1]), [5, 3, 1], tolerance: 1e-14))
        #expect(isClose(try LinearAlgebra.singularValues(rows: 3, cols: 2, [3, 0, 0, 4, 0, 0]), [4, 3], tolerance: 1e-14))
        #expect(isClose(try LinearAlgebra.singularValues(rows: 2, cols: 3, [3, 0, 0, 0, 4, 0]), [4, 3], tolerance: 1e-14))
        #expect(isClose(try LinearAlgebra.spectralNorm(rows: 1, cols: 4, [1, 1, 1, 1]), 2, tolerance: 1e-14))
    }

    @Test("a rotation by θ scaled by s: spectral norm and radius s, eigenvalues s·e^{±iθ}")
    func scaledRotation() throws {
        let (s, theta) = (0.9, 0.7)
        let m = [s * cos(theta), -s * sin(theta), s * sin(theta), s * cos(theta)]
        #expect(isClose(try LinearAlgebra.spectralNorm(rows: 2, cols: 2, m), s, tolerance: 1e-14))
        #expect(isClose(try LinearAlgebra.spectralRadius(n: 2, m), s, tolerance: 1e-14))
        let eigen = try LinearAlgebra.eigenvalues(n: 2, m)
        #expect(isClose(eigen.map(\.re), [s * cos(theta), s * cos(theta)], tolerance: 1e-14))
        #expect(isClose(eigen.map(\.im), [s * sin(theta), -s * sin(theta)], tolerance: 1e-14))
    }

    @Test("a non-symmetric 2 × 2 with real eigenvalues (5 ± √33)/2, and a 3 × 3 triangular one")
    func knownEigenvalues() throws {
        let eigen = try LinearAlgebra.eigenvalues(n: 2, [1, 2, 3, 4])
        #expect(isClose(eigen.map(\.re), [(5 + 33.0.squareRoot()) / 2, (5 - 33.0.squareRoot()) / 2], tolerance: 1e-13))
        #expect(eigen.allSatisfy { $0.im == 0 })
        let triangular = try LinearAlgebra.eigenvalues(n: 3, [2, 7, -1, 0, -3, 4, 0, 0, 0.5])
        #expect(isClose(triangular.map(\.re), [-3, 2, 0.5], tolerance: 1e-13))
        #expect(isClose(try LinearAlgebra.spectralRadius(n: 3, [2, 7, -1, 0, -3, 4, 0, 0, 0.5]), 3, tolerance: 1e-13))
    }

    @Test("shape mismatches and non-finite entries are Swift errors raised before GSL")
    func shapeErrors() {
        #expect(throws: InvalidArgumentError.self) { try LinearAlgebra.singularValues(rows: 2, cols: 3, [1, 2, 3]) }
        #expect(throws: InvalidArgumentError.self) { try LinearAlgebra.singularValues(rows: 0, cols: 0, []) }
        #expect(throws: InvalidArgumentError.self) { try LinearAlgebra.eigenvalues(n: 2, [1, 2, 3, 4, 5, 6]) }
        #expect(throws: InvalidArgumentError.self) { try LinearAlgebra.spectralRadius(n: 2, [1, .nan, 3, 4]) }
        let error = #expect(throws: InvalidArgumentError.self) { try LinearAlgebra.eigenvalues(n: 3, [1, 2, 3, 4]) }
        #expect(error?.message.contains("square") == true)
    }
}
