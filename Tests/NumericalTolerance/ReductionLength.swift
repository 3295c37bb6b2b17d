import NN
import Torch

/// Reduction lengths (see `RoundingTolerance`) derived from shapes, so that tests state where
/// their K comes from instead of typing a number.
public enum ReductionLength {
    /// The longest chain of roundings through a network for an N×C×H×W input: the sum over its
    /// layers of the longest sum each one forms. Forward only, or forward and backward (the
    /// backward pass runs the same sums transposed, then a weight gradient sums over N·H·W).
    ///
    /// - convolution: max(C_in, C_out)/groups·kh·kw (the output sums over C_in·k², the input
    ///   gradient over C_out·k²), plus C_out + C_in·k² when spectrally normalised (the power
    ///   iteration's two products);
    /// - linear: max(in, out);
    /// - instance norm: H·W; batch norm: N·H·W; any other normalisation (layer or group norm):
    ///   C·H·W with the widest C in the network;
    /// - a CBAM gate or any other attention module: H·W + C (its pooled means).
    ///
    /// Sizes are the input's, the largest a layer of these encoder–decoder networks sees, so the
    /// count is an upper bound for every layer.
    public static func network(_ module: Module, batch: Int, height: Int, width: Int, backward: Bool) -> Int {
        let pixels = height * width
        var widest = 1
        for (_, m) in module.namedModules() {
            if let c = m as? Conv2d { widest = Swift.max(widest, c.inChannels, c.outChannels) }
            if let c = m as? ConvTranspose2d { widest = Swift.max(widest, c.inChannels, c.outChannels) }
        }
        var total = 0
        for (_, m) in module.namedModules() {
            let kind = String(describing: type(of: m))
            if let c = m as? Conv2d {
                let k = c.kernelSize.h * c.kernelSize.w
                total += Swift.max(c.inChannels, c.outChannels) / c.groups * k
                if c.spectralNorm != nil { total += c.outChannels + c.inChannels * k }
            } else if let c = m as? ConvTranspose2d {
                total += Swift.max(c.inChannels, c.outChannels) / c.groups * c.kernelSize.h * c.kernelSize.w
            } else if let l = m as? Linear {
                total += Swift.max(l.inFeatures, l.outFeatures)
            } else if m is InstanceNorm2d {
                total += pixels
            } else if m is BatchNorm2d {
                total += batch * pixels
            } else if kind.contains("Norm") {
                total += widest * pixels
            } else if kind == "CBAM" || kind.contains("Attention") {
                total += pixels + widest
            }
        }
        return backward ? 2 * total + batch * pixels : Swift.max(1, total)
    }

    /// An upper bound for one op: no output or gradient element can sum more terms than there are
    /// elements in its inputs and outputs together.
    public static func op(_ tensors: [Tensor]) -> Int {
        Swift.max(1, tensors.reduce(0) { $0 + $1.count })
    }
}
