"""The DRMM of the engine (core/model/drmm_model.cpp) as a torch module: parameters and buffers
under the engine's names and in its order, the same initialisation, and one training step's
E-step and objective with the engine's conventions (DESIGN.md §3.2; README "Choices the papers
leave open"):

- bottom-up (paper 002 App. B): conv (+ bias) → batch norm (batch statistics in training) →
  ReLU, a = [h > 0]; max-pool switches t = argmax of the pre-ReLU values (first on ties);
  mean pool; q = softmax;
- top-down (eq. 11-14): the one-hot of the label where known (or always ĉ) rendered through
  the mean pool's inverse (value/area), t ⊙ upsample, and Γᵀ ∗ (a ⊙ z) [⊙ γ/σ with the spec's
  bn_render_scale], the masks E-step constants (detached);
- L_H = mean over labeled images of −log q; L_KL = (1/N) Σ s·q·log(C q + 1e−8) (s = −1, the
  authors' code, or +1, eq. 7); L_RC = Σ‖I − Î‖² / (N·D·E), E the training set's mean squared
  pixel; L_NN = Σ over levels of the mean of relu(−z)² of the template rendered at the input of
  every layer above the first except max pools and the mean pool (eq. 8, each level once);
- π_a, π_t: exponential moving averages (decay 0.99) of the batch means of a and t.

With several processes each holds a slice of the global batch; batch norm's statistics, the
π averages and every loss's normaliser are over the global batch (all-reduced), so 1 and N
processes compute the same step.
"""
import json
import math
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.nn.functional import all_reduce as differentiable_all_reduce

from .seeded import Random

LATENT_DECAY = 0.99
KL_FLOOR = 1e-8


