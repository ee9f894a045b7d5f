// drmm paths | sample | render | am: what a trained model believes (DESIGN.md §3.4–3.5): the
// rendering path of an image, images generated from the learned latent frequencies, a class
// rendered with another image's nuisances, and activity-maximizing images.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/drmm/commands.h"
#include "app/drmm/model_loading.h"
#include "core/analysis/activity_max.h"
#include "core/model/rendering_path.h"
#include "core/model/sampler.h"
#include "core/train/image_export.h"
#include "core/train/trainer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace drmm::cli {
namespace {

struct ModelOptions {
  std::string checkpoint, data, split = "test", backend = "cpu";
  int threads = 0, scale = 4;
};

void add_model_options(CLI::App* cmd, ModelOptions& o, bool needs_data) {
  cmd->add_option("--checkpoint", o.checkpoint, "Checkpoint file")->required();
  auto* data = cmd->add_option("--data", o.data, "Dataset (default: the one the checkpoint was trained on)");
  if (needs_data) {
    cmd->add_option("--split", o.split, "train or test")->check(CLI::IsMember({"train", "test"}))->capture_default_str();
  } else {
    data->description("Dataset whose images set the L2 norm the images are compared at (default: the checkpoint's)");
  }
  cmd->add_option("--scale", o.scale, "Upscaling of the PNGs")->check(CLI::Range(1, 32))->capture_default_str();
  add_backend_options(cmd, o.backend, o.threads);
}

std::string dataset_of(const ModelOptions& o) {
  return o.data.empty() ? Trainer::checkpoint_config(o.checkpoint).dataset : o.data;
}

ImageF image_of(const DrmmModel& model, std::span<const float> values) {
  const ModelSpec& s = model.spec();
  return ImageF{s.channels, s.height, s.width, {values.begin(), values.end()}};
}

std::vector<Image8> pictures_of(const DrmmModel& model, const std::vector<float>& images, DisplayRange range, int scale) {
  const size_t d = size_t(model.spec().channels) * size_t(model.spec().height) * size_t(model.spec().width);
  std::vector<Image8> pictures;
  for (size_t i = 0; i + d <= images.size(); i += d)
    pictures.push_back(to_image8(image_of(model, std::span<const float>(images).subspan(i, d)), range, scale));
  return pictures;
}

void write_picture(const std::string& path, const Image8& picture) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  write_png(path, picture);
  std::cout << "wrote " << path << " (" << picture.width << "x" << picture.height << ")\n";
}

std::vector<int> classes_for(const DrmmModel& model, int cls) {
  if (cls >= model.spec().classes) throw Error("--class " + std::to_string(cls) + ": the model has " +
                                               std::to_string(model.spec().classes) + " classes (0.." +
                                               std::to_string(model.spec().classes - 1) + ", or -1 for all)");
  std::vector<int> classes;
  for (int c = 0; c < model.spec().classes; ++c)
    if (cls < 0 || c == cls) classes.push_back(c);
  return classes;
}

// ---- drmm paths ----------------------------------------------------------------------------

struct PathsOptions : ModelOptions {
  size_t index = 0, strongest = 16, stats = 0;
  int cls = -1;
  std::string out = "path";
};

