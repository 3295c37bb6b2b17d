import Foundation
import NN
import Sketch2RealProtos
import SwiftProtobuf
import Torch

/// Writes a generator as an ONNX model (opset 17, IR version 8): one node per layer, the weights
/// as float32 initialisers, input `sketch` and output `image` with a dynamic batch and dynamic
/// height and width (multiples of the generator's stride). Built from the modules themselves,
/// so the graph computes what `translate` computes (evaluation mode: dropout is the identity,
/// batch norm uses its running statistics).
public enum ONNXExport {
    public static let opset: Int64 = 17
    public static let irVersion: Int64 = 8

    /// The model's bytes; a layer without an ONNX form here is an error that names it.
    public static func model(_ generator: any SketchToImageGenerator, config: TrainingConfig) throws -> [UInt8] {
        var g = GraphBuilder()
        let latent = (generator as? any LatentImageGenerator)?.latentChannels ?? 0
        if latent > 0 { g.code = "z" }
        let output = try g.emit(generator, "sketch")
        var graph = Onnx_GraphProto()
        graph.name = "sketch2real-\(config.model.rawValue)"
        graph.node = g.nodes
        graph.initializer = g.initializers
        graph.input = [valueInfo("sketch", channels: generator.inputChannels)]
        if latent > 0 { graph.input.append(codeInfo("z", channels: latent)) }
        graph.output = [valueInfo("image", channels: generator.outputChannels)]
        graph.node.append(node("Identity", [output], ["image"]))
        return try wrap(graph, config: config, stride: generator.stride)
    }

    /// The encoder E of LSRAGAN and BicycleGAN: input `photo` (N×C×H×W in [-1, 1]), outputs `mu`
    /// and `logvar` (N×nz), the code's mean and log-variance.
    public static func encoder(_ e: LatentEncoder, config: TrainingConfig) throws -> [UInt8] {
        var g = GraphBuilder()
        let features = g.op("ReduceMean", [try g.emit(e.conv, "photo")], [attribute("axes", ints: [2, 3]), attribute("keepdims", int: 0)])
        let mu = try g.emit(e.fc, features), logvar = try g.emit(e.fcVar, features)
        var graph = Onnx_GraphProto()
        graph.name = "sketch2real-\(config.model.rawValue)-encoder"
        graph.node = g.nodes + [node("Identity", [mu], ["mu"]), node("Identity", [logvar], ["logvar"])]
        graph.initializer = g.initializers
        graph.input = [valueInfo("photo", channels: e.config.inputChannels)]
        graph.output = [codeInfo("mu", channels: e.config.latentChannels), codeInfo("logvar", channels: e.config.latentChannels)]
        return try wrap(graph, config: config, stride: e.config.minimumSide)
    }

    static func wrap(_ graph: Onnx_GraphProto, config: TrainingConfig, stride: Int) throws -> [UInt8] {
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "sketch2real"
        model.producerVersion = SystemReport.version
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.domain = ""
        opsetImport.version = opset
        model.opsetImport = [opsetImport]
        model.graph = graph
        var strideEntry = Onnx_StringStringEntryProto()
        (strideEntry.key, strideEntry.value) = ("stride", String(stride))
        var training = Onnx_StringStringEntryProto()
        (training.key, training.value) = ("sketch2real.training", try config.json())
        model.metadataProps = [strideEntry, training]
        return try model.serializedBytes()
    }

    /// A float32 N × C × H × W image with dynamic batch, height and width.
    static func valueInfo(_ name: String, channels: Int) -> Onnx_ValueInfoProto {
        info(name, [.param("batch"), .value(channels), .param("height"), .param("width")])
    }

