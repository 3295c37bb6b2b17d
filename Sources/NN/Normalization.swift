import Torch

/// Instance normalisation over each sample's channels; by default without affine parameters
/// or running statistics (the pix2pix/CycleGAN setting).
public final class InstanceNorm2d: Module, UnaryLayer {
    @OptionalParameter public var weight: Tensor? = nil
    @OptionalParameter public var bias: Tensor? = nil
    @OptionalBuffer(key: "running_mean") public var runningMean: Tensor? = nil
    @OptionalBuffer(key: "running_var") public var runningVar: Tensor? = nil
    /// Never incremented (PyTorch's instance norm leaves it at 0), but part of the state dict.
    @OptionalBuffer(key: "num_batches_tracked") public var numBatchesTracked: Tensor? = nil
    public let numFeatures: Int
    public let eps: Double, momentum: Double
    public let trackRunningStats: Bool

    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = false,
                trackRunningStats: Bool = false) {
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.trackRunningStats = trackRunningStats
        super.init()
        weight = affine ? Tensor.ones([numFeatures]) : nil
        bias = affine ? Tensor.zeros([numFeatures]) : nil
        runningMean = trackRunningStats ? Tensor.zeros([numFeatures]) : nil
        runningVar = trackRunningStats ? Tensor.ones([numFeatures]) : nil
        numBatchesTracked = trackRunningStats ? Tensor.zeros([], dtype: .int64) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.instanceNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                       useInputStats: isTraining || !trackRunningStats, momentum: momentum, eps: eps)
    }
}

/// Batch normalisation with running statistics, as `nn.BatchNorm2d`.
public final class BatchNorm2d: Module, UnaryLayer {
    @OptionalParameter public var weight: Tensor? = nil
    @OptionalParameter public var bias: Tensor? = nil
    @OptionalBuffer(key: "running_mean") public var runningMean: Tensor? = nil
    @OptionalBuffer(key: "running_var") public var runningVar: Tensor? = nil
    @OptionalBuffer(key: "num_batches_tracked") public var numBatchesTracked: Tensor? = nil
    public let numFeatures: Int
    public let eps: Double, momentum: Double

    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        super.init()
        weight = affine ? Tensor.ones([numFeatures]) : nil
        bias = affine ? Tensor.zeros([numFeatures]) : nil
        runningMean = trackRunningStats ? Tensor.zeros([numFeatures]) : nil
        runningVar = trackRunningStats ? Tensor.ones([numFeatures]) : nil
        numBatchesTracked = trackRunningStats ? Tensor.zeros([], dtype: .int64) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        // The batch count is an int64 scalar, as in PyTorch's state dict; adding 1 in place
        // keeps its type.
        if isTraining, let n = numBatchesTracked { n.addInPlace(1) }
        let useBatchStats = isTraining || runningMean == nil
        return x.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                           training: useBatchStats, momentum: momentum, eps: eps)
    }
}