// path.png: the input, Î, then what each of the strongest units renders alone; level<k>.png:
// each channel's contribution map at that level (on units lit by their share of ‖Î‖²).
void write_path_pictures(DrmmModel& model, const RenderingPath& path, const PathsOptions& o) {
  std::vector<Image8> row{to_image8(image_of(model, path.input), DisplayRange::Unit, o.scale),
                          to_image8(image_of(model, path.rendered), DisplayRange::Unit, o.scale)};
  for (const PathUnit& u : strongest_units(path, o.strongest))
    row.push_back(to_image8(image_of(model, render_unit_alone(model, path, u.level, u.unit)), DisplayRange::MinMax, o.scale));
  write_picture(o.out + "/path.png", grid_of(row, 10));
  for (size_t k = 0; k < path.levels.size(); ++k) {
    const PathLevel& level = path.levels[k];
    const size_t area = size_t(level.height) * size_t(level.width);
    std::vector<Image8> maps;
    for (int c = 0; c < level.channels; ++c) {
      const auto begin = level.contribution.begin() + std::ptrdiff_t(size_t(c) * area);
      maps.push_back(to_image8(ImageF{1, level.height, level.width, {begin, begin + std::ptrdiff_t(area)}}, DisplayRange::MinMax,
                               std::max(1, o.scale * model.spec().height / (2 * std::max(level.height, 1)))));
    }
    write_picture(o.out + "/level" + std::to_string(k + 1) + ".png", grid_of(maps, 16));
  }
}

void print_overlap(const PathStatistics& stats, const std::vector<std::string>& names) {
  std::cout << "path overlap between classes (weighted Jaccard of the units' on-frequencies):\n" << std::setw(14) << "";
  for (size_t c = 0; c < stats.overlap.size(); ++c) std::cout << std::setw(6) << c;
  std::cout << "\n";
  for (size_t c = 0; c < stats.overlap.size(); ++c) {
    std::cout << std::setw(14) << (c < names.size() ? names[c].substr(0, 13) : std::to_string(c));
    for (double v : stats.overlap[c]) std::cout << std::setw(6) << std::fixed << std::setprecision(2) << v;
    std::cout << "\n";
  }
}

void write_statistics_json(const std::string& file, const PathStatistics& stats, const std::vector<std::string>& names) {
  nlohmann::json out;
  out["levels"] = stats.level_names;
  out["class_names"] = names;
  out["class_counts"] = stats.class_counts;
  out["usage"] = stats.usage;
  out["overlap"] = stats.overlap;
  write_file_atomically(file, out.dump(1) + "\n");
  std::cout << "wrote " << file << "\n";
}

void run_paths(const PathsOptions& o) {
  LoadedModel loaded = load_for_inference(o.checkpoint, o.backend, o.threads);
  DrmmModel& model = *loaded.model;
  const Dataset data = load_dataset(dataset_of(o), parse_split(o.split));
  check_index(data, o.index, "--index");
  if (o.cls >= model.spec().classes) throw Error("--class " + std::to_string(o.cls) + ": the model has " +
                                                 std::to_string(model.spec().classes) + " classes");
  const RenderingPath path = infer_path(model, data.image(o.index), o.cls);
  std::filesystem::create_directories(o.out);
  const std::string json_file = o.out + "/path.json";
  write_file_atomically(json_file, path_to_json(path, data.class_names, o.strongest) + "\n");
  std::cout << "wrote " << json_file << "\n";
  write_path_pictures(model, path, o);
  auto name = [&](int c) { return data.class_names.at(size_t(c)); };
  std::cout << "image " << o.index << " (" << name(data.labels[o.index]) << "): predicted " << name(path.predicted)
            << " q " << std::fixed << std::setprecision(3) << path.class_probabilities[size_t(path.predicted)]
            << ", rendered from " << name(path.rendered_class) << ", ‖Î‖² " << path.rendered_energy << "\n";
  for (const PathLevel& level : path.levels)
    std::cout << "  " << std::left << std::setw(24) << level.name << std::right << " "
              << std::count(level.on.begin(), level.on.end(), 1.0f) << " of " << level.unit_count() << " "
              << (level.is_pool ? "positions" : "templates") << " on\n";
  if (o.stats > 0) {
    const PathStatistics stats = path_statistics(model, data, o.stats);
    print_overlap(stats, data.class_names);
    write_statistics_json(o.out + "/statistics.json", stats, data.class_names);
  }
}

// ---- drmm sample / render --------------------------------------------------------------------

