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
        let output = try g.emit(generator, "sketch")
        var graph = Onnx_GraphProto()
        graph.name = "sketch2real-\(config.model.rawValue)"
        graph.node = g.nodes
        graph.initializer = g.initializers
        graph.input = [valueInfo("sketch", channels: generator.inputChannels)]
        graph.output = [valueInfo("image", channels: generator.outputChannels)]
        graph.node.append(node("Identity", [output], ["image"]))
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "sketch2real"
        model.producerVersion = SystemReport.version
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.domain = ""
        opsetImport.version = opset
        model.opsetImport = [opsetImport]
        model.graph = graph
        var stride = Onnx_StringStringEntryProto()
        (stride.key, stride.value) = ("stride", String(generator.stride))
        var training = Onnx_StringStringEntryProto()
        (training.key, training.value) = ("sketch2real.training", try config.json())
        model.metadataProps = [stride, training]
        return try model.serializedBytes()
    }

    static func valueInfo(_ name: String, channels: Int) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = [Dim.param("batch"), Dim.value(channels), Dim.param("height"), Dim.param("width")].map(\.proto)
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
                return op("Conv", inputs, [attribute("kernel_shape", ints: [c.kernelSize.h, c.kernelSize.w]),
                                           attribute("strides", ints: [c.stride.h, c.stride.w]),
                                           attribute("pads", ints: [c.padding.h, c.padding.w, c.padding.h, c.padding.w]),
                                           attribute("dilations", ints: [c.dilation.h, c.dilation.w])])
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
                guard b.modulation == nil else { throw InteropError("ONNX export: LSRAGAN's modulated blocks are not written yet") }
                let residual = try emit(b.convBlock, x)
                return op("Add", [x, try b.attention.map { try emit($0, residual) } ?? residual])
            case let g as Pix2PixGenerator:
                return try emit(g.model, x)
            case let g as SRAGANGenerator:
                guard g.config.latentChannels == 0 else { throw InteropError("ONNX export: LSRAGAN (a generator with a latent code) is not written yet") }
                var h = try emit(g.encoder, x)
                for b in g.blocks { h = try emit(b, h) }
                var out = try emit(g.decoder, h)
                if let shortcut = g.shortcut { out = op("Add", [out, try emit(shortcut, x)]) }
                return op("Tanh", [out])
            default:
                throw InteropError("ONNX export: no ONNX form for \(type(of: module)) yet (pix2pix and SRAGAN generators are exported; LSRAGAN, BicycleGAN and MSGAN come next)")
            }
        }
    }
}
