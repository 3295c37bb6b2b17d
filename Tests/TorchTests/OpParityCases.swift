import Foundation
import NumericalTolerance
import XCTest
@testable import Torch

/// The inputs of one fixture case; a missing name is a test failure, not a crash.
struct CaseInputs {
    let caseName: String
    let tensors: [String: Tensor]

    subscript(_ name: String) -> Tensor {
        get throws {
            guard let t = tensors[name] else { throw TorchError("case \(caseName) has no input '\(name)'") }
            return t
        }
    }
    func optional(_ name: String) -> Tensor? { tensors[name] }
}

/// The scalar arguments of one fixture case, parsed from its JSON metadata.
struct CaseArgs {
    let caseName: String
    let raw: [String: Any]

    private func value(_ key: String) throws -> Any {
        guard let v = raw[key] else { throw TorchError("case \(caseName) has no argument '\(key)'") }
        return v
    }
    private func bad(_ key: String, _ kind: String) -> TorchError {
        TorchError("case \(caseName): argument '\(key)' is not \(kind): \(raw[key] ?? "nil")")
    }
    func isNull(_ key: String) -> Bool { raw[key] == nil || raw[key] is NSNull }

    func int(_ key: String) throws -> Int {
        guard let n = try value(key) as? NSNumber else { throw bad(key, "an integer") }
        return n.intValue
    }
    func optionalInt(_ key: String) throws -> Int? { isNull(key) ? nil : try int(key) }
    func ints(_ key: String) throws -> [Int] {
        guard let a = try value(key) as? [NSNumber] else { throw bad(key, "a list of integers") }
        return a.map(\.intValue)
    }
    func double(_ key: String) throws -> Double {
        guard let n = try value(key) as? NSNumber else { throw bad(key, "a number") }
        return n.doubleValue
    }
    func optionalDouble(_ key: String) throws -> Double? { isNull(key) ? nil : try double(key) }
    func bool(_ key: String) throws -> Bool {
        guard let b = try value(key) as? Bool else { throw bad(key, "a boolean") }
        return b
    }
    func string(_ key: String) throws -> String {
        guard let s = try value(key) as? String else { throw bad(key, "a string") }
        return s
    }
    func size2(_ key: String) throws -> Size2 {
        let v = try ints(key)
        guard v.count == 2 else { throw bad(key, "a pair") }
        return Size2(v[0], v[1])
    }
    func optionalSize2(_ key: String) throws -> Size2? { isNull(key) ? nil : try size2(key) }
    func dtype(_ key: String) throws -> DType {
        let name = try string(key)
        guard let d = DType.allCases.first(where: { $0.description == name }) else { throw bad(key, "a dtype") }
        return d
    }
    func reduction(_ key: String = "reduction") throws -> Reduction {
        switch try string(key) {
        case "none": return .none
        case "mean": return .mean
        case "sum": return .sum
        default: throw bad(key, "a reduction")
        }
    }
    func seed() throws -> UInt64 { UInt64(try int("seed")) }
}

typealias CaseOutputs = [String: Tensor]
typealias OpFunction = @Sendable (CaseInputs, CaseArgs) throws -> CaseOutputs

private func out(_ t: Tensor) -> CaseOutputs { ["out": t] }
private func outs(_ ts: [Tensor]) -> CaseOutputs {
    Dictionary(uniqueKeysWithValues: ts.enumerated().map { ("out.\($0.offset)", $0.element) })
}
/// An op's result together with running statistics it updated in place.
private func withStatistics(_ y: Tensor, _ mean: Tensor?, _ variance: Tensor?) -> CaseOutputs {
    guard let mean, let variance else { return out(y) }
    return ["out": y, "out.running_mean": mean, "out.running_var": variance]
}

/// A tensor built from JSON values through the typed initialiser for `dtype`.
private func tensorFromValues(_ values: [NSNumber], shape: [Int], dtype: DType) throws -> Tensor {
    switch dtype {
    case .float32: return Tensor(values.map(\.floatValue), shape: shape)
    case .float64: return Tensor(values.map(\.doubleValue), shape: shape)
    case .int64: return Tensor(values.map(\.int64Value), shape: shape)
    case .int32: return Tensor(values.map(\.int32Value), shape: shape)
    case .uint8: return Tensor(values.map(\.uint8Value), shape: shape)
    case .bool: return Tensor(values.map(\.boolValue), shape: shape)
    default: throw TorchError("no typed initialiser for \(dtype)")
    }
}