struct SampleOptions : ModelOptions {
  int cls = -1, count = 8;
  size_t conditional = 2000;
  double temperature = 0.5;
  uint64_t seed = 1;
  std::string out = "samples";
};

void run_sample(const SampleOptions& o) {
  LoadedModel loaded = load_for_inference(o.checkpoint, o.backend, o.threads);
  DrmmModel& model = *loaded.model;
  std::vector<Image8> grid;
  std::filesystem::create_directories(o.out);
  PathStatistics stats;
  if (o.conditional > 0) stats = path_statistics(model, load_dataset(dataset_of(o), Split::Train), o.conditional);
  size_t agreeing = 0;
  for (int c : classes_for(model, o.cls)) {
    const std::vector<float> samples =
        sample_class(model, c, o.count, o.seed + uint64_t(c), o.conditional > 0 ? &stats : nullptr, o.temperature);
    const std::vector<int> predicted = classify(model, samples);
    const std::vector<Image8> pictures = pictures_of(model, samples, DisplayRange::MinMax, o.scale);
    for (size_t i = 0; i < pictures.size(); ++i)
      write_png(o.out + "/class" + std::to_string(c) + "-" + std::to_string(i) + ".png", pictures[i]);
    grid.insert(grid.end(), pictures.begin(), pictures.end());
    const auto same = std::count(predicted.begin(), predicted.end(), c);
    agreeing += size_t(same);
    std::cout << "class " << c << ": " << same << " of " << o.count << " samples classified as class " << c << "\n";
  }
  std::cout << "classified as the class they were drawn from: " << std::fixed << std::setprecision(1)
            << 100.0 * double(agreeing) / double(grid.size()) << " %\n";
  write_picture(o.out + "/grid.png", grid_of(grid, o.count));
}

struct RenderOptions : ModelOptions {
  int cls = -1;
  size_t like = 0;
  std::string out = "render.png";
};

void run_render(const RenderOptions& o) {
  LoadedModel loaded = load_for_inference(o.checkpoint, o.backend, o.threads);
  DrmmModel& model = *loaded.model;
  const Dataset data = load_dataset(dataset_of(o), parse_split(o.split));
  check_index(data, o.like, "--like-index");
  const std::vector<int> classes = classes_for(model, o.cls);
  const std::vector<float> rendered = render_like(model, data.image(o.like), classes);
  std::vector<Image8> row{to_image8(image_of(model, data.image(o.like)), DisplayRange::Unit, o.scale)};
  for (const Image8& p : pictures_of(model, rendered, DisplayRange::MinMax, o.scale)) row.push_back(p);
  if (classes.size() == 1) row.erase(row.begin());  // one class: just its rendering
  write_picture(o.out, grid_of(row, int(row.size())));
}

// ---- drmm am ----------------------------------------------------------------------------------

struct AmOptions : ModelOptions {
  int cls = 0, layer = -1, unit = 0, steps = 200, refinements = 0;
  std::string method = "closed-form", start = "noise", templates = "score";
  double norm = 0;
  GradientAscentOptions ascent;
  std::string out = "am.png";
};

void print_activity(const std::string& what, const UnitActivity& a) {
  const auto best = std::max_element(a.class_probabilities.begin(), a.class_probabilities.end());
  std::cout << what << ": score " << std::fixed << std::setprecision(4) << a.score << ", q(ĉ|I) " << *best << " for class "
            << (best - a.class_probabilities.begin()) << "\n";
}

