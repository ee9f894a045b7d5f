// drmm-studio: the desktop app (DESIGN.md §4). Thin: parse the arguments, set up OpenGL the way
// the panels need it, open the main window. With no arguments it opens on Fashion-MNIST with the
// tiny preset, ready to train; --demo starts training at once; --screenshot / --after-steps /
// --frame-stats are the automation hooks the GUI test uses.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <QApplication>
#include <QCommandLineParser>

#include "ui/gl_setup.h"
#include "ui/main_window.h"
#include "ui/studio_options.h"

namespace {

// A number option above 0, or a clean exit naming the option (QCommandLineParser checks names only).
double positive_number(const QCommandLineParser& parser, const QCommandLineOption& option) {
  bool ok = false;
  const QString text = parser.value(option);
  const double value = text.toDouble(&ok);
  if (!ok || !std::isfinite(value) || value <= 0) {
    std::fprintf(stderr, "drmm-studio: error: --%s: expected a number above 0, got '%s'\n",
                 qPrintable(option.names().first()), qPrintable(text));
    std::exit(2);
  }
  return value;
}

drmm::ui::StudioOptions parse_options(const QCoreApplication& app) {
  QCommandLineParser parser;
  parser.setApplicationDescription("DRMM Studio: train Deep Rendering Mixture Models and watch what they learn.");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption demo("demo", "Start training at once.");
  const QCommandLineOption dataset("dataset", "Dataset name or path (default fashion-mnist).", "spec");
  const QCommandLineOption preset("preset", "Model preset name or JSON path (default tiny).", "name");
  const QCommandLineOption backend("backend", "cpu | vulkan | auto (default cpu).", "name");
  const QCommandLineOption screenshot("screenshot", "Train, save a PNG of the whole window, and exit.", "file");
  const QCommandLineOption after_steps("after-steps", "Steps to train before --screenshot (default 20).", "N");
  const QCommandLineOption frame_stats("frame-stats", "Print the median and p99 of frame work and presented-frame interval at exit.");
  const QCommandLineOption exit_after("exit-after", "Quit after this many seconds.", "seconds");
  const QCommandLineOption open("open", "Continue the run in a checkpoint, or import an ONNX model (.onnx) for the dataset.",
                                "file");
  const QCommandLineOption watch(
      "watch", "Watch a run folder that another process trains into (drmm train, the scale-out trainer): every\n"
               "checkpoint and metrics row that lands there is shown; nothing trains here.", "folder");
  const QCommandLineOption compare_cnn(
      "compare-cnn", "Train the same network as a plain CNN (L_H only) beside the run, on the same data, split,\n"
                     "seed and batch order, and compare them in the DRMM vs CNN panel (Train > Compare with a CNN).");
  const QCommandLineOption raise("raise", "Bring this panel's tab to the front (rendering_paths, samples, activity_max, …).", "panel");
  const QCommandLineOption zoom("zoom", "View ▸ Zoom at start, in percent (80 to 250).", "percent");
  const QCommandLineOption autosave_minutes(
      "autosave-minutes", "Minutes between autosaves of training no saved checkpoint holds (default 5).", "minutes");
  parser.addOptions(
      {demo, dataset, preset, backend, compare_cnn, open, watch, screenshot, after_steps, frame_stats, exit_after, raise, zoom, autosave_minutes});
  parser.process(app);

  drmm::ui::StudioOptions options;
  // A run people watch: several epochs, and a test accuracy point every 100 steps on 1000 test
  // images (the CLI's default, once per epoch on all of them, leaves the curve empty for minutes),
  // with the rendering quality on 300 of them (it costs about eight passes per image).
  options.config.epochs = 10;
  options.config.test_every = 100;
  options.config.test_limit = 1000;
  options.config.render_limit = 300;
  options.demo = parser.isSet(demo);
  if (parser.isSet(dataset)) options.config.dataset = parser.value(dataset).toStdString();
  if (parser.isSet(preset)) options.config.preset = parser.value(preset).toStdString();
  if (parser.isSet(backend)) options.config.backend = parser.value(backend).toStdString();
  options.config_from_command_line = parser.isSet(dataset) || parser.isSet(preset) || parser.isSet(open) ||
                                     parser.isSet(watch);
  options.screenshot_path = parser.value(screenshot);
  if (parser.isSet(after_steps)) options.after_steps = static_cast<long long>(positive_number(parser, after_steps));
  options.frame_stats = parser.isSet(frame_stats);
  options.compare_cnn = parser.isSet(compare_cnn);
  options.raise_panel = parser.value(raise);
  if (parser.isSet(zoom)) options.zoom_percent = positive_number(parser, zoom);
  options.open_path = parser.value(open);
  options.watch_folder = parser.value(watch);
  if (parser.isSet(exit_after)) options.exit_after_seconds = positive_number(parser, exit_after);
  if (parser.isSet(autosave_minutes)) options.autosave_minutes = positive_number(parser, autosave_minutes);
  // Automation gets the default window and leaves the person's saved layout alone.
  options.use_settings = options.screenshot_path.isEmpty() && options.exit_after_seconds <= 0;
  return options;
}

bool asks_for_help_or_version(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-v" || arg == "--version" || arg == "--help-all") return true;
  }
  return false;
}

bool has_display() {
  for (const char* variable : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
    if (const char* value = std::getenv(variable); value && *value) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // --help and --version need no window (and must work over ssh or in a terminal without X).
  if (asks_for_help_or_version(argc, argv)) {
    QCoreApplication core(argc, argv);
    QCoreApplication::setApplicationVersion("0.1.0");
    parse_options(core);
    return 0;
  }
  if (!has_display()) {
    std::fprintf(stderr,
                 "drmm-studio: no display (DISPLAY is not set). Run it in a desktop session, or headless under "
                 "xvfb-run -a drmm-studio ...\n");
    return 1;
  }
  drmm::ui::configure_opengl_before_qapplication();
  QApplication app(argc, argv);
  QApplication::setOrganizationName("drmm");
  QApplication::setApplicationName("drmm-studio");
  QApplication::setApplicationVersion("0.1.0");
  const drmm::ui::StudioOptions options = parse_options(app);

  int status = 0;
  {
    drmm::ui::MainWindow window(options);
    window.show();
    status = app.exec();
    if (window.exit_code() != 0) status = window.exit_code();
    if (options.frame_stats) std::printf("%s", window.frame_stats().report().c_str());
  }
  std::fflush(stdout);
  return status;
}
