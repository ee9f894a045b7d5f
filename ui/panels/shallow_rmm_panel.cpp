#include "ui/panels/shallow_rmm_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "core/rmm/rmm_export.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/line_plot.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"

namespace drmm::ui {
namespace {

struct Cancelled {};  // thrown from the progress callback: EM stops after the current iteration

constexpr size_t kSamplePairs = 12;

}  // namespace

ShallowRmmPanel::ShallowRmmPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Shallow RMM"), session, stats, parent) {
  setObjectName("shallow_rmm");
}

ShallowRmmPanel::~ShallowRmmPanel() {
  cancel_ = true;
  if (worker_.joinable()) worker_.join();
}

QString ShallowRmmPanel::help_text() const {
  return tr(
      "The simplest model of images: every class has one picture (its template), and an image is that picture, "
      "moved by a few pixels, plus noise. Top: the templates as they are learned; middle: test images, each beside "
      "the moved template it was matched to; bottom: how well the templates explain the training images after "
      "each round (it never goes down). Run learns them from the current dataset; Stop ends after the round.\n"
      "This is the shallow Rendering Mixture Model trained by hard EM (Patel, Nguyen & Baraniuk, “A Probabilistic "
      "Theory of Deep Learning”, arXiv 2015, §2.1 and §2.6.1): I = μ_cg + noise with μ_cg = T_g μ_c, g a shift "
      "within ±S pixels. E-step (eq. 16): (ĉ, ĝ) = argmax ⟨μ_cg|I⟩ − ½‖μ_cg‖² + log π_cg (over g alone when the "
      "class is known: supervised). M-step (eq. 17): π_cg = N_cg / N, and μ_c the least-squares template: the "
      "images moved back, summed and divided per pixel by how often each pixel was covered. Unsupervised: K "
      "clusters seeded k-means++-style, each named by the majority class of its images. The curve is the mean "
      "complete-data log-likelihood per image.");
}

void ShallowRmmPanel::start() {
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  if (job_active_ || !dataset || !dataset->data || dataset->data->size() == 0) return;
  if (worker_.joinable()) worker_.join();
  ever_started_ = true;
  rmm::TrainOptions o;
  o.mode = mode_ == 0 ? rmm::Mode::Supervised : rmm::Mode::Unsupervised;
  o.max_shift = shift_;
  o.iterations = iterations_;
  o.samples = kSamplePairs;
  // The trainer has one core and the GUI needs one: EM takes what is left.
  o.threads = std::max(1, int(std::thread::hardware_concurrency()) - 2);
  cancel_ = false;
  job_done_ = false;
  job_active_ = true;
  error_.clear();
  worker_ = std::thread([this, dataset, o] {
    std::string error;
    try {
      std::shared_ptr<const Dataset> test;
      if (has_split(dataset->spec, Split::Test)) test = std::make_shared<const Dataset>(load_dataset(dataset->spec, Split::Test));
      {
        std::lock_guard lock(mutex_);
        samples_data_ = test ? test : dataset->data;
      }
      rmm::train_shallow_rmm(*dataset->data, test.get(), o, [this](const rmm::Trained& state) {
        {
          std::lock_guard lock(mutex_);
          latest_ = std::make_shared<const rmm::Trained>(state);
        }
        QMetaObject::invokeMethod(this, [this] { request_frames(); }, Qt::QueuedConnection);
        if (cancel_) throw Cancelled{};
      });
    } catch (const Cancelled&) {
    } catch (const std::exception& e) {
      error = e.what();
    }
    {
      std::lock_guard lock(mutex_);
      error_ = error;
    }
    job_done_ = true;
    QMetaObject::invokeMethod(this, [this] { request_frames(); }, Qt::QueuedConnection);
  });
}

void ShallowRmmPanel::adopt_progress() {
  std::shared_ptr<const rmm::Trained> latest;
  {
    std::lock_guard lock(mutex_);
    latest = latest_;
  }
  if (job_active_ && job_done_) {
    worker_.join();
    job_active_ = false;
  }
  if (latest && latest != shown_) {
    shown_ = latest;
    ++generation_;
    rebuild_atlases();
  }
}

void ShallowRmmPanel::rebuild_atlases() {
  const rmm::ShallowRmm& m = shown_->model;
  std::vector<AtlasItem> items;
  for (int c = 0; c < m.components; ++c)
    items.push_back({{m.channels, m.height, m.width, m.canonical(c).data()}, Normalization::UnitRange});
  templates_ = build_atlas(items, square_columns(items.size()));
  std::shared_ptr<const Dataset> data;
  {
    std::lock_guard lock(mutex_);
    data = samples_data_;
  }
  items.clear();
  std::vector<std::vector<float>> rendered;
  rendered.reserve(shown_->samples.size());
  for (size_t i = 0; data && i < shown_->samples.size() && i < data->size(); ++i) {
    rendered.push_back(m.render(shown_->samples[i].component, shown_->samples[i].nuisance));
    items.push_back({{m.channels, m.height, m.width, data->image(i).data()}, Normalization::UnitRange});
    items.push_back({{m.channels, m.height, m.width, rendered.back().data()}, Normalization::UnitRange});
  }
  pairs_ = build_atlas(items, 8);
}