void run_closed_form(DrmmModel& model, const AmOptions& o, double norm, const Dataset& data) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<ClosedFormImage> images = closed_form_activity_max(
      model, norm, o.refinements, o.templates == "score" ? ClosedFormTemplates::Score : ClosedFormTemplates::Rendering);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const std::vector<double> data_best = data.size() ? best_class_scores(model, data, 1000) : std::vector<double>{};
  std::vector<Image8> row;
  for (const ClosedFormImage& image : images) {
    if (o.cls >= 0 && image.cls != o.cls) continue;
    print_activity("class " + std::to_string(image.cls) + " (L2 norm " + std::to_string(norm) + ")", image.activity);
    if (!data_best.empty())
      std::cout << "  best score of class " << image.cls << " among the first 1000 training images: " << std::setprecision(4)
                << data_best[size_t(image.cls)] << "\n";
    row.push_back(to_image8(image_of(model, image.image), DisplayRange::MinMax, o.scale));
  }
  std::cout << "closed form: " << std::setprecision(2) << ms << " ms for " << images.size() << " classes ("
            << ms / double(images.size()) << " ms per class)\n";
  write_picture(o.out, grid_of(row, int(row.size())));
}

void run_gradient(DrmmModel& model, const AmOptions& o, const Dataset& data) {
  const UnitTarget target = o.layer < 0 ? class_target(model.spec(), o.cls) : UnitTarget{size_t(o.layer), o.unit};
  std::vector<float> start;
  if (o.start == "noise") {
    start = noise_image(model.spec(), o.ascent.seed);
  } else {
    const size_t index = std::stoul(o.start);
    check_index(data, index, "--start");
    start.assign(data.image(index).begin(), data.image(index).end());
  }
  GradientAscent ascent(model.spec(), target, start, o.ascent);
  print_activity("start", unit_activity(model, ascent.image(), target));
  const auto begin = std::chrono::steady_clock::now();
  for (int s = 0; s < o.steps; ++s) ascent.step(model);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  print_activity("after " + std::to_string(o.steps) + " steps", unit_activity(model, ascent.image(), target));
  std::cout << "gradient ascent: " << std::setprecision(1) << double(o.steps) / seconds << " steps/s\n";
  write_picture(o.out, to_image8(image_of(model, ascent.image()), DisplayRange::Unit, o.scale));
}

void run_am(const AmOptions& o) {
  LoadedModel loaded = load_for_inference(o.checkpoint, o.backend, o.threads);
  DrmmModel& model = *loaded.model;
  if (o.layer >= 0) check_target(model.spec(), UnitTarget{size_t(o.layer), o.unit});
  else if (o.method == "gradient" || o.cls >= 0) class_target(model.spec(), o.cls);
  const bool needs_data = o.norm <= 0 || o.start != "noise" || o.method == "closed-form";
  const Dataset data = needs_data ? load_dataset(dataset_of(o), Split::Train) : Dataset{};
  if (o.method == "closed-form") {
    if (o.layer >= 0) throw Error("--layer: the closed form maximizes class scores; use --method gradient for a unit");
    run_closed_form(model, o, o.norm > 0 ? o.norm : mean_image_norm(data, 1000), data);
  } else {
    run_gradient(model, o, data);
  }
}

}  // namespace

