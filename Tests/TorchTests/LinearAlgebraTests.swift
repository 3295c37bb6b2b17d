import Torch
import XCTest

final class LinearAlgebraTests: XCTestCase {
    func testSymmetricEigenOfAKnownMatrix() {
        let a = Tensor([2, 1, 1, 2] as [Double], shape: [2, 2])
        let (values, vectors) = a.symmetricEigen()
        XCTAssertEqual(values.toArray(Double.self), [1, 3], accuracy: 1e-12)
        // Eigenvectors are defined up to sign: compare |v|.
        let v = vectors.abs().toArray(Double.self)
        for x in v { XCTAssertEqual(x, 0.5.squareRoot(), accuracy: 1e-12) }
    }

    func testSymmetricEigenReconstructsAndIsOrthonormal() {
        Torch.manualSeed(3)
        let b = Tensor.randn([6, 6], dtype: .float64)
        let a = b.matmul(b.T)
        let (values, vectors) = a.symmetricEigen()
        let lambdas = values.toArray(Double.self)
        XCTAssertEqual(lambdas, lambdas.sorted(), "ascending order")
        XCTAssertTrue(lambdas.allSatisfy { $0 > -1e-10 }, "B·Bᵀ is positive semi-definite")
        let rebuilt = (vectors * values.unsqueezed(0)).matmul(vectors.T)
        XCTAssertLessThan((rebuilt - a).abs().max().item(), 1e-10)
        let identity = vectors.T.matmul(vectors)
        let eye = Tensor((0 ..< 36).map { $0 % 7 == 0 ? 1.0 : 0.0 }, shape: [6, 6])
        XCTAssertLessThan((identity - eye).abs().max().item(), 1e-10)
    }

    func testSymmetricEigenReadsOnlyTheLowerTriangle() {
        let lower = Tensor([2, 99, 1, 2] as [Double], shape: [2, 2])
        XCTAssertEqual(lower.symmetricEigen().values.toArray(Double.self), [1, 3], accuracy: 1e-12)
    }

    func testSymmetricEigenOfANonSquareMatrixThrows() {
        XCTAssertThrowsError(try withTorchErrors { _ = Tensor.zeros([2, 3], dtype: .float64).symmetricEigen() }) { error in
            XCTAssertTrue("\(error)".lowercased().contains("square"), "\(error)")
        }
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
