#pragma once
// What the trainer publishes for the GUI and the CLI (DESIGN.md §2): an immutable value,
// shared as shared_ptr<const Snapshot>. The worker builds a new one and swaps it in; readers
// keep the one they hold for as long as they draw from it. `version` grows with every publish
// of any session (0: none yet), so a panel re-renders (and re-uploads textures) only when it
// changes, and a new run is never mistaken for the one before.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace drmm {

// A float image C×H×W (CHW). Values are whatever the model produced: panels normalise for display.
struct ImageF {
  int channels = 1, height = 0, width = 0;
  std::vector<float> data;
};

// How faithfully the top-down pass renders test images (core/train/rendering_quality.h).
struct RenderingQuality {
  size_t count = 0;              // images measured; 0: not measured
  double r_mean = 0, r_median = 0;
  double relative_error = 0;     // mean over images of min_g ‖I − gÎ‖² / ‖I‖²
  double self_consistency = 0;   // fraction of Î classified as the class they were rendered from
  std::vector<double> level_r;   // mean r(I, reconstruction from level ℓ), one per level below the mean pool
};

// One row of the training history (one per logged step); also a row of metrics.csv.
struct MetricsRow {
  int64_t step = 0;
  double epoch = 0;            // fractional epochs done
  double loss_total = 0, loss_h = 0, loss_rc = 0, loss_kl = 0, loss_nn = 0;
  double loss_rpn = 0;         // shown live; metrics.csv has it inside loss_total only
  double train_accuracy = 0;   // on the labeled images of recent batches
  double test_accuracy = -1;   // −1 when not evaluated at this row
  double images_per_second = 0;
  double learning_rate = 0;
  RenderingQuality rendering;  // measured with the test accuracy; count 0 at other rows
};

// A probe image and what the model makes of it (bottom-up q(c|I), top-down Î, and the
// reconstruction from every level, paper 004 Fig. 4).
struct ProbeView {
  size_t dataset_index = 0;
  int label = -1;
  int predicted = -1;
  std::vector<float> class_probabilities;  // q(c|I)
  ImageF input;
  ImageF reconstruction;                   // Î rendered top-down from the class (DESIGN.md §3.2)
  std::vector<ImageF> from_level;          // one per level, bottom (level 1) to top
  double reconstruction_r = 0;             // Pearson r(I, Î) (core/train/rendering_quality.h)
  std::vector<double> from_level_r;        // r(I, reconstruction from each level)
};

struct Snapshot {
  uint64_t version = 0;
  std::string backend_name;
  std::string preset_name;
  std::string dataset_name;
  std::vector<std::string> class_names;
  std::vector<std::string> level_names;     // e.g. "conv1 32×5×5 full", "pool1 2×2"
  // Class c's name; its number when the data has no name for it, "?" for c < 0 (not known).
  std::string class_name(int c) const {
    if (c < 0) return "?";
    return size_t(c) < class_names.size() ? class_names[size_t(c)] : std::to_string(c);
  }
  int64_t step = 0;
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  double epoch = 0;
  bool running = false;                     // the worker is training (not paused)
  bool finished = false;                    // reached the configured number of epochs
  std::string status;                       // a short line for the status bar; errors too
  std::string watched_folder;               // non-empty: the run is watched there, not trained here
  std::vector<MetricsRow> history;
  std::vector<ProbeView> probes;
  std::vector<ImageF> first_layer_filters;  // Γ¹ filters, one image per output channel
  std::vector<ImageF> filter_renderings;    // each first-layer filter rendered top-down to pixels
};

}  // namespace drmm