void register_generate_commands(CLI::App& app) {
  auto paths = std::make_shared<PathsOptions>();
  CLI::App* p = app.add_subcommand(
      "paths", "The rendering path of one image: which templates fired (a) and where (t) per layer, each unit's "
               "contribution to Î, and the strongest units' own renderings");
  add_model_options(p, *paths, true);
  p->add_option("--index", paths->index, "Image index")->capture_default_str();
  p->add_option("--class", paths->cls, "Render Î from this class (-1: the predicted class)")->capture_default_str();
  p->add_option("--strongest", paths->strongest, "How many of the strongest units to list and draw")->capture_default_str();
  p->add_option("--stats", paths->stats, "Also per-class statistics over this many images (usage, overlap; 0: none)")
      ->capture_default_str();
  p->add_option("--out", paths->out, "Output folder: path.json, path.png, level<k>.png [statistics.json]")
      ->capture_default_str();
  p->callback([paths] { run_paths(*paths); });

  auto sample = std::make_shared<SampleOptions>();
  CLI::App* s = app.add_subcommand(
      "sample", "Generate images: latents a ~ Bernoulli(π_a), t ~ Cat(π_t) drawn from their learned frequencies, "
                "rendered top-down from a class; reports how many the model classifies as that class");
  add_model_options(s, *sample, false);
  s->add_option("--class", sample->cls, "Class to sample (-1: every class, one row each)")->capture_default_str();
  s->add_option("--count", sample->count, "Samples per class")->check(CLI::Range(1, 1000))->capture_default_str();
  s->add_option("--seed", sample->seed, "Random seed")->capture_default_str();
  s->add_option("--temperature", sample->temperature,
                "Draw from the frequencies sharpened to p^(1/T) (T < 1: closer to the most probable latents)")
      ->check(kFinitePositive)->capture_default_str();
  s->add_option("--conditional", sample->conditional,
                "Draw from the class-conditional frequencies π_{g|c} of this many training images of --data "
                "instead of the model's π (0: the model's π)")
      ->capture_default_str();
  s->add_option("--out", sample->out, "Output folder: class<c>-<i>.png and grid.png")->capture_default_str();
  s->callback([sample] { run_sample(*sample); });

  auto render = std::make_shared<RenderOptions>();
  CLI::App* r = app.add_subcommand(
      "render", "Render a class with the latents (a, t) of a given image: its nuisances carried to another class");
  add_model_options(r, *render, true);
  r->add_option("--class", render->cls, "Class to render (-1: every class, after the image)")->capture_default_str();
  r->add_option("--like-index", render->like, "Index of the image whose latents are used")->required();
  r->add_option("--out", render->out, "PNG file")->capture_default_str();
  r->callback([render] { run_render(*render); });

  auto am = std::make_shared<AmOptions>();
  CLI::App* a = app.add_subcommand(
      "am", "Activity maximization: the closed form of the DRMM (paper 000 App. E, every class at once, no "
            "optimisation) or gradient ascent on the input for a class or any unit");
  add_model_options(a, *am, false);
  a->add_option("--class", am->cls, "Class to maximize (closed form: -1 for every class)")->capture_default_str();
  a->add_option("--method", am->method, "closed-form or gradient")
      ->check(CLI::IsMember({"closed-form", "gradient"}))->capture_default_str();
  a->add_option("--layer", am->layer, "Gradient: maximize a unit of this layer (index from 0) instead of a class");
  a->add_option("--unit", am->unit, "Gradient: the channel of --layer to maximize")->capture_default_str();
  a->add_option("--steps", am->steps, "Gradient: ascent steps")->check(CLI::Range(1, 100000))->capture_default_str();
  a->add_option("--start", am->start, "Gradient: 'noise' or the index of a training image to start from")
      ->capture_default_str();
  a->add_option("--step-size", am->ascent.step, "Gradient: step (RMS of the change per step)")->capture_default_str();
  a->add_option("--l2", am->ascent.l2, "Gradient: weight of the L2 pull towards gray")->capture_default_str();
  a->add_option("--tv", am->ascent.tv, "Gradient: weight of the total variation")->capture_default_str();
  a->add_option("--jitter", am->ascent.jitter, "Gradient: random shift per step, in pixels")->capture_default_str();
  a->add_option("--refinements", am->refinements,
                "Closed form: rounds of re-inferring the latents of the image and rendering again")
      ->capture_default_str();
  a->add_option("--templates", am->templates,
                "Closed form: 'score' (the exact transpose of the network, with batch norm's scale) or 'rendering' "
                "(the top-down pass that draws Î)")
      ->check(CLI::IsMember({"score", "rendering"}))->capture_default_str();
  a->add_option("--norm", am->norm, "Closed form: L2 norm of the images (0: the data's mean norm)")->capture_default_str();
  a->add_option("--out", am->out, "PNG file")->capture_default_str();
  a->callback([am] { run_am(*am); });
}

}  // namespace drmm::cli