/// One Swift implementation per op name used in ops.safetensors, mirroring OPS in
/// Tests/Fixtures/make_op_fixtures.py.
let opTable: [String: OpFunction] = [
    // creation
    "zeros": { _, a in out(Tensor.zeros(try a.ints("shape"), dtype: try a.dtype("dtype"))) },
    "ones": { _, a in out(Tensor.ones(try a.ints("shape"), dtype: try a.dtype("dtype"))) },
    "full": { _, a in out(Tensor.full(try a.ints("shape"), try a.double("value"), dtype: try a.dtype("dtype"))) },
    "arange": { _, a in
        out(Tensor.arange(try a.double("start"), try a.double("end"), step: try a.double("step"), dtype: try a.dtype("dtype")))
    },
    "arange_end": { _, a in out(Tensor.arange(try a.int("end"))) },
    "from_values": { _, a in
        guard let values = a.raw["values"] as? [NSNumber] else { throw TorchError("values missing") }
        return out(try tensorFromValues(values, shape: try a.ints("shape"), dtype: try a.dtype("dtype")))
    },
    "scalar": { _, a in out(Tensor(scalar: try a.double("value"), dtype: try a.dtype("dtype"))) },
    "rand": { _, a in
        Torch.manualSeed(try a.seed())
        return out(Tensor.rand(try a.ints("shape"), dtype: try a.dtype("dtype")))
    },
    "randn": { _, a in
        Torch.manualSeed(try a.seed())
        return out(Tensor.randn(try a.ints("shape"), dtype: try a.dtype("dtype")))
    },
    "randint": { _, a in
        Torch.manualSeed(try a.seed())
        return out(Tensor.randint(try a.int("low"), try a.int("high"), try a.ints("shape")))
    },
    "randperm": { _, a in
        Torch.manualSeed(try a.seed())
        return out(Tensor.randperm(try a.int("n")))
    },
    "normal_": { _, a in
        Torch.manualSeed(try a.seed())
        let t = Tensor.empty(try a.ints("shape"))
        t.normalInPlace(mean: try a.double("mean"), std: try a.double("std"))
        return out(t)
    },
    "uniform_": { _, a in
        Torch.manualSeed(try a.seed())
        let t = Tensor.empty(try a.ints("shape"))
        t.uniformInPlace(try a.double("low"), try a.double("high"))
        return out(t)
    },
    "rng_sequence": { _, a in
        Torch.manualSeed(try a.seed())
        let shape = try a.ints("shape")
        let first = Tensor.rand(shape), second = Tensor.randn(shape), third = Tensor.rand(shape)
        return outs([first, second, third])
    },

    // conversion
    "to_dtype": { t, a in out(try t["x"].to(try a.dtype("dtype"))) },
    "to_float64": { t, _ in out(try t["x"].to(.float64)) },
    "clone": { t, _ in out(try t["x"].clone()) },
    "contiguous": { t, a in out(try t["x"].permute(try a.ints("dims")).contiguous()) },
    "detached": { t, _ in out(try t["x"].detached() * t["y"]) },

    // shape
    "reshape": { t, a in out(try t["x"].reshape(try a.ints("shape"))) },
    "flatten": { t, a in out(try t["x"].flatten(startDim: try a.int("start"), endDim: try a.int("end"))) },
    "permute": { t, a in out(try t["x"].permute(try a.ints("dims"))) },
    "transpose": { t, a in out(try t["x"].transposed(try a.int("d0"), try a.int("d1"))) },
    "mT": { t, _ in out(try t["x"].T) },
    "expand": { t, a in out(try t["x"].expand(try a.ints("shape"))) },
    "repeat": { t, a in out(try t["x"].repeated(try a.ints("repeats"))) },
    "flip": { t, a in out(try t["x"].flipped(try a.ints("dims"))) },
    "squeeze": { t, a in out(try t["x"].squeezed(try a.int("dim"))) },
    "unsqueeze": { t, a in out(try t["x"].unsqueezed(try a.int("dim"))) },
    "slice": { t, a in
        out(try t["x"].slice(dim: try a.int("dim"), start: try a.int("start"), end: try a.optionalInt("end") ?? Int.max,
                             step: try a.int("step")))
    },
    "narrow": { t, a in out(try t["x"].narrow(dim: try a.int("dim"), start: try a.int("start"), length: try a.int("length"))) },
    "select": { t, a in out(try t["x"].select(dim: try a.int("dim"), index: try a.int("index"))) },
    "index_select": { t, a in out(try t["x"].indexSelect(dim: try a.int("dim"), index: try t["index"])) },
    "chunk": { t, a in outs(try t["x"].chunked(try a.int("chunks"), dim: try a.int("dim"))) },
    "split": { t, a in outs(try t["x"].split(sizes: try a.ints("sizes"), dim: try a.int("dim"))) },
    "cat": { t, a in out(Tensor.cat([try t["a"], try t["b"], try t["c"]], dim: try a.int("dim"))) },
    "stack": { t, a in out(Tensor.stack([try t["a"], try t["b"], try t["c"]], dim: try a.int("dim"))) },
    "pad": { t, a in
        guard let mode = PaddingMode(rawValue: try a.string("mode")) else { throw TorchError("unknown padding mode") }
        return out(try t["x"].padded(try a.ints("pad"), mode: mode, value: try a.optionalDouble("value") ?? 0))
    },

    // element-wise
    "add": { t, _ in out(try t["a"] + t["b"]) },
    "sub": { t, _ in out(try t["a"] - t["b"]) },
    "mul": { t, _ in out(try t["a"] * t["b"]) },
    "div": { t, _ in out(try t["a"] / t["b"]) },
    "add_alpha": { t, a in out(try t["a"].adding(t["b"], alpha: try a.double("alpha"))) },
    "pow_tensor": { t, _ in out(try t["a"].pow(t["b"])) },
    "maximum": { t, _ in out(try t["a"].maximum(t["b"])) },
    "minimum": { t, _ in out(try t["a"].minimum(t["b"])) },
    "lerp": { t, a in out(try t["a"].lerp(t["b"], weight: try a.double("weight"))) },
    "where": { t, _ in out(Tensor.where(try t["cond"], try t["a"], try t["b"])) },
    "eq": { t, _ in out(try t["a"].eq(t["b"])) },
    "ne": { t, _ in out(try t["a"].ne(t["b"])) },
    "lt": { t, _ in out(try t["a"].lt(t["b"])) },
    "le": { t, _ in out(try t["a"].le(t["b"])) },
    "gt": { t, _ in out(try t["a"].gt(t["b"])) },
    "ge": { t, _ in out(try t["a"].ge(t["b"])) },
    "add_scalar": { t, a in out(try t["x"] + a.double("s")) },
    "scalar_add": { t, a in out(try a.double("s") + t["x"]) },
    "sub_scalar": { t, a in out(try t["x"] - a.double("s")) },
    "scalar_sub": { t, a in out(try a.double("s") - t["x"]) },
    "mul_scalar": { t, a in out(try t["x"] * a.double("s")) },
    "scalar_mul": { t, a in out(try a.double("s") * t["x"]) },
    "div_scalar": { t, a in out(try t["x"] / a.double("s")) },
    "scalar_div": { t, a in out(try a.double("s") / t["x"]) },
    "pow_scalar": { t, a in out(try t["x"].pow(try a.double("s"))) },
    "eq_scalar": { t, a in out(try t["x"].eq(try a.double("s"))) },
    "lt_scalar": { t, a in out(try t["x"].lt(try a.double("s"))) },
    "gt_scalar": { t, a in out(try t["x"].gt(try a.double("s"))) },
    "neg": { t, _ in out(-(try t["x"])) },
    "abs": { t, _ in out(try t["x"].abs()) },
    "exp": { t, _ in out(try t["x"].exp()) },
    "log": { t, _ in out(try t["x"].log()) },
    "log1p": { t, _ in out(try t["x"].log1p()) },
    "sqrt": { t, _ in out(try t["x"].sqrt()) },
    "rsqrt": { t, _ in out(try t["x"].rsqrt()) },
    "square": { t, _ in out(try t["x"].square()) },
    "sin": { t, _ in out(try t["x"].sin()) },
    "cos": { t, _ in out(try t["x"].cos()) },
    "sign": { t, _ in out(try t["x"].sign()) },
    "floor": { t, _ in out(try t["x"].floor()) },
    "ceil": { t, _ in out(try t["x"].ceil()) },
    "round": { t, _ in out(try t["x"].rounded()) },
    "clamp": { t, a in out(try t["x"].clamp(min: try a.optionalDouble("min"), max: try a.optionalDouble("max"))) },
    "logical_not": { t, _ in out(try t["x"].logicalNot()) },

    // activations
    "relu": { t, _ in out(try t["x"].relu()) },
    "leaky_relu": { t, a in out(try t["x"].leakyRelu(try a.double("slope"))) },
    "sigmoid": { t, _ in out(try t["x"].sigmoid()) },
    "tanh": { t, _ in out(try t["x"].tanh()) },
    "softplus": { t, a in out(try t["x"].softplus(beta: try a.double("beta"), threshold: try a.double("threshold"))) },
    "softmax": { t, a in out(try t["x"].softmax(dim: try a.int("dim"))) },
    "log_softmax": { t, a in out(try t["x"].logSoftmax(dim: try a.int("dim"))) },

    // reductions
    "sum": { t, a in out(try t["x"].sum(dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "mean": { t, a in out(try t["x"].mean(dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "amax": { t, a in out(try t["x"].max(dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "amin": { t, a in out(try t["x"].min(dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "var": { t, a in
        out(try t["x"].variance(dims: try a.ints("dims"), correction: try a.int("correction"), keepDim: try a.bool("keepdim")))
    },
    "std": { t, a in
        out(try t["x"].std(dims: try a.ints("dims"), correction: try a.int("correction"), keepDim: try a.bool("keepdim")))
    },
    "norm": { t, a in out(try t["x"].norm(p: try a.double("p"), dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "logsumexp": { t, a in out(try t["x"].logSumExp(dims: try a.ints("dims"), keepDim: try a.bool("keepdim"))) },
    "argmax": { t, a in out(try t["x"].argmax(dim: try a.int("dim"), keepDim: try a.bool("keepdim"))) },
    "argmin": { t, a in out(try t["x"].argmin(dim: try a.int("dim"), keepDim: try a.bool("keepdim"))) },

    // linear algebra
    "matmul": { t, _ in out(try t["a"].matmul(t["b"])) },
    "mv": { t, _ in out(try t["a"].mv(t["b"])) },
    "dot": { t, _ in out(try t["a"].dot(t["b"])) },

    // in place, on a copy so the case's input stays intact
    "add_": { t, a in
        let r = try t["x"].clone()
        r.addInPlace(try t["y"], alpha: try a.double("alpha"))
        return out(r)
    },
    "add_scalar_": { t, a in
        let r = try t["x"].clone()
        r.addInPlace(try a.double("s"))
        return out(r)
    },
    "mul_": { t, _ in
        let r = try t["x"].clone()
        r.mulInPlace(try t["y"])
        return out(r)
    },
    "mul_scalar_": { t, a in
        let r = try t["x"].clone()
        r.mulInPlace(try a.double("s"))
        return out(r)
    },
    "addcmul_": { t, a in
        let r = try t["x"].clone()
        r.addcmulInPlace(try t["a"], try t["b"], value: try a.double("value"))
        return out(r)
    },
    "addcdiv_": { t, a in
        let r = try t["x"].clone()
        r.addcdivInPlace(try t["a"], try t["b"], value: try a.double("value"))
        return out(r)
    },
    "copy_": { t, _ in
        let r = try t["x"].clone()
        r.copyFrom(try t["y"])
        return out(r)
    },
    "zero_": { t, _ in
        let r = try t["x"].clone()
        r.zeroInPlace()
        return out(r)
    },
    "fill_": { t, a in
        let r = try t["x"].clone()
        r.fillInPlace(try a.double("value"))
        return out(r)
    },
    "clamp_": { t, a in
        let r = try t["x"].clone()
        r.clampInPlace(min: try a.double("min"), max: try a.double("max"))
        return out(r)
    },

    // neural-network functions
    "conv2d": { t, a in
        out(try t["x"].conv2d(weight: try t["w"], bias: t.optional("b"), stride: try a.size2("stride"),
                              padding: try a.size2("padding"), dilation: try a.size2("dilation"), groups: try a.int("groups")))
    },
    "conv_transpose2d": { t, a in
        out(try t["x"].convTranspose2d(weight: try t["w"], bias: t.optional("b"), stride: try a.size2("stride"),
                                       padding: try a.size2("padding"), outputPadding: try a.size2("output_padding"),
                                       groups: try a.int("groups"), dilation: try a.size2("dilation")))
    },
    "linear": { t, _ in out(try t["x"].linear(weight: try t["w"], bias: t.optional("b"))) },
    "batch_norm": { t, a in
        let mean = t.optional("running_mean"), variance = t.optional("running_var")
        let y = try t["x"].batchNorm(weight: t.optional("w"), bias: t.optional("b"), runningMean: mean, runningVar: variance,
                                     training: try a.bool("training"), momentum: try a.double("momentum"),
                                     eps: try a.double("eps"))
        return withStatistics(y, mean, variance)
    },
    "instance_norm": { t, a in
        let mean = t.optional("running_mean"), variance = t.optional("running_var")
        let y = try t["x"].instanceNorm(weight: t.optional("w"), bias: t.optional("b"), runningMean: mean,
                                        runningVar: variance, useInputStats: try a.bool("use_input_stats"),
                                        momentum: try a.double("momentum"), eps: try a.double("eps"))
        return withStatistics(y, mean, variance)
    },
    "avg_pool2d": { t, a in
        out(try t["x"].avgPool2d(kernel: try a.size2("kernel"), stride: try a.optionalSize2("stride"),
                                 padding: try a.size2("padding"), ceilMode: try a.bool("ceil_mode"),
                                 countIncludePad: try a.bool("count_include_pad")))
    },
    "max_pool2d": { t, a in
        out(try t["x"].maxPool2d(kernel: try a.size2("kernel"), stride: try a.optionalSize2("stride"),
                                 padding: try a.size2("padding"), dilation: try a.size2("dilation"),
                                 ceilMode: try a.bool("ceil_mode")))
    },
    "adaptive_avg_pool2d": { t, a in out(try t["x"].adaptiveAvgPool2d(try a.size2("size"))) },
    "adaptive_max_pool2d": { t, a in out(try t["x"].adaptiveMaxPool2d(try a.size2("size"))) },
    "upsample_nearest_size": { t, a in out(try t["x"].upsampleNearest(size: try a.size2("size"))) },
    "upsample_nearest_scale": { t, a in out(try t["x"].upsampleNearest(scale: try a.double("scale"))) },
    "upsample_bilinear_size": { t, a in
        out(try t["x"].upsampleBilinear(size: try a.size2("size"), alignCorners: try a.bool("align_corners")))
    },
    "upsample_bilinear_scale": { t, a in
        out(try t["x"].upsampleBilinear(scale: try a.double("scale"), alignCorners: try a.bool("align_corners")))
    },
    "dropout": { t, a in out(try t["x"].dropout(p: try a.double("p"), training: try a.bool("training"))) },
    "l1_loss": { t, a in out(try t["x"].l1Loss(try t["y"], reduction: try a.reduction())) },
    "mse_loss": { t, a in out(try t["x"].mseLoss(try t["y"], reduction: try a.reduction())) },
    "bce_with_logits": { t, a in
        out(try t["x"].bceWithLogits(try t["y"], weight: t.optional("weight"), posWeight: t.optional("pos_weight"),
                                     reduction: try a.reduction()))
    },
    "composite": { t, _ in
        var h = try t["x"].conv2d(weight: try t["w1"], bias: try t["b1"], stride: 2, padding: 1)
        h = h.instanceNorm(weight: try t["g"], bias: try t["beta"])
        h = h.leakyRelu(0.2)
        h = h.convTranspose2d(weight: try t["w2"], bias: try t["b2"], stride: 2, padding: 1, outputPadding: 1)
        return out(h.tanh().l1Loss(try t["target"]))
    },
]
