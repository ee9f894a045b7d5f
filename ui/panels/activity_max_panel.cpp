#include "ui/panels/activity_max_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "core/util/error.h"
#include "ui/export_files.h"
#include "ui/session_controller.h"
#include "ui/tile_grid.h"
#include "ui/tree_view.h"

namespace drmm::ui {
namespace {

// The closed form of every class costs (1 + refinements) top-down and bottom-up passes per class:
// about once a second while training is plenty.
constexpr qint64 kClosedFormRefreshMs = 1000;
// A chunk of gradient ascent holds the trainer for this long: short enough that training keeps
// going between chunks, long enough that waiting for a batch boundary is not the whole cost.
constexpr std::chrono::milliseconds kChunk{30};
constexpr size_t kNormImages = 1000;

}  // namespace

ActivityMaxPanel::ActivityMaxPanel(SessionController* session, FrameStats* stats, QWidget* parent)
    : ImGuiPanelHost(tr("Activity maximization"), session, stats, parent) {
  setObjectName("activity_max");
  closed_clock_.start();
  rate_clock_.start();
  connect(session, &SessionController::dataset_loaded, this, [this] {
    closed_wanted_ = true;
    restart_wanted_ = true;
    request_frames();
  });
}

ActivityMaxPanel::~ActivityMaxPanel() {
  running_ = false;
  ascent_job_.wait();
  closed_job_.wait();
}

QString ActivityMaxPanel::help_text() const {
  return tr(
      "What image would the model find most typical of a class? Left: one such image per class, computed in one "
      "go; under each, its class and how sure the model is of it (green above one half). Right: an image improved "
      "step by step while you watch, for a class or for one unit of any layer. Click a picture on the left to make "
      "its class the target on the right.\n"
      "Left, the closed form (Patel, Nguyen & Baraniuk, “A Probabilistic Framework for Deep Learning”, NIPS 2016, "
      "App. E; and their “A Probabilistic Theory of Deep Learning”, arXiv 2015, §3.2, eq. 26–27): the image "
      "maximising class c's score is the sum of per-patch best renderings μ(c, g*), rendered top-down with the "
      "latents chosen greedily (templates with positive coefficients on, the most probable position in each "
      "pooling window), no optimisation. 'refinements' alternates bottom-up inference and top-down rendering that "
      "many times. Every image is scaled to the mean L2 norm of 1000 training images (scores grow with the norm); "
      "the caption gives its score s_c and q(c|I).\n"
      "Right, gradient ascent on the input (Simonyan, Vedaldi & Zisserman, “Deep Inside Convolutional Networks”, "
      "2014): I ← I + step·∇(s(I) − L2·½‖I − ½‖² − TV·TV(I)), gradient normalised, with a random shift of up to "
      "'jitter' pixels per step, pixels kept in [0,1]. The target is a class score or the mean activity of one "
      "channel of any layer; start from noise, a training image or the canvas (left drag paints white, right drag "
      "black). Run/Pause; the target can change while it runs. steps/s counts wall-clock time, training included "
      "(the ascent runs between the trainer's batches).");
}

// ---------------------------------------------------------------------------------------------
// Jobs

bool ActivityMaxPanel::closed_form_due() const {
  const std::shared_ptr<const Snapshot>& snapshot = snapshot_ptr();
  if (!snapshot || snapshot->version == 0 || closed_job_.busy()) return false;
  return closed_wanted_ || (snapshot->version != closed_version_ && closed_clock_.elapsed() >= kClosedFormRefreshMs);
}

bool ActivityMaxPanel::animating() const {
  return running_ || ascent_job_.busy() || closed_job_.busy() || closed_form_due();
}

bool ActivityMaxPanel::evolving() const {
  return running_ && !closed_job_.busy() && !closed_form_due() && !closed_.images.empty() && ascent_.steps > 0;
}

void ActivityMaxPanel::start_closed_form(const Snapshot& snapshot) {
  const int refinements = refinements_;
  const uint64_t version = snapshot.version;
  closed_job_.start(session()->training_session(), [refinements, version](Trainer& trainer) {
    const auto start = std::chrono::steady_clock::now();
    DrmmModel& model = trainer.model();
    const ModelSpec& spec = model.spec();
    const Dataset& data = trainer.train_data();
    ClosedForm result;
    // Scores grow with ‖I‖: compare every image at the norm of a typical training image.
    result.norm = mean_image_norm(data, kNormImages);
    result.images = closed_form_activity_max(model, result.norm, refinements);
    result.channels = spec.channels;
    result.height = spec.height;
    result.width = spec.width;
    for (size_t l = 0; l + 1 < spec.layers.size(); ++l)
      result.layers.push_back({spec.layers[l].describe(), spec.layers[l].output.c});
    result.version = version;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  });
  closed_clock_.restart();
  closed_wanted_ = false;
}

UnitTarget ActivityMaxPanel::current_target() const {
  if (target_kind_ == 1) return UnitTarget{size_t(std::max(target_layer_, 0)), std::max(target_channel_, 0)};
  // A class score: the mean pool, the last layer (class_target), whose channel is the class.
  const size_t last = closed_.layers.size();  // layers below the mean pool; the mean pool is next
  return UnitTarget{last, target_class_};
}

ActivityMaxPanel::AscentRequest ActivityMaxPanel::make_request(bool restart) {
  AscentRequest request;
  request.restart = restart;
  request.start = Start(start_kind_);
  request.dataset_index = start_index_;
  if (restart && request.start == Start::Canvas) request.canvas = canvas_;
  request.seed = restart_seed_;
  request.target = current_target();
  request.options.step = step_;
  request.options.l2 = l2_;
  request.options.tv = tv_;
  request.options.jitter = jitter_;
  request.options.seed = restart_seed_;
  return request;
}

void ActivityMaxPanel::start_chunk() {
  const AscentRequest request = make_request(restart_wanted_);
  if (restart_wanted_) ++restart_seed_;
  restart_wanted_ = false;
  const std::shared_ptr<AscentHolder> holder = holder_;
  ascent_job_.start(session()->training_session(), [holder, request](Trainer& trainer) {
    DrmmModel& model = trainer.model();
    const ModelSpec& spec = model.spec();
    check_target(spec, request.target);
    if (request.restart || !holder->ascent) {
      std::vector<float> start;
      const size_t pixels = size_t(spec.height) * size_t(spec.width);
      switch (request.start) {
        case Start::Noise: start = noise_image(spec, request.seed); break;
        case Start::DatasetImage: {
          const Dataset& data = trainer.train_data();
          if (request.dataset_index < 0 || size_t(request.dataset_index) >= data.size())
            throw Error("image " + std::to_string(request.dataset_index) + " is not in the training set (" +
                        std::to_string(data.size()) + " images)");
          const auto image = data.image(size_t(request.dataset_index));
          start.assign(image.begin(), image.end());
          break;
        }
        case Start::Canvas:
          if (request.canvas.size() != pixels) throw Error("the canvas does not have the model's input size");
          // One painted channel, the same in every channel of the input.
          for (int c = 0; c < spec.channels; ++c) start.insert(start.end(), request.canvas.begin(), request.canvas.end());
          break;
      }
      holder->ascent = std::make_unique<GradientAscent>(spec, request.target, std::move(start), request.options);
    } else {
      holder->ascent->set_target(request.target);
      holder->ascent->set_options(request.options);
    }
    GradientAscent& ascent = *holder->ascent;
    AscentChunk chunk;
    const auto start = std::chrono::steady_clock::now();
    do {
      chunk.score = ascent.step(model);
      ++chunk.chunk_steps;
    } while (std::chrono::steady_clock::now() - start < kChunk);
    chunk.chunk_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The image after the last update, as it is shown.
    const UnitActivity activity = unit_activity(model, ascent.image(), request.target);
    chunk.score = activity.score;
    chunk.class_probabilities = activity.class_probabilities;
    chunk.image = ascent.image();
    chunk.steps = ascent.steps();
    chunk.target = request.target;
    return chunk;
  });
}

void ActivityMaxPanel::set_running(bool running) {
  if (running && !running_) {
    rate_clock_.restart();
    rate_steps_ = 0;
  }
  running_ = running;
  request_frames();
}

// ---------------------------------------------------------------------------------------------
// Drawing

void ActivityMaxPanel::draw(const Snapshot& snapshot) {
  draw_header("Activity maximization");
  if (snapshot.version == 0) {
    ImGui::TextDisabled("Waiting for the model…");
    return;
  }
  ClosedForm closed;
  if (closed_job_.take(closed, closed_error_)) {
    closed_ = std::move(closed);
    closed_version_ = closed_.version;
    ++closed_generation_;
    if (canvas_w_ != closed_.width || canvas_h_ != closed_.height) {
      canvas_w_ = closed_.width;
      canvas_h_ = closed_.height;
      canvas_.assign(size_t(canvas_w_) * size_t(canvas_h_), 0.0f);
      ++canvas_version_;
    }
  } else if (!closed_error_.empty() && !closed_job_.busy()) {
    closed_version_ = snapshot.version;  // failed: try again with the next snapshot
  }
  if (closed_form_due()) start_closed_form(snapshot);

  AscentChunk chunk;
  std::string error;
  if (ascent_job_.take(chunk, error)) {
    ascent_ = std::move(chunk);
    ++ascent_generation_;
    rate_steps_ += ascent_.chunk_steps;
    compute_per_second_ = ascent_.chunk_seconds > 0 ? ascent_.chunk_steps / ascent_.chunk_seconds : 0;
    if (rate_clock_.elapsed() >= 1000) {
      steps_per_second_ = rate_steps_ * 1000.0 / double(rate_clock_.elapsed());
      rate_steps_ = 0;
      rate_clock_.restart();
    }
    ascent_error_.clear();
  } else if (!error.empty()) {
    ascent_error_ = error;
    running_ = false;  // a failing target or start would fail every chunk
    restart_wanted_ = true;
  }
  if (running_ && !ascent_job_.busy() && !closed_.layers.empty()) start_chunk();

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float left_w = std::floor(avail.x * 0.42f);
  ImGui::BeginGroup();
  draw_closed_form(snapshot, ImVec2(left_w, avail.y));
  ImGui::EndGroup();
  ImGui::SameLine(0, 14);
  ImGui::BeginGroup();
  draw_ascent(snapshot, ImVec2(avail.x - left_w - 14, avail.y));
  ImGui::EndGroup();
}

void ActivityMaxPanel::draw_closed_form(const Snapshot& snapshot, ImVec2 size) {
  const float top = ImGui::GetCursorScreenPos().y, right = ImGui::GetCursorScreenPos().x + size.x;
  text_elided("Closed form, every class", size.x);
  ImGui::SetNextItemWidth(std::min(scaled(120), size.x * 0.4f));
  if (ImGui::SliderInt("refinements", &refinements_, 0, 5)) closed_wanted_ = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Rounds of bottom-up inference and top-down rendering after the greedy rendering");
  if (!closed_.images.empty()) {
    char text[64];
    std::snprintf(text, sizeof text, "L2 norm %.2f, %.0f ms", closed_.norm, closed_.seconds * 1000);
    same_line_if_fits(ImGui::CalcTextSize(text).x, right);
    ImGui::TextDisabled("%s", text);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Every image has the mean L2 norm of %zu training images; computing them all took %.0f ms",
                        kNormImages, closed_.seconds * 1000);
  }
  if (!closed_error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", closed_error_.c_str());
  if (closed_.images.empty()) {
    ImGui::TextDisabled("Rendering…");
    return;
  }
  const size_t count = closed_.images.size();
  const size_t values = size_t(closed_.channels) * size_t(closed_.height) * size_t(closed_.width);
  const Texture& texture = textures().get("closed", closed_generation_, [&]() -> const RgbaImage& {
    std::vector<AtlasItem> items;
    for (const ClosedFormImage& c : closed_.images)
      items.push_back({ImageView{closed_.channels, closed_.height, closed_.width,
                                 c.image.size() == values ? c.image.data() : nullptr},
                       Normalization::MinMax});
    closed_atlas_ = build_atlas(items, square_columns(items.size()));
    return closed_atlas_.image;
  });
  if (closed_atlas_.tiles.size() != count) return;
  const float caption_h = 2 * ImGui::GetTextLineHeight() + 2;
  const float used = ImGui::GetCursorScreenPos().y - top;
  const GridLayout layout = fit_grid(int(count), closed_.width, closed_.height, ImVec2(size.x, size.y - used), 8.0f, caption_h);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const GridEvents events = draw_tile_grid("##closed", texture, closed_atlas_, int(count), layout, [&](int i, ImVec2 p0, ImVec2 p1) {
    const ClosedFormImage& c = closed_.images[size_t(i)];
    const float q = size_t(c.cls) < c.activity.class_probabilities.size() ? c.activity.class_probabilities[size_t(c.cls)] : 0.0f;
    // Each line shortened to its cell (the tooltip has the whole): neighbours' captions never touch.
    char text[64];
    const float w = layout.cell.x - scaled(4);
    std::snprintf(text, sizeof text, "s %.2f q %.2f", c.activity.score, double(q));
    draw->AddText(ImVec2(p0.x, p1.y + 1), IM_COL32(220, 220, 220, 255), elide_to_width(snapshot.class_name(c.cls), w).c_str());
    draw->AddText(ImVec2(p0.x, p1.y + 1 + ImGui::GetTextLineHeight()), q >= 0.5f ? IM_COL32(120, 210, 120, 255) : IM_COL32(230, 170, 90, 255),
                  elide_to_width(text, w).c_str());
    if (target_kind_ == 0 && c.cls == target_class_)
      draw->AddRect(ImVec2(p0.x - 2, p0.y - 2), ImVec2(p1.x + 2, p1.y + 2), IM_COL32(255, 210, 60, 255), 0, 0, 1.5f);
  });
  record_region("activity_max.closed_form", events.rect.min, events.rect.max);
  if (events.clicked >= 0) {
    target_kind_ = 0;
    target_class_ = closed_.images[size_t(events.clicked)].cls;
  }
  if (events.hovered >= 0) {
    const ClosedFormImage& c = closed_.images[size_t(events.hovered)];
    const AtlasTile& t = closed_atlas_.tiles[size_t(events.hovered)];
    ImGui::BeginTooltip();
    ImGui::Text("%s: score s_c %.3f at ‖I‖ = %.2f", snapshot.class_name(c.cls).c_str(), c.activity.score, closed_.norm);
    ImGui::Image(texture.imgui_id(), picture_size(t.width, t.height, 5), ImVec2(t.u0, t.v0), ImVec2(t.u1, t.v1));
    for (size_t k = 0; k < c.activity.class_probabilities.size(); ++k)
      if (c.activity.class_probabilities[k] >= 0.05f)
        ImGui::Text("q(%s|I) = %.2f", snapshot.class_name(int(k)).c_str(), double(c.activity.class_probabilities[k]));
    ImGui::TextDisabled("min→black, max→white; click: make it the gradient-ascent target");
    ImGui::EndTooltip();
  }
}

void ActivityMaxPanel::draw_ascent(const Snapshot& snapshot, ImVec2 size) {
  // Rows of controls wrap at the column's right edge.
  const float top = ImGui::GetCursorScreenPos().y, right = ImGui::GetCursorScreenPos().x + size.x;
  ImGui::TextUnformatted("Gradient ascent");
  // Target: a class score, or one channel of a layer.
  ImGui::RadioButton("class", &target_kind_, 0);
  same_line_if_fits(checkbox_width("unit"), right);
  ImGui::RadioButton("unit", &target_kind_, 1);
  const int classes = std::max(int(closed_.images.size()), int(snapshot.class_names.size()));
  if (target_kind_ == 0) {
    next_item_in_row(scaled(150), nullptr, right);
    const std::string current = snapshot.class_name(target_class_);
    if (ImGui::BeginCombo("##class", current.c_str())) {
      for (int c = 0; c < classes; ++c)
        if (ImGui::Selectable(snapshot.class_name(c).c_str(), c == target_class_)) target_class_ = c;
      ImGui::EndCombo();
    }
  } else if (!closed_.layers.empty()) {
    target_layer_ = std::clamp(target_layer_, 0, int(closed_.layers.size()) - 1);
    next_item_in_row(scaled(170), nullptr, right);
    if (ImGui::BeginCombo("##layer", closed_.layers[size_t(target_layer_)].name.c_str())) {
      for (size_t l = 0; l < closed_.layers.size(); ++l)
        if (ImGui::Selectable(closed_.layers[l].name.c_str(), int(l) == target_layer_)) target_layer_ = int(l);
      ImGui::EndCombo();
    }
    next_item_in_row(scaled(90), "channel", right);
    ImGui::InputInt("channel", &target_channel_);
    target_channel_ = std::clamp(target_channel_, 0, std::max(closed_.layers[size_t(target_layer_)].channels - 1, 0));
  }

  // Start image.
  ImGui::TextUnformatted("start:");
  same_line_if_fits(checkbox_width("noise"), right);
  ImGui::RadioButton("noise", &start_kind_, int(Start::Noise));
  same_line_if_fits(checkbox_width("image"), right);
  ImGui::RadioButton("image", &start_kind_, int(Start::DatasetImage));
  next_item_in_row(scaled(90), nullptr, right);
  const std::shared_ptr<const BrowsedDataset> dataset = session()->dataset();
  const int last = dataset && dataset->data ? std::max(int(dataset->data->size()) - 1, 0) : 0;
  if (ImGui::InputInt("##start_index", &start_index_)) start_kind_ = int(Start::DatasetImage);
  start_index_ = std::clamp(start_index_, 0, last);
  same_line_if_fits(checkbox_width("canvas"), right);
  ImGui::RadioButton("canvas", &start_kind_, int(Start::Canvas));
  same_line_if_fits(button_width("Restart"), right);
  if (ImGui::Button("Restart")) {
    restart_wanted_ = true;
    if (!running_) set_running(true);
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Start again from the chosen start image");

  if (ImGui::Button(running_ ? "Pause" : "Run", ImVec2(scaled(70), 0))) set_running(!running_);
  same_line_if_fits(button_width("Use as canvas"), right);
  ImGui::BeginDisabled(ascent_.image.empty() || canvas_.empty());
  if (ImGui::Button("Use as canvas")) {
    // The first channel: the canvas is gray.
    std::copy_n(ascent_.image.begin(), std::min(canvas_.size(), ascent_.image.size()), canvas_.begin());
    ++canvas_version_;
  }
  ImGui::EndDisabled();
  if (!ascent_.image.empty()) {
    // Its own line: the figures change width every chunk and must not push the buttons around.
    const int target_class = ascent_.target.level == closed_.layers.size() ? ascent_.target.channel : -1;
    const auto& q = ascent_.class_probabilities;
    const int best = q.empty() ? -1 : int(std::max_element(q.begin(), q.end()) - q.begin());
    // Shortened to the column, never wrapped: a line count that changed with the figures would
    // move everything below it; the tooltip has the whole line.
    char text[192];
    if (target_class >= 0 && size_t(target_class) < q.size())
      std::snprintf(text, sizeof text, "%d steps · %.0f steps/s · score %.3f · q(%s) %.2f", ascent_.steps, steps_per_second_,
                    ascent_.score, snapshot.class_name(target_class).c_str(), double(q[size_t(target_class)]));
    else
      std::snprintf(text, sizeof text, "%d steps · %.0f steps/s · activity %.3f · ĉ %s (%.2f)", ascent_.steps, steps_per_second_,
                    ascent_.score, snapshot.class_name(best).c_str(), best >= 0 ? double(q[size_t(best)]) : 0.0);
    ImGui::TextUnformatted(elide_to_width(text, size.x).c_str());
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\nsteps/s over wall-clock time, training batches in between included;\n%.0f steps/s while a chunk runs",
                        text, compute_per_second_);
  }
  if (!ascent_error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", ascent_error_.c_str());

  // Regularisation (applied from the next chunk on).
  ImGui::SetNextItemWidth(scaled(120));
  ImGui::SliderFloat("step", &step_, 0.005f, 0.5f, "%.3f", ImGuiSliderFlags_Logarithmic);
  next_item_in_row(scaled(120), "L2", right);
  ImGui::SliderFloat("L2", &l2_, 0.0f, 0.1f, "%.4f", ImGuiSliderFlags_Logarithmic);
  ImGui::SetNextItemWidth(scaled(120));
  ImGui::SliderFloat("TV", &tv_, 0.0f, 0.2f, "%.4f", ImGuiSliderFlags_Logarithmic);
  next_item_in_row(scaled(120), "jitter", right);
  ImGui::SliderInt("jitter", &jitter_, 0, 4);

  // The ascent's image next to the canvas, as large as the room allows.
  const int w = std::max(canvas_w_, 1), h = std::max(canvas_h_, 1);
  const float used = ImGui::GetCursorScreenPos().y - top;
  const float room_h = size.y - used - 3 * ImGui::GetTextLineHeightWithSpacing();
  const float scale =
      std::clamp(std::floor(std::min((size.x - 24) * 0.5f / float(w), room_h / float(h))), 2.0f, 8.0f * ui_scale());
  const ImVec2 image_size(float(w) * scale, float(h) * scale);
  ImGui::BeginGroup();
  ImGui::TextUnformatted("maximising image");
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  if (!ascent_.image.empty() && ascent_.image.size() == size_t(closed_.channels) * size_t(h) * size_t(w)) {
    const Texture& texture = textures().get("ascent", ascent_generation_, [&]() -> const RgbaImage& {
      static thread_local RgbaImage image;
      image = image_to_rgba({closed_.channels, h, w, ascent_.image.data()}, Normalization::UnitRange);
      return image;
    });
    ImGui::Image(texture.imgui_id(), image_size);
  } else {
    ImGui::Dummy(image_size);
    ImGui::GetWindowDrawList()->AddRect(p0, ImVec2(p0.x + image_size.x, p0.y + image_size.y), IM_COL32(70, 70, 80, 255));
    ImGui::GetWindowDrawList()->AddText(ImVec2(p0.x + 8, p0.y + 8), IM_COL32(150, 150, 150, 255), "press Run");
  }
  record_region("activity_max.ascent", p0, ImVec2(p0.x + image_size.x, p0.y + image_size.y));
  ImGui::EndGroup();
  ImGui::SameLine(0, 12);
  ImGui::BeginGroup();
  ImGui::TextUnformatted("canvas");
  draw_canvas(scale);
  ImGui::SetNextItemWidth(std::min(scaled(110), image_size.x * 0.5f));
  ImGui::SliderFloat("brush", &brush_, 0.8f, 5.0f, "%.1f px");
  ImGui::SameLine();
  if (ImGui::SmallButton("Clear")) {
    std::fill(canvas_.begin(), canvas_.end(), 0.0f);
    ++canvas_version_;
  }
  ImGui::EndGroup();
}

void ActivityMaxPanel::draw_canvas(float scale) {
  if (canvas_.empty()) {
    ImGui::TextDisabled("(the model's input size is not known yet)");
    return;
  }
  const ImVec2 size(float(canvas_w_) * scale, float(canvas_h_) * scale);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("##canvas", size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  record_region("activity_max.canvas", p0, ImVec2(p0.x + size.x, p0.y + size.y));
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive()) {
    const float x = (io.MousePos.x - p0.x) / scale, y = (io.MousePos.y - p0.y) / scale;
    // Left paints white, right paints black (paint_stroke's erase lowers values towards 0).
    const bool black = io.MouseDown[ImGuiMouseButton_Right] && !io.MouseDown[ImGuiMouseButton_Left];
    if (!painting_) last_x_ = x, last_y_ = y;
    if (paint_stroke(canvas_, canvas_w_, canvas_h_, last_x_, last_y_, x, y, black, brush_)) ++canvas_version_;
    last_x_ = x;
    last_y_ = y;
    painting_ = true;
  } else {
    painting_ = false;
  }
  const Texture& texture = textures().get("canvas", canvas_version_, [&]() -> const RgbaImage& {
    static thread_local RgbaImage image;
    image = image_to_rgba({1, canvas_h_, canvas_w_, canvas_.data()}, Normalization::UnitRange);
    return image;
  });
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddImage(texture.imgui_id(), p0, ImVec2(p0.x + size.x, p0.y + size.y));
  draw->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + size.x + 1, p0.y + size.y + 1),
                start_kind_ == int(Start::Canvas) ? IM_COL32(255, 210, 60, 255) : IM_COL32(70, 70, 80, 255));
  if (ImGui::IsItemHovered() && !ImGui::IsItemActive()) ImGui::SetTooltip("Left drag paints white, right drag paints black");
}

void ActivityMaxPanel::write_export(const QString& path, const QString&) {
  // The panel as it is on screen: the closed-form images with their scores, the ascent, the canvas.
  export_png(path.toStdString(), screen_image());
}

}  // namespace drmm::ui
