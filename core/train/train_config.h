#pragma once
// Everything a training run is configured by; the CLI and the GUI fill it, the trainer
// reads it, and the checkpoint stores it (as JSON) so a run can be resumed.
#include <cstdint>
#include <string>

namespace drmm {

// α weights of the DRMM objective (paper 002 eq. 5–8; DESIGN.md §3.2), and of the NRM's
// Rendering Path Normalization (paper 004 eq. 10), off unless asked for.
struct LossWeights {
  float h = 1.0f, rc = 0.2f, kl = 1.0f, nn = 1.0f, rpn = 0.0f;
};

enum class TopDownClass { LabelWhenKnown, Predicted };

struct TrainConfig {
  std::string dataset = "fashion-mnist";
  std::string preset = "tiny";       // a name in assets/presets or a path to a preset JSON
  size_t labeled = 100;              // N_L, balanced per class
  double epochs = 1;                 // an epoch is one pass of the unlabeled stream over the training set
  int batch_size = 100;
  double labeled_fraction = 0.5;     // of each batch (paper 002 App. A: half and half)
  LossWeights alpha;                 // overridden from the preset unless set explicitly
  // The NRM's options (paper 004) on top of the preset's architecture: a bias, the rendering prior's
  // parameter, on every conv with a ReLU (which α.rpn needs), and the Max-Min network.
  bool nrm_biases = false, max_min = false;
  bool alpha_from_preset = true;
  bool kl_paper_sign = false;        // false: the authors' code's sign (DESIGN.md §3.2)
  TopDownClass topdown_class = TopDownClass::LabelWhenKnown;
  std::string optimizer;             // "sgd" | "adam"; empty: the preset's
  double lr_start = 0, lr_end = 0;   // 0: the preset's; decays exponentially from start to end
  double momentum = -1;              // <0: the preset's (SGD only)
  std::string backend = "cpu";       // cpu | vulkan | auto
  int threads = 0;                   // cpu threads; 0: all cores
  uint64_t seed = 1;
  int64_t test_every = 0;            // steps between test evaluations; 0: once per epoch
  int64_t test_limit = 0;            // evaluate on at most this many test images; 0: all
  int64_t render_limit = 1000;       // rendering quality measured on this many test images at each evaluation; 0: none
};

}  // namespace drmm
