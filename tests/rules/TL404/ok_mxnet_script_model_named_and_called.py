"""An MXNet Gluon script: `net` is built by a library call and called on data in a
validation loop. There is no PyTorch here, and no autograd graph to worry about."""

import mxnet as mx
from gluoncv import model_zoo


def validate(net, loader, ctx):
    metric = mx.metric.Accuracy()
    for data, label in loader:
        output = net(data.as_in_context(ctx))
        metric.update([label], [output])
    return metric.get()


if __name__ == "__main__":
    ctx = mx.cpu()
    net = model_zoo.get_model("resnet18_v1", pretrained=True, ctx=ctx)
    print(validate(net, [], ctx))