void ShallowRmmPanel::draw_controls() {
  ImGui::SetNextItemWidth(combo_width("unsupervised"));
  const char* modes[] = {"supervised", "unsupervised"};
  ImGui::BeginDisabled(job_active_);
  ImGui::Combo("##mode", &mode_, modes, 2);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("supervised: each training image's class is known; unsupervised: one cluster per class");
  next_item_in_row(scaled(80));
  ImGui::DragInt("##shift", &shift_, 0.05f, 0, 4, "shift ±%d", ImGuiSliderFlags_AlwaysClamp);
  next_item_in_row(scaled(100));
  ImGui::DragInt("##iterations", &iterations_, 0.1f, 1, 50, "%d iterations", ImGuiSliderFlags_AlwaysClamp);
  ImGui::EndDisabled();
  same_line_if_fits(button_width("Run"));
  if (job_active_) {
    if (ImGui::Button("Stop")) cancel_ = true;
  } else if (ImGui::Button("Run")) {
    start();
  }
  // The worker writes error_ as it ends: read only once it has been joined.
  if (!job_active_ && !error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", error_.c_str());
}

void ShallowRmmPanel::draw(const Snapshot&) {
  adopt_progress();
  if (!ever_started_) start();  // the first time the panel is seen: a lesson that runs in seconds
  char header[160];
  if (shown_) {
    const rmm::Iteration& r = shown_->history.back();
    std::snprintf(header, sizeof header, "%s iteration %d: train %.3f, test %.3f", job_active_ ? "running," : "hard EM,",
                  r.iteration, r.train_accuracy, std::isnan(r.test_accuracy) ? 0.0 : r.test_accuracy);
  } else {
    std::snprintf(header, sizeof header, "%s", job_active_ ? "hard EM: starting…" : "hard EM: press Run");
  }
  draw_header(header);
  draw_controls();
  if (!shown_) return;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float spacing = ImGui::GetStyle().ItemSpacing.y;
  const float plot_h = std::max(line_plot_min_height(), avail.y * 0.3f);
  const float picture_h = std::max(scaled(40), (avail.y - plot_h - 2 * spacing - 2 * ImGui::GetTextLineHeightWithSpacing()) * 0.5f);
  const Texture& templates = textures().get("templates", generation_, [&]() -> const RgbaImage& { return templates_.image; });
  const Texture& pairs = textures().get("pairs", generation_, [&]() -> const RgbaImage& { return pairs_.image; });
  ImGui::TextUnformatted("templates μ_c");
  if (!templates_.tiles.empty()) {
    const GridLayout layout = fit_grid(int(templates_.tiles.size()), templates_.tiles[0].width, templates_.tiles[0].height,
                                       ImVec2(avail.x, picture_h), 2.0f);
    const GridEvents e = draw_tile_grid("##templates", templates, templates_, int(templates_.tiles.size()), layout);
    record_region("shallow_rmm.templates", e.rect.min, e.rect.max);
  }
  ImGui::TextUnformatted("images, each beside the template μ_cg it was assigned to");
  if (!pairs_.tiles.empty()) {
    const GridLayout layout =
        grid_with_columns(int(pairs_.tiles.size()), 8, pairs_.tiles[0].width, pairs_.tiles[0].height, ImVec2(avail.x, picture_h), 2.0f);
    const GridEvents e = draw_tile_grid("##pairs", pairs, pairs_, int(pairs_.tiles.size()), layout);
    record_region("shallow_rmm.assignments", e.rect.min, e.rect.max);
  }
  PlotSeries curve{"log-likelihood per image", IM_COL32(120, 190, 255, 255), {}, {}};
  for (const rmm::Iteration& r : shown_->history) curve.x.push_back(r.iteration), curve.y.push_back(r.log_likelihood);
  PlotOptions options;
  options.title = "mean complete-data log-likelihood";
  options.x_label = "EM iteration";
  const PanelRect plot = draw_line_plot("##likelihood", ImVec2(ImGui::GetContentRegionAvail().x, plot_h), {&curve, 1}, options);
  record_region("shallow_rmm.likelihood", plot.min, plot.max);
}

void ShallowRmmPanel::write_export(const QString& path, const QString& format) {
  if (format == "csv") {
    if (!shown_) throw Error("nothing to export: press Run first");
    write_file_atomically(path.toStdString(), rmm::history_csv(shown_->history));
    return;
  }
  export_png(path.toStdString(), screen_image());  // the panel as it is on screen
}

}  // namespace drmm::ui
