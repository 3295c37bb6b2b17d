import NN
import Torch

/// The cLR-GAN term |μ(E(G(x, z))) − z|₁: the encoder must recover the random code from the
/// image made with it. It trains the generator only — E's parameters are frozen while the
/// term's graph is built, so the gradient flows through E to the image but never into E
/// (BicycleGAN's "update G alone").
public enum LatentRegressionLoss {
    public static func loss(encoder: LatentEncoder, generated: Tensor, codes: Tensor) -> Tensor {
        let parameters = encoder.parameters()
        let trainable = parameters.map(\.requiresGrad)
        for p in parameters { p.requiresGrad = false }
        defer { for (p, flag) in zip(parameters, trainable) { p.requiresGrad = flag } }
        return encoder(generated).mu.l1Loss(codes)
    }
}
