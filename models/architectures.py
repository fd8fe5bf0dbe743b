"""Network definitions for the model zoo.

All convolutions keep their bias off when a BatchNorm follows (the BN shift
makes it redundant) except where a reference architecture says otherwise
(the MLPerf Tiny models were defined in Keras, where Conv/Dense have a bias).
BatchNorm layers stay separate modules so that the exported ONNX graphs carry
real BatchNormalization nodes for the compiler's folding pass.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    """Conv (same padding for odd k) + BatchNorm + optional activation."""
    layers = [
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return layers


class _AsymmetricConvExport(torch.autograd.Function):
    """Exports as a single ONNX Conv whose pads are asymmetric (begin != end).

    Only used while torch.onnx traces the model; the forward is the real
    computation (zero pad, then convolution) so the traced outputs are exact.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads):
        top, left, bottom, right = pads
        return F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias, stride)

    @staticmethod
    def symbolic(g, x, weight, bias, stride, pads):
        kh, kw = weight.type().sizes()[2:]
        return g.op("Conv", x, weight, bias, kernel_shape_i=[kh, kw], strides_i=list(stride),
                    pads_i=[pads[0], pads[1], pads[2], pads[3]], dilations_i=[1, 1], group_i=1)


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow/Keras padding='same' for a fixed input size.

    TF pads (total = max((out-1)*stride + k - in, 0)) with the odd extra row or
    column at the bottom/right; PyTorch's Conv2d can only pad symmetrically.
    In PyTorch this runs as zero pad + conv; in ONNX it is one Conv node with
    pads = [top, left, bottom, right], exactly what a TF-converted model carries.
    """

    def __init__(self, cin, cout, kernel, stride, input_hw):
        super().__init__(cin, cout, kernel, stride=stride, padding=0)
        pads = []
        for size, k, s in zip(input_hw, self.kernel_size, self.stride):
            out = -(-size // s)
            pads.append(max((out - 1) * s + k - size, 0))
        self.pads = (pads[0] // 2, pads[1] // 2, pads[0] - pads[0] // 2, pads[1] - pads[1] // 2)

    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            return _AsymmetricConvExport.apply(x, self.weight, self.bias, self.stride, self.pads)
        top, left, bottom, right = self.pads
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride)


class MapToDense(nn.Linear):
    """Flatten + Linear on an NCHW feature map, computed as a full-size conv while training.

    Identical maths: flattening NCHW gives (c, h, w) order, which is exactly a
    conv kernel [out, C, H, W] covering the whole map. The conv form is only a
    speed trick for CPU training (oneDNN convolutions are several times faster
    than the generic BLAS GEMM this torch build uses); in eval mode and in the
    exported ONNX it is the ordinary Flatten + Gemm.
    """

    def __init__(self, channels, height, width, out_features):
        super().__init__(channels * height * width, out_features)
        self.map_shape = (channels, height, width)

    def forward(self, x):
        if self.training:
            w = self.weight.view(self.out_features, *self.map_shape)
            return F.conv2d(x, w, self.bias).flatten(1)
        return super().forward(x.flatten(1))


class FashionCNN(nn.Module):
    """Plain CNN for 28x28 grayscale: three conv+BN+ReLU stages, two FC layers.

    28x28 -conv32-> pool -> 14x14 -conv64-> pool -> 7x7 -conv64-> FC128 -> FC10.
    The third conv (on the 7x7 map) lifts accuracy and puts the model at about
    6 M MACs, the intended size for a small-but-not-trivial int8 target. The
    3136x128 FC holds most of the weights: a good target for pruning.

    `widths` (the three conv widths) and `hidden` (the first FC's width) make
    narrower students of the same layout for distillation (models/distill.py).
    The defaults are the zoo model: same modules, same names, same order of
    initialization, so a seeded construction draws exactly the same weights.
    """

    def __init__(self, num_classes=10, widths=(32, 64, 64), hidden=128):
        super().__init__()
        c1, c2, c3 = widths
        self.features = nn.Sequential(
            *conv_bn(1, c1, 3), nn.MaxPool2d(2),
            *conv_bn(c1, c2, 3), nn.MaxPool2d(2),
            *conv_bn(c2, c3, 3),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.25),
            MapToDense(c3, 7, 7, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 linear project.

    The residual add is used only when stride is 1 and channels match, as in
    MobileNetV2; the projection has no activation (the "linear bottleneck").
    """

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.block = nn.Sequential(
            *conv_bn(cin, hidden, 1, act=nn.ReLU6),
            *conv_bn(hidden, hidden, 3, stride=stride, groups=hidden, act=nn.ReLU6),
            *conv_bn(hidden, cout, 1, act=None),
        )

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_residual else y


class FashionMobileNet(nn.Module):
    """A MobileNetV2 scaled down for 28x28 inputs.

    Stem 3x3 conv (stride 1: the image is already tiny), five inverted residual
    blocks (28 -> 14 -> 7), a 1x1 conv to 128 features, global average pool, FC.
    Two of the blocks have residual adds. The first block expands only 2x:
    it is the one working at 28x28, where activations cost the most.
    """

    # (expand ratio, output channels, stride)
    BLOCKS = [
        (2, 24, 2),   # 28x28 -> 14x14
        (4, 24, 1),   # residual
        (4, 32, 2),   # 14x14 -> 7x7
        (4, 32, 1),   # residual
        (4, 64, 1),
    ]

    def __init__(self, num_classes=10, stem=16, last=128):
        super().__init__()
        layers = conv_bn(1, stem, 3, act=nn.ReLU6)
        cin = stem
        for t, c, s in self.BLOCKS:
            layers.append(InvertedResidual(cin, c, s, t))
            cin = c
        layers += conv_bn(cin, last, 1, act=nn.ReLU6)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


class KwsDsCnn(nn.Module):
    """MLPerf Tiny keyword-spotting DS-CNN (benchmark/training/keyword_spotting).

    Input is 49 MFCC frames x 10 coefficients. The first conv is 64 x (10x4),
    stride 2, Keras padding='same': for 49x10 that is 4 rows on top, 5 below,
    1 column each side (TensorFlow puts the odd padding row at the end), see
    Conv2dSame; in ONNX it is one Conv with pads [4, 1, 5, 1].
    Then 4 depthwise-separable blocks (3x3 depthwise + BN + ReLU, 1x1 conv 64 +
    BN + ReLU), global average pool, FC 12. Convs carry biases as in Keras.
    The reference ends in softmax; here the output is the 12 logits, like the
    other classifiers in the zoo (post-processing applies softmax if needed).
    The reference also pools with a fixed (24,5) window over the 25x5 map;
    this uses a true global average over all 25x5 positions.
    """

    def __init__(self, num_classes=12, filters=64, blocks=4):
        super().__init__()
        layers = [
            Conv2dSame(1, filters, (10, 4), stride=2, input_hw=(49, 10)),
            nn.BatchNorm2d(filters),
            nn.ReLU(inplace=True),
        ]
        for _ in range(blocks):
            layers += [
                nn.Conv2d(filters, filters, 3, padding=1, groups=filters),
                nn.BatchNorm2d(filters),
                nn.ReLU(inplace=True),
                nn.Conv2d(filters, filters, 1),
                nn.BatchNorm2d(filters),
                nn.ReLU(inplace=True),
            ]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(filters, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


class AdAutoencoder(nn.Module):
    """MLPerf Tiny anomaly-detection autoencoder (DCASE 2020 task 2 baseline).

    640 inputs (5 frames x 128 log-mel bins) -> 4 x [Dense 128 + BN + ReLU] ->
    [Dense 8 + BN + ReLU] -> 4 x [Dense 128 + BN + ReLU] -> Dense 640.
    The anomaly score is the reconstruction error, computed outside the model.
    """

    def __init__(self, dim=640, hidden=128, bottleneck=8):
        super().__init__()
        widths = [dim] + [hidden] * 4 + [bottleneck] + [hidden] * 4
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def torchvision_model(name):
    """torchvision MobileNetV2 / ResNet18 with torchvision's own random init (1000 classes)."""
    import torchvision
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None)
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None)
    raise ValueError(name)


def count_params(model):
    return sum(p.numel() for p in model.parameters())