def padding(mode, kernel):
    return {"valid": 0, "half": kernel // 2, "full": kernel - 1}[mode]


def load_spec(preset, presets_folder):
    """A preset name (a file in assets/presets) or a path to an architecture JSON."""
    path = preset if os.path.exists(preset) else os.path.join(presets_folder, preset + ".json")
    if not os.path.exists(path):
        raise ValueError(f"{preset}: no such architecture file, and not a preset in {presets_folder}")
    with open(path) as f:
        return json.load(f)


def fitted_spec(spec, channels, height, width, classes):
    """ModelSpec::fitted_to: the stack on the dataset's images, one class-layer filter per class."""
    spec = json.loads(json.dumps(spec))
    layers = spec["layers"]
    if len(layers) < 2 or layers[-1]["type"] != "meanpool" or layers[-2]["type"] != "conv":
        raise ValueError(f"model '{spec.get('name')}': the last layers must be a class conv and a mean pool")
    spec["input"] = {"channels": channels, "height": height, "width": width}
    spec["classes"] = classes
    layers[-2]["filters"] = classes
    return spec


class Layer:
    """One layer of the stack with its per-image input and output shapes (C, H, W)."""

    def __init__(self, j, shape):
        self.kind, self.name = j["type"], j["name"]
        self.input = shape
        c, h, w = shape
        if self.kind == "conv":
            self.filters, self.kernel = j["filters"], j["kernel"]
            self.pad = padding(j.get("mode", "valid"), self.kernel)
            self.batchnorm, self.relu, self.bias = j.get("batchnorm", True), j.get("relu", True), j.get("bias", False)
            oh, ow = h + 2 * self.pad - self.kernel + 1, w + 2 * self.pad - self.kernel + 1
            if oh < 1 or ow < 1:
                raise ValueError(f"layer {self.name}: a {self.kernel}x{self.kernel} kernel does not fit its {h}x{w} input")
            self.output = (self.filters, oh, ow)
        elif self.kind == "maxpool":
            self.kernel = j["size"]
            if h % self.kernel or w % self.kernel:
                raise ValueError(f"layer {self.name}: pool size {self.kernel} does not divide its input {h}x{w}")
            self.output = (c, h // self.kernel, w // self.kernel)
        elif self.kind == "meanpool":
            self.output = (c, 1, 1)
        else:
            raise ValueError(f"layer {self.name}: unknown type '{self.kind}'")


class Drmm(torch.nn.Module):
    def __init__(self, spec, seed):
        super().__init__()
        self.spec = spec
        if spec.get("max_min", False) or spec.get("loss_weights", {}).get("rpn", 0.0) != 0.0:
            raise ValueError("the NRM's Max-Min network and Rendering Path Normalization (\"max_min\", "
                             "\"loss_weights\": {\"rpn\"}) are not in drmm_ddp; train such a model with drmm train")
        bn = spec.get("batchnorm", {})
        self.bn_momentum, self.bn_eps = bn.get("momentum", 0.1), bn.get("eps", 1e-5)
        self.bn_render_scale = bn.get("render_scale", False)
        shape = (spec["input"]["channels"], spec["input"]["height"], spec["input"]["width"])
        self.layers = []
        for j in spec["layers"]:
            self.layers.append(Layer(j, shape))
            shape = self.layers[-1].output
        self.param_names, self.buffer_names = [], []
        self.params = torch.nn.ParameterList()
        self._init_tensors(Random(seed))

    def _parameter(self, name, values):
        self.param_names.append(name)
        self.params.append(torch.nn.Parameter(values))
        return len(self.params) - 1

    def _buffer(self, name, shape, value):
        self.buffer_names.append(name)
        self.register_buffer("b%d" % len(self.buffer_names), torch.full(shape, float(value)))
        return len(self.buffer_names) - 1

    def buffer(self, index):
        return getattr(self, "b%d" % (index + 1))

    def _init_tensors(self, random):
        # The engine's order: per conv its weight (He initialisation, He et al. 2015, from the
        # seeded generator), γ, β, the running mean and variance, the bias, then π_a; per max
        # pool π_t.
        for layer in self.layers:
            if layer.kind == "conv":
                fan_in = layer.input[0] * layer.kernel * layer.kernel
                stddev = math.sqrt(2.0 / fan_in)
                count = layer.filters * fan_in
                values = torch.tensor([stddev * random.normal() for _ in range(count)], dtype=torch.float32)
                layer.weight = self._parameter(layer.name + ".weight", values.view(layer.filters, *layer.input[:1],
                                                                                  layer.kernel, layer.kernel))
                channel = (1, layer.filters, 1, 1)
                if layer.batchnorm:
                    layer.gamma = self._parameter(layer.name + ".gamma", torch.ones(channel))
                    layer.beta = self._parameter(layer.name + ".beta", torch.zeros(channel))
                    layer.running_mean = self._buffer(layer.name + ".running_mean", channel, 0.0)
                    layer.running_var = self._buffer(layer.name + ".running_var", channel, 1.0)
                if layer.bias:
                    layer.bias_index = self._parameter(layer.name + ".bias", torch.zeros(channel))
                if layer.relu:
                    layer.pi = self._buffer(layer.name + ".pi_a", (1,) + layer.output, 0.5)
            elif layer.kind == "maxpool":
                layer.pi = self._buffer(layer.name + ".pi_t", (1,) + layer.input, 1.0 / layer.kernel ** 2)

    # ---- state in the engine's names ------------------------------------------------------

    def named_state(self):
        """(engine name, tensor) of every parameter, then every buffer."""
        return list(zip(self.param_names, self.params)) + [(n, self.buffer(i)) for i, n in enumerate(self.buffer_names)]

    def load_named(self, arrays):
        with torch.no_grad():
            for name, tensor in self.named_state():
                if name not in arrays:
                    raise ValueError(f"checkpoint has no tensor '{name}'")
                value = torch.as_tensor(arrays[name].copy()).view(tensor.shape)
                tensor.copy_(value)

    # ---- E-step ---------------------------------------------------------------------------

    def _batchnorm(self, h, layer, group):
        gamma, beta = self.params[layer.gamma], self.params[layer.beta]
        mean_buf, var_buf = self.buffer(layer.running_mean), self.buffer(layer.running_var)
        if not group.training:
            return F.batch_norm(h, mean_buf.view(-1), var_buf.view(-1), gamma.view(-1), beta.view(-1), False, 0.0,
                                self.bn_eps)
        count = group.global_count(h.shape[0]) * h.shape[2] * h.shape[3]
        mean = group.sum(h.sum((0, 2, 3), keepdim=True)) / count
        centred = h - mean
        var = group.sum((centred * centred).sum((0, 2, 3), keepdim=True)) / count  # biased, for normalising
        with torch.no_grad():
            m = self.bn_momentum
            mean_buf.mul_(1 - m).add_(m * mean)
            var_buf.mul_(1 - m).add_(m * var * count / max(count - 1, 1))  # unbiased, as the engine
        return centred * torch.rsqrt(var + self.bn_eps) * gamma + beta

    def _update_pi(self, layer, mask, group):
        if not group.training:
            return
        with torch.no_grad():
            batch_mean = group.sum(mask.double().sum(0, keepdim=True), differentiable=False) / group.global_count(
                mask.shape[0])
            pi = self.buffer(layer.pi)
            pi.copy_((LATENT_DECAY * pi.double() + (1 - LATENT_DECAY) * batch_mean).float())

    def bottom_up(self, x, group):
        """Returns per layer a dict of what the top-down pass needs: a, t (as pool indices), out."""
        path, normed = [], None
        for i, layer in enumerate(self.layers):
            step = {}
            if layer.kind == "conv":
                h = F.conv2d(x, self.params[layer.weight], padding=layer.pad)
                if layer.bias:
                    h = h + self.params[layer.bias_index]
                normed = self._batchnorm(h, layer, group) if layer.batchnorm else h
                if layer.relu:
                    step["a"] = (normed > 0).to(normed.dtype)
                    self._update_pi(layer, step["a"], group)
                    x = normed * step["a"]
                else:
                    x = normed
            elif layer.kind == "maxpool":
                after_relu = i > 0 and self.layers[i - 1].kind == "conv" and self.layers[i - 1].relu
                source = normed if after_relu else x  # t on the pre-ReLU values (README "Max-pool switches")
                pooled, indices = F.max_pool2d(source, layer.kernel, return_indices=True)
                step["t"] = indices
                with torch.no_grad():
                    onehot = torch.zeros_like(source).flatten(2).scatter_(2, indices.flatten(2), 1.0).view_as(source)
                self._update_pi(layer, onehot, group)
                x = F.relu(pooled) if after_relu else pooled
            else:
                x = x.mean((2, 3), keepdim=True)
            step["out"] = x
            path.append(step)
        return path

    def render_down(self, top, z, path):
        """The template at every layer's input, rendering from the output of layer `top`."""
        rendered = [None] * (top + 1)
        for i in range(top, -1, -1):
            layer = self.layers[i]
            if layer.kind == "meanpool":
                c, h, w = layer.input
                z = z.expand(-1, c, h, w) / (h * w)
            elif layer.kind == "maxpool":
                z = F.max_unpool2d(z, path[i]["t"], layer.kernel, output_size=layer.input[1:])
            else:
                if layer.relu:
                    z = z * path[i]["a"]
                if self.bn_render_scale and layer.batchnorm:
                    var = self.buffer(layer.running_var)
                    z = z * (self.params[layer.gamma] * torch.rsqrt(var + self.bn_eps))
                # Γᵀ ∗ z as a plain convolution with the flipped, transposed filters (the same
                # map as conv_transpose2d, which is much slower on CPUs for stride 1).
                weight = self.params[layer.weight]
                z = F.conv2d(z, weight.flip(2, 3).transpose(0, 1), padding=layer.kernel - 1 - layer.pad)
            rendered[i] = z
        return rendered

    def nonnegativity_levels(self):
        """DrmmModel::nonnegativity_covers: the inputs of every layer above the first, except max
        pools (their input is t ⊙ upsample of a template already counted) and the mean pool."""
        last = len(self.layers) - 1
        return [i for i in range(1, last) if self.layers[i].kind != "maxpool"]

    # ---- the objective of one step (paper 002 eq. 5-8) ------------------------------------

    def forward(self, images, labels, options, group):
        """The local share of α·(L_H, L_RC, L_KL, L_NN) of the global batch, and the local shares of
        each unweighted term (their all-reduced sums are the global values)."""
        path = self.bottom_up(images, group)
        logits = path[-1]["out"].flatten(1)
        log_q = F.log_softmax(logits, 1)
        q = log_q.exp()
        n_global = group.global_count(images.shape[0])
        labeled = labels >= 0
        labeled_global = group.global_count(int(labeled.sum()), labeled=True)
        zero = logits.sum() * 0
        l_h = -log_q[labeled, labels[labeled]].sum() / labeled_global if labeled_global else zero
        classes = logits.shape[1]
        sign = 1.0 if options["kl_paper_sign"] else -1.0
        l_kl = (sign * q * torch.log(classes * q + KL_FLOOR)).sum() / n_global
        terms = {"h": l_h, "kl": l_kl, "rc": zero, "nn": zero}
        if options["alpha"]["rc"] != 0 or options["alpha"]["nn"] != 0:
            predicted = logits.argmax(1)
            rendered_class = torch.where(labeled & options["label_when_known"], labels, predicted)
            onehot = F.one_hot(rendered_class.detach(), classes).to(logits.dtype).view(-1, classes, 1, 1)
            rendered = self.render_down(len(self.layers) - 1, onehot, path)
            image_size = images[0].numel()
            terms["rc"] = ((images - rendered[0]) ** 2).sum() / (n_global * image_size * options["image_energy"])
            for i in self.nonnegativity_levels():
                z = rendered[i]
                terms["nn"] = terms["nn"] + (F.relu(-z) ** 2).sum() / (n_global * z[0].numel())
        total = sum(options["alpha"][k] * terms[k] for k in terms)
        return total, {k: float(v.detach()) for k, v in terms.items()}, q.detach()

    # ---- inference --------------------------------------------------------------------------

    @torch.no_grad()
    def classify(self, images):
        return self.bottom_up(images, InferenceGroup())[-1]["out"].flatten(1)


class InferenceGroup:
    """Bottom-up in inference mode: running statistics, nothing updated, one process."""

    training = False

    def global_count(self, local, labeled=False):
        return local

    def sum(self, tensor, differentiable=True):
        return tensor


class TrainingGroup:
    """Bottom-up in training mode over the processes' slices of one global batch."""

    training = True

    def __init__(self, batch_size, labeled_count, process_group=None):
        self.batch_size, self.labeled_count, self.process_group = batch_size, labeled_count, process_group

    def global_count(self, local, labeled=False):
        return self.labeled_count if labeled else self.batch_size

    def sum(self, tensor, differentiable=True):
        if self.process_group is None:
            return tensor
        if differentiable:
            return differentiable_all_reduce(tensor, group=self.process_group)
        tensor = tensor.clone()
        dist.all_reduce(tensor, group=self.process_group)
        return tensor
