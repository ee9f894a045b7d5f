#pragma once
// How drmm-studio was launched: the run to start with and the automation hooks (issue 6).
#include <QString>

#include "core/train/train_config.h"

namespace drmm::ui {

struct StudioOptions {
  TrainConfig config;                 // the run the window opens with (Fashion-MNIST, tiny preset)
  bool config_from_command_line = false;  // --dataset/--preset given: they win over the saved ones
  bool demo = false;                  // --demo: start training at once
  QString screenshot_path;            // --screenshot: train, save the whole window, exit
  long long after_steps = 20;         // --after-steps: steps to train before the screenshot
  bool frame_stats = false;           // --frame-stats: print frame work / interval percentiles at exit
  double exit_after_seconds = 0;      // --exit-after: quit after this long (measurements)
  QString open_path;                  // --open: a checkpoint to continue, or an ONNX model to import
  QString watch_folder;               // --watch: show the run another process writes there
  bool compare_cnn = false;           // --compare-cnn: train the CNN twin (L_H only) beside the run
  QString raise_panel;                // --raise: bring this panel's dock tab to the front (its objectName)
  double zoom_percent = 0;            // --zoom: View ▸ Zoom at start (0: the remembered one)
  double autosave_minutes = 5;        // --autosave-minutes: how often unsaved training is kept
  bool use_settings = true;           // false for the test hooks: a reproducible window, nothing saved
};

}  // namespace drmm::ui
