import XCTest
@testable import Torch

/// Introspection, construction and conversion of `Tensor` values; op results are covered by
/// OpParityTests.
final class TensorTests: XCTestCase {
    func testIntrospection() {
        let t = Tensor.zeros([2, 3, 4])
        XCTAssertTrue(t.isDefined)
        XCTAssertEqual(t.rank, 3)
        XCTAssertEqual(t.shape, [2, 3, 4])
        XCTAssertEqual(t.strides, [12, 4, 1])
        XCTAssertEqual(t.count, 24)
        XCTAssertEqual(t.size(0), 2)
        XCTAssertEqual(t.size(-1), 4)
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(t.device, .cpu)
        XCTAssertTrue(t.isContiguous)

        let p = t.permute(2, 0, 1)
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p.strides, [1, 12, 4])
        XCTAssertFalse(p.isContiguous)
        let c = p.contiguous()
        XCTAssertTrue(c.isContiguous)
        XCTAssertEqual(c.strides, [6, 3, 1])

        let s = Tensor(scalar: 2.5)
        XCTAssertEqual(s.rank, 0)
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.strides, [])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s.item(), 2.5)
    }

    func testEmptyHasShapeAndDtype() {
        let e = Tensor.empty([3, 0, 2], dtype: .int32)
        XCTAssertEqual(e.shape, [3, 0, 2])
        XCTAssertEqual(e.dtype, .int32)
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(e.toArray(Int32.self), [])
        XCTAssertEqual(e.bytes(), [])
        XCTAssertEqual(Tensor.empty([2, 2], dtype: .float64).count, 4)
    }

    func testValueInitialisersAndRawBytes() {
        let f = Tensor([1, -2, 0.5] as [Float])
        XCTAssertEqual(f.shape, [3])
        XCTAssertEqual(f.bytes(), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 0, 0, 0, 0x3F], "little-endian IEEE 754")
        let raw: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]
        let r = raw.withUnsafeBytes { Tensor(bytes: $0, shape: [2], dtype: .float32) }
        XCTAssertEqual(r.toArray(Float.self), [1, 2])
        let h = [UInt8]([0x00, 0x3C, 0x00, 0xC0]).withUnsafeBytes { Tensor(bytes: $0, shape: [2, 1], dtype: .float16) }
        XCTAssertEqual(h.toArray(Double.self), [1, -2])
        XCTAssertEqual(h.shape, [2, 1])

        XCTAssertEqual(Tensor([Int64.max, Int64.min]).toArray(Int64.self), [Int64.max, Int64.min])
        XCTAssertEqual(Tensor([true, false]).dtype, .bool)
        XCTAssertEqual(Tensor([7] as [Int32]).dtype, .int32)
        XCTAssertEqual(Tensor([7] as [UInt8]).dtype, .uint8)
        XCTAssertEqual(Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [3, 2]).shape, [3, 2])
        XCTAssertEqual(Tensor(scalar: 3, dtype: .int64).dtype, .int64)

        // The tensor owns a copy: changing the source array afterwards does not reach it.
        var source: [Float] = [1, 2]
        let copy = Tensor(source)
        source[0] = 100
        XCTAssertEqual(copy.toArray(Float.self), [1, 2])
    }

    func testToArrayConvertsDtype() {
        let f = Tensor([-2.7, -0.5, 0.5, 2.9] as [Float])
        XCTAssertEqual(f.toArray(Int64.self), [-2, 0, 0, 2], "float to integer truncates toward zero")
        XCTAssertEqual(f.toArray(Bool.self), [true, true, true, true])
        XCTAssertEqual(Tensor([0, 3] as [Int64]).toArray(Double.self), [0, 3])
        XCTAssertEqual(Tensor([true, false]).toArray(Float.self), [1, 0])
        XCTAssertEqual(f.permute(0).toArray(Float.self), [-2.7, -0.5, 0.5, 2.9])
        XCTAssertEqual(Tensor.arange(6).reshape(2, 3).T.toArray(Int64.self), [0, 3, 1, 4, 2, 5],
                       "non-contiguous views read in logical order")
    }

    func testConversions() {
        let x = Tensor([1.25, -3] as [Float])
        XCTAssertEqual(x.to(.float64).dtype, .float64)
        XCTAssertEqual(x.to(.float16).toArray(Double.self), [1.25, -3])
        XCTAssertEqual(x.to(.cpu).toArray(Float.self), [1.25, -3])
        let c = x.clone()
        c.fillInPlace(0)
        XCTAssertEqual(x.toArray(Float.self), [1.25, -3], "clone copies storage")
    }

    func testViewsShareStorage() {
        let base = Tensor.zeros([3, 4])
        base.slice(dim: 1, start: 1, end: 4, step: 2).fillInPlace(1)
        base.select(dim: 0, index: 2).addInPlace(5)
        base.narrow(dim: 0, start: 0, length: 1).T.mulInPlace(2)
        XCTAssertEqual(base.toArray(Float.self), [0, 2, 0, 2, 0, 1, 0, 1, 5, 6, 5, 6])

        let alias = base
        alias.zeroInPlace()
        XCTAssertEqual(base.sum().item(), 0, "Tensor is a reference type")
    }

    func testDescription() {
        XCTAssertEqual(Tensor([1, 2] as [Float]).description, "Tensor(shape: [2], dtype: float32, device: cpu, values: [1.0, 2.0])")
        XCTAssertEqual(Tensor.zeros([5, 5]).description, "Tensor(shape: [5, 5], dtype: float32, device: cpu)",
                       "large tensors omit their values")
        XCTAssertEqual(Tensor([true]).description, "Tensor(shape: [1], dtype: bool, device: cpu)")
    }

    func testShapeHelpers() {
        let x = Tensor.arange(24).reshape(2, 3, 4)
        XCTAssertEqual(x.flatten().shape, [24])
        XCTAssertEqual(x.flatten(startDim: 1).shape, [2, 12])
        XCTAssertEqual(x.flatten(startDim: 0, endDim: 1).shape, [6, 4])
        XCTAssertEqual(x.flatten(startDim: -2, endDim: -1).shape, [2, 12])
        XCTAssertEqual(Tensor(scalar: 1).flatten().shape, [1])
        XCTAssertEqual(x.chunked(2, dim: 2).map(\.shape), [[2, 3, 2], [2, 3, 2]])
        XCTAssertEqual(x.chunked(5, dim: 1).map(\.shape), [[2, 1, 4], [2, 1, 4], [2, 1, 4]])
        XCTAssertEqual(Tensor.zeros([0, 2]).chunked(3).map(\.shape), [[0, 2]])
        XCTAssertEqual(x.split(sizes: [1, 1], dim: 0).map(\.shape), [[1, 3, 4], [1, 3, 4]])
        XCTAssertEqual(x.slice(dim: 2, start: -2).toArray(Int64.self).prefix(4), [2, 3, 6, 7])
    }

    func testTypes() {
        XCTAssertEqual(DType.allCases.map(\.byteSize), [1, 1, 2, 4, 8, 2, 4, 8, 1, 2])
        XCTAssertEqual(DType.allCases.filter(\.isFloatingPoint), [.float16, .float32, .float64, .bfloat16])
        XCTAssertEqual(DType.allCases.map(\.description),
                       ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool", "bfloat16"])
        for dtype in DType.allCases {
            XCTAssertEqual(Tensor.zeros([2], dtype: dtype).dtype, dtype, "\(dtype) maps onto libtorch's code")
        }

        XCTAssertEqual(Device("cpu"), .cpu)
        XCTAssertEqual(Device("cuda"), .cuda(0))
        XCTAssertEqual(Device("cuda:3"), .cuda(3))
        XCTAssertNil(Device("cuda:-1"))
        XCTAssertNil(Device("cuda:x"))
        XCTAssertNil(Device("gpu"))
        XCTAssertEqual(Device.cuda(2).description, "cuda:2")
        XCTAssertEqual(Device.cpu.description, "cpu")

        let s: Size2 = 3
        XCTAssertEqual(s, Size2(3, 3))
        XCTAssertEqual(s.description, "3")
        XCTAssertEqual(Size2(2, 5).description, "(2, 5)")
        XCTAssertEqual(Size2(4).h, 4)
        XCTAssertEqual(PaddingMode(rawValue: "reflect"), .reflect)
        XCTAssertEqual(Reduction.sum.rawValue, 2)
    }
}