    static func info(_ name: String, _ dims: [Dim]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map(\.proto)
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    /// A float32 N × channels code (`z`, `mu`, `logvar`).
    static func codeInfo(_ name: String, channels: Int) -> Onnx_ValueInfoProto { info(name, [.param("batch"), .value(channels)]) }

    enum Dim {
        case value(Int), param(String)
        var proto: Onnx_TensorShapeProto.Dimension {
            var d = Onnx_TensorShapeProto.Dimension()
            switch self {
            case .value(let v): d.dimValue = Int64(v)
            case .param(let p): d.dimParam = p
            }
            return d
        }
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        n.name = outputs[0]
        return n
    }

    static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.ints) = (name, .ints, ints.map(Int64.init))
        return a
    }

    static func attribute(_ name: String, float: Double) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.f) = (name, .float, Float(float))
        return a
    }

    static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.i) = (name, .int, Int64(int))
        return a
    }

    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.s) = (name, .string, Data(string.utf8))
        return a
    }

    /// The nodes and weights of a graph under construction.
    struct GraphBuilder {
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        private var count = 0
        /// The latent code's graph input, for generators that take one.
        var code: String?

        func needCode() throws -> String {
            guard let code else { throw InteropError("ONNX export: this layer needs the latent code z") }
            return code
        }

        mutating func ints(_ values: [Int64], _ prefix: String) -> String { constant(Tensor(values, shape: [values.count]), prefix) }

        /// cat(h, z tiled over h's height and width) along channels.
        mutating func withTiledCode(_ h: String) throws -> String {
            let z = op("Unsqueeze", [try needCode(), ints([2, 3], "axes")])
            let batchAndCode = op("Slice", [op("Shape", [z]), ints([0], "starts"), ints([2], "ends")])
            let heightAndWidth = op("Slice", [op("Shape", [h]), ints([2], "starts"), ints([4], "ends")])
            let target = op("Concat", [batchAndCode, heightAndWidth], [attribute("axis", int: 0)])
            return op("Concat", [h, op("Expand", [z, target])], [attribute("axis", int: 1)])
        }

        /// A linear map of z, split into per-channel (γ, β) pairs as N×C×1×1: the modulations.
        mutating func modulations(_ linear: Linear, sizes: [Int]) throws -> [String] {
            let params = op("Unsqueeze", [try emit(linear, try needCode()), ints([2, 3], "axes")])
            var outputs: [String] = []
            for _ in sizes { outputs.append(fresh("split")) }
            nodes.append(ONNXExport.node("Split", [params, ints(sizes.map(Int64.init), "sizes")], outputs, [attribute("axis", int: 1)]))
            return outputs
        }

        /// A linear map of z plus one, split along channels into N×C input scales of demodulated
        /// convolutions (`Demodulation`).
        mutating func codeScales(_ linear: Linear, sizes: [Int]) throws -> [String] {
            let scales = op("Add", [try emit(linear, try needCode()), constant(Tensor([Float(1)], shape: [1]), "one")])
            guard sizes.count > 1 else { return [scales] }
            var outputs: [String] = []
            for _ in sizes { outputs.append(fresh("split")) }
            nodes.append(ONNXExport.node("Split", [scales, ints(sizes.map(Int64.init), "sizes")], outputs, [attribute("axis", int: 1)]))
            return outputs
        }

        static func convolutionAttributes(_ c: Conv2d) -> [Onnx_AttributeProto] {
            [attribute("kernel_shape", ints: [c.kernelSize.h, c.kernelSize.w]),
             attribute("strides", ints: [c.stride.h, c.stride.w]),
             attribute("pads", ints: [c.padding.h, c.padding.w, c.padding.h, c.padding.w]),
             attribute("dilations", ints: [c.dilation.h, c.dilation.w])]
        }

        /// `Demodulation.convolve(c, x, scale:)`: without a scale, one convolution with the
        /// demodulated weights as a constant; with `scale` (N×in), x·s convolved with w, then each
        /// example's output channel multiplied by 1/√(s²·Σw² + ε) and the bias added.
        mutating func demodulatedConvolution(_ c: Conv2d, _ x: String, scale: String?) throws -> String {
            guard c.groups == 1, c.spectralNorm == nil, c.dilation == 1 else {
                throw InteropError("ONNX export: a grouped, dilated or spectrally normalised demodulated convolution")
            }
            let out = c.outChannels
            let (weight, squares) = withNoGrad { (c.weight.detached(), c.weight.detached().pow(2).sum(dims: [2, 3])) } // out × in
            guard let scale else {
                let d = withNoGrad { (squares.sum(dims: [1]) + Demodulation.epsilon).rsqrt().reshape([out, 1, 1, 1]) }
                var inputs = [x, constant(withNoGrad { weight * d }, "weight")]
                if let b = c.bias { inputs.append(constant(b, "bias")) }
                return op("Conv", inputs, Self.convolutionAttributes(c))
            }
            let axes = ints([2, 3], "axes")
            let convolved = op("Conv", [op("Mul", [x, op("Unsqueeze", [scale, axes])]), constant(weight, "weight")],
                               Self.convolutionAttributes(c))
            let energy = op("MatMul", [op("Mul", [scale, scale]), constant(withNoGrad { squares.transposed(0, 1) }, "squares")])
            let epsilon = constant(Tensor([Float(Demodulation.epsilon)], shape: [1]), "eps")
            let d = op("Reciprocal", [op("Sqrt", [op("Add", [energy, epsilon])])]) // N × out
            let y = op("Mul", [convolved, op("Unsqueeze", [d, axes])])
            return c.bias.map { op("Add", [y, constant($0.reshape([out, 1, 1]), "bias")]) } ?? y
        }

        /// `layers` in order, the convolutions at `convolutions` demodulated, the k-th with input
        /// scale `scales[k]` (nil: s = 1 for all).
        mutating func demodulatedSequence(_ layers: Sequential, _ x: String, convolutions: [Int], scales: [String]?) throws -> String {
            var h = x
            for (i, layer) in layers.layers.enumerated() {
                if let k = convolutions.firstIndex(of: i), let conv = layer as? Conv2d {
                    h = try demodulatedConvolution(conv, h, scale: scales?[k])
                } else {
                    h = try emit(layer as! Module, h)
                }
            }
            return h
        }

        /// h·(γ + 1) + β.
        mutating func modulate(_ h: String, _ gamma: String, _ beta: String) -> String {
            op("Add", [op("Mul", [h, op("Add", [gamma, constant(Tensor([Float(1)], shape: [1]), "one")])]), beta])
        }

        /// `layers` in order, modulating the outputs at `positions` by the given (γ, β).
        mutating func sequence(_ layers: Sequential, _ x: String, modulated: [Int: (String, String)]) throws -> String {
            var h = x
            for (i, layer) in layers.layers.enumerated() {
                h = try emit(layer as! Module, h)
                if let (gamma, beta) = modulated[i] { h = modulate(h, gamma, beta) }
            }
            return h
        }

        mutating func latentBlock(_ b: LatentUNetBlock, _ x: String) throws -> String {
            let input = b.latentChannels > 0 ? try withTiledCode(x) : x
            var h = try emit(b.down, input)
            if let sub = b.submodule { h = try latentBlock(sub, h) }
            h = try emit(b.up, h)
            return b.outermost ? h : op("Concat", [h, x], [attribute("axis", int: 1)])
        }

        mutating func fresh(_ prefix: String) -> String {
            count += 1
            return "\(prefix)_\(count)"
        }

        /// A float32 (or int64) weight as an initialiser.
        mutating func constant(_ t: Tensor, _ prefix: String) -> String {
            let name = fresh(prefix)
            var proto = Onnx_TensorProto()
            proto.name = name
            proto.dims = t.shape.map(Int64.init)
            let value = t.dtype == .int64 ? t.contiguous() : t.to(.float32).contiguous()
            proto.dataType = Int32(value.dtype == .int64 ? Onnx_TensorProto.DataType.int64.rawValue : Onnx_TensorProto.DataType.float.rawValue)
            proto.rawData = Data(value.bytes())
            initializers.append(proto)
            return name
        }

        mutating func op(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
            let out = fresh(op.lowercased())
            nodes.append(ONNXExport.node(op, inputs, [out], attributes))
            return out
        }

        mutating func emit(_ module: Module, _ x: String) throws -> String {
            switch module {
            case let s as Sequential:
                var h = x
                for layer in s.layers { h = try emit(layer as! Module, h) }
                return h
            case let c as Conv2d:
                guard c.groups == 1, c.spectralNorm == nil else { throw InteropError("ONNX export: a grouped or spectrally normalised convolution") }
                var inputs = [x, constant(c.weight, "weight")]
                if let b = c.bias { inputs.append(constant(b, "bias")) }
                return op("Conv", inputs, Self.convolutionAttributes(c))
            case let c as ConvTranspose2d:
                guard c.groups == 1 else { throw InteropError("ONNX export: a grouped transposed convolution") }
                var inputs = [x, constant(c.weight, "weight")]
                if let b = c.bias { inputs.append(constant(b, "bias")) }
                return op("ConvTranspose", inputs, [attribute("kernel_shape", ints: [c.kernelSize.h, c.kernelSize.w]),
                                                    attribute("strides", ints: [c.stride.h, c.stride.w]),
                                                    attribute("pads", ints: [c.padding.h, c.padding.w, c.padding.h, c.padding.w]),
                                                    attribute("output_padding", ints: [c.outputPadding.h, c.outputPadding.w]),
                                                    attribute("dilations", ints: [c.dilation.h, c.dilation.w])])
            case let n as BatchNorm2d:
                let c = n.numFeatures
                guard let mean = n.runningMean, let variance = n.runningVar else { throw InteropError("ONNX export: batch norm without running statistics") }
                let scale = constant(n.weight ?? Tensor.ones([c]), "scale"), shift = constant(n.bias ?? Tensor.zeros([c]), "shift")
                return op("BatchNormalization", [x, scale, shift, constant(mean, "mean"), constant(variance, "var")],
                          [attribute("epsilon", float: n.eps)])
            case let n as InstanceNorm2d:
                guard !n.trackRunningStats else { throw InteropError("ONNX export: instance norm with running statistics") }
                let c = n.numFeatures
                let scale = constant(n.weight ?? Tensor.ones([c]), "scale"), shift = constant(n.bias ?? Tensor.zeros([c]), "shift")
                return op("InstanceNormalization", [x, scale, shift], [attribute("epsilon", float: n.eps)])
            case let n as LayerNorm2d:
                // GroupNorm(1, C) from primitives (opset 17's LayerNormalization wants a scale of
                // the normalised shape, C×H×W, which a size-agnostic graph does not know): each
                // sample's mean and biased variance over C, H, W, then the per-channel scale and shift.
                let axes = [attribute("axes", ints: [1, 2, 3]), attribute("keepdims", int: 1)]
                let centred = op("Sub", [x, op("ReduceMean", [x], axes)])
                let variance = op("ReduceMean", [op("Mul", [centred, centred])], axes)
                let normalised = op("Div", [centred, op("Sqrt", [op("Add", [variance, constant(Tensor([Float(n.eps)], shape: [1]), "eps")])])])
                let c = n.numChannels
                return op("Add", [op("Mul", [normalised, constant(n.weight.reshape([c, 1, 1]), "scale")]), constant(n.bias.reshape([c, 1, 1]), "shift")])
            case is ReLU: return op("Relu", [x])
            case let l as LeakyReLU: return op("LeakyRelu", [x], [attribute("alpha", float: l.negativeSlope)])
            case is Tanh: return op("Tanh", [x])
            case is Sigmoid: return op("Sigmoid", [x])
            case is Identity, is Dropout: return x
            case let p as ReflectionPad2d:
                // ONNX pads: (N, C, H, W) begins, then ends; ours: left, right, top, bottom.
                let pads = constant(Tensor([0, 0, p.padding[2], p.padding[0], 0, 0, p.padding[3], p.padding[1]].map(Int64.init), shape: [8]), "pads")
                return op("Pad", [x, pads], [attribute("mode", string: "reflect")])
            case let u as Upsample:
                guard u.mode == .nearest else { throw InteropError("ONNX export: bilinear upsampling is not written yet") }
                let scales = constant(Tensor([1, 1, Float(u.scale), Float(u.scale)], shape: [4]), "scales")
                return op("Resize", [x, "", scales], [attribute("mode", string: "nearest"),
                                                     attribute("coordinate_transformation_mode", string: "asymmetric"),
                                                     attribute("nearest_mode", string: "floor")])
            case let b as UNetBlock:
                let inner = try emit(b.model, x)
                return b.outermost ? inner : op("Concat", [x, inner], [attribute("axis", int: 1)])
            case let p as AvgPool2d:
                return op("AveragePool", [x], [attribute("kernel_shape", ints: [p.kernelSize.h, p.kernelSize.w]),
                                               attribute("strides", ints: [p.stride.h, p.stride.w]),
                                               attribute("pads", ints: [p.padding.h, p.padding.w, p.padding.h, p.padding.w]),
                                               attribute("ceil_mode", int: p.ceilMode ? 1 : 0),
                                               attribute("count_include_pad", int: p.countIncludePad ? 1 : 0)])
            case let b as EncoderBasicBlock:
                return op("Add", [try emit(b.conv, x), try emit(b.shortcut, x)])
            case let l as Linear:
                guard l.spectralNorm == nil else { throw InteropError("ONNX export: a spectrally normalised linear layer") }
                var inputs = [x, constant(l.weight, "weight")]
                if let b = l.bias { inputs.append(constant(b, "bias")) }
                return op("Gemm", inputs, [attribute("transB", int: 1)])
            case let g as ChannelGate:
                let avg = op("ReduceMean", [x], [attribute("axes", ints: [2, 3]), attribute("keepdims", int: 0)])
                let max = op("ReduceMax", [x], [attribute("axes", ints: [2, 3]), attribute("keepdims", int: 0)])
                let scale = op("Sigmoid", [op("Add", [try emit(g.mlp, avg), try emit(g.mlp, max)])])
                let axes = constant(Tensor([2, 3] as [Int64], shape: [2]), "axes")
                return op("Mul", [x, op("Unsqueeze", [scale, axes])])
            case let g as SpatialGate:
                let pooled = op("Concat", [op("ReduceMax", [x], [attribute("axes", ints: [1]), attribute("keepdims", int: 1)]),
                                           op("ReduceMean", [x], [attribute("axes", ints: [1]), attribute("keepdims", int: 1)])],
                                [attribute("axis", int: 1)])
                return op("Mul", [x, op("Sigmoid", [try emit(g.bn, try emit(g.conv, pooled))])])
            case let c as CBAM:
                return try emit(c.spatialGate, try emit(c.channelGate, x))
            case let b as AttentionResidualBlock:
                let channels = b.convBlock.layers.compactMap { ($0 as? Conv2d)?.outChannels }.first ?? 0
                var residual: String
                if b.demodulated {
                    var scales: [String]?
                    if let m = b.modulation, code != nil { scales = try codeScales(m, sizes: [channels, channels]) }
                    residual = try demodulatedSequence(b.convBlock, x, convolutions: b.convolutionPositions, scales: scales)
                } else {
                    var modulated: [Int: (String, String)] = [:]
                    if let m = b.modulation, code != nil {
                        let p = try modulations(m, sizes: Array(repeating: channels, count: 4))
                        modulated = [b.normPositions[0]: (p[0], p[1]), b.normPositions[1]: (p[2], p[3])]
                    }
                    residual = try sequence(b.convBlock, x, modulated: modulated)
                }
                if let attention = b.attention { residual = try emit(attention, residual) }
                if let gain = b.residualGain {
                    residual = op("Mul", [residual, constant(gain.reshape([gain.size(0), 1, 1]), "gain")])
                }
                return op("Add", [x, residual])
            case let g as LatentUNetGenerator:
                return try latentBlock(g.model, x)
            case let g as Pix2PixGenerator:
                return try emit(g.model, x)
            case let g as SRAGANGenerator:
                var h: String
                let c = g.config
                // The evaluation-mode noise is a fixed map per size, but the graph's height and
                // width are dynamic: the map would have to be computed in the graph.
                guard !c.noiseInputs else {
                    throw InteropError("ONNX export: generators with noise inputs (--noise-inputs) cannot be exported yet; translate with sketch2real instead")
                }
                if c.latentChannels > 0, c.latentAtInput || c.latentAtEveryStage {
                    h = try withTiledCode(x)
                    for (i, layer) in g.encoder.layers.enumerated() {
                        if c.latentAtEveryStage, i > 1, layer is Conv2d { h = try withTiledCode(h) }
                        h = try emit(layer as! Module, h)
                    }
                } else {
                    h = try emit(g.encoder, x)
                }
                for b in g.blocks { h = try emit(b, h) }
                var out: String
                if c.demodulate {
                    var scales: [String]?
                    if let m = g.modulation, code != nil { scales = try codeScales(m, sizes: g.decoderConvolutions.map(\.channels)) }
                    out = try demodulatedSequence(g.decoder, h, convolutions: g.decoderConvolutions.map(\.position), scales: scales)
                } else {
                    var modulated: [Int: (String, String)] = [:]
                    if let m = g.modulation, code != nil {
                        let p = try modulations(m, sizes: g.decoderNorms.flatMap { [$0.channels, $0.channels] })
                        for (k, norm) in g.decoderNorms.enumerated() { modulated[norm.position] = (p[2 * k], p[2 * k + 1]) }
                    }
                    out = try sequence(g.decoder, h, modulated: modulated)
                }
                if let shortcut = g.shortcut { out = op("Add", [out, try emit(shortcut, x)]) }
                return op("Tanh", [out])
            default:
                throw InteropError("ONNX export: no ONNX form for \(type(of: module)) yet (the generators of every model family are exported)")
            }
        }
    }
}
