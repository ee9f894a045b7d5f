// Training runs end to end on small data: checkpoints (round trip, corruption), resuming
// reproduces an uninterrupted run exactly, training improves reconstructions, supervised
// training reaches a stated accuracy, and the worker-thread session obeys start/pause/step.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "core/train/checkpoint.h"
#include "core/train/metrics_csv.h"
#include "core/train/model_state.h"
#include "core/train/trainer.h"
#include "core/train/training_session.h"
#include "core/util/error.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::contains;
using test::TempDir;

TrainConfig synthetic_config() {
  TrainConfig c;
  c.dataset = "synthetic";
  c.preset = "tiny";
  c.labeled = 100;
  c.epochs = 0.02;  // 4 steps of 50 unlabeled images over 10000
  c.threads = 1;
  c.seed = 3;
  c.test_limit = 200;
  return c;
}

std::vector<std::vector<float>> weights_of(Trainer& t) {
  std::vector<std::vector<float>> all;
  for (const Parameter& p : t.model().parameters()) all.push_back(t.backend().download(p.value));
  return all;
}

void expect_message(const std::string& path, const std::string& what, const std::function<void()>& load) {
  try {
    load();
    FAIL() << "expected an error for " << what;
  } catch (const FileError& e) {
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
    EXPECT_TRUE(contains(e.what(), what)) << e.what();
  }
}

TEST(Checkpoint, RoundTripsExactly) {
  TempDir dir;
  CheckpointContents c;
  c.meta = {{"step", 17}};
  c.arrays.push_back(NamedArray{"w", Shape{2, 3, 1, 1}, {1, -2, 3.5f, 1e-30f, 0, 7}});
  write_checkpoint(dir / "c.bin", c);
  const CheckpointContents back = read_checkpoint(dir / "c.bin");
  EXPECT_EQ(back.meta["step"], 17);
  ASSERT_EQ(back.arrays.size(), 1u);
  EXPECT_EQ(back.arrays[0].shape, (Shape{2, 3, 1, 1}));
  EXPECT_EQ(back.arrays[0].values, c.arrays[0].values);
  EXPECT_FALSE(std::filesystem::exists(dir / "c.bin.tmp-" + std::to_string(::getpid())));
}

TEST(Checkpoint, CorruptFilesGiveClearErrors) {
  TempDir dir;
  CheckpointContents c;
  c.meta = {{"step", 1}};
  c.arrays.push_back(NamedArray{"w", Shape{4, 1, 1, 1}, {1, 2, 3, 4}});
  const std::string good = dir / "good.bin";
  write_checkpoint(good, c);
  test::Bytes bytes = test::read_file(good);
  auto variant = [&](const std::string& name, test::Bytes b) {
    const std::string path = dir / name;
    test::write_file(path, b);
    return path;
  };
  test::Bytes flipped = bytes;
  flipped[bytes.size() - 8] ^= 0x40;
  const std::string p1 = variant("flipped.bin", flipped);
  expect_message(p1, "checksum", [&] { read_checkpoint(p1); });
  const std::string p2 = variant("short.bin", test::Bytes(bytes.begin(), bytes.begin() + 10));
  expect_message(p2, "truncated", [&] { read_checkpoint(p2); });
  test::Bytes magic = bytes;
  magic[0] = 'X';
  const std::string p3 = variant("magic.bin", magic);
  expect_message(p3, "bad magic", [&] { read_checkpoint(p3); });
  test::Bytes version = bytes;
  version[8] = 99;
  const std::string p4 = variant("version.bin", version);
  expect_message(p4, "version 99", [&] { read_checkpoint(p4); });
  test::Bytes huge = bytes;  // header length far beyond the file
  huge[15] = 0x7f;
  const std::string p5 = variant("header.bin", huge);
  expect_message(p5, "header claims more bytes", [&] { read_checkpoint(p5); });
  expect_message(dir / "missing.bin", "no such file", [&] { read_checkpoint(dir / "missing.bin"); });
}

// A shape whose element count wraps around 64 bits (2^24 · 2^24 · 2^24 = 2^72 ≡ 0) once passed
// the size check with zero values and was then copied through a null pointer.
TEST(Checkpoint, ATensorShapeWhoseElementCountOverflowsIsRefused) {
  TempDir dir;
  CheckpointContents c;
  c.meta = {{"step", 1}};
  c.arrays.push_back(NamedArray{"w", Shape{1 << 24, 1 << 24, 1 << 24, 1}, {}});
  const std::string path = dir / "overflow.bin";
  write_checkpoint(path, c);
  expect_message(path, "more elements than a checkpoint can hold", [&] { read_checkpoint(path); });
}

// The batch order is indexed by the step: a negative step once made --resume read outside it.
TEST(Trainer, ResumingACheckpointWhoseStepIsOutsideTheRunIsAClearError) {
  TempDir dir;
  Trainer trainer(synthetic_config());
  trainer.step();
  const std::string good = dir / "good.bin";
  trainer.save(good);
  for (const int64_t step : {int64_t(-5), int64_t(1) << 40}) {
    CheckpointContents contents = read_checkpoint(good);
    contents.meta["step"] = step;
    const std::string bad = dir / "bad.bin";
    write_checkpoint(bad, contents);
    expect_message(bad, "step " + std::to_string(step) + " is outside the run", [&] { Trainer::resume(bad); });
  }
}

// A huge learning rate for one step: the loss before the update is finite, the weights after it
// are not. They were saved and loaded without a word; now neither happens.
TEST(Trainer, NonFiniteWeightsAreNeitherSavedNorLoaded) {
  TempDir dir;
  Trainer trainer(synthetic_config());
  trainer.step();
  const std::string good = dir / "good.bin";
  trainer.save(good);
  CheckpointContents contents = read_checkpoint(good);
  contents.arrays.front().values[3] = std::numeric_limits<float>::infinity();
  const std::string bad = dir / "bad.bin";
  write_checkpoint(bad, contents);
  expect_message(bad, "non-finite value", [&] { Trainer::resume(bad); });

  for (Parameter& p : trainer.model().parameters()) {
    std::vector<float> values = trainer.backend().download(p.value);
    values[0] = std::numeric_limits<float>::quiet_NaN();
    trainer.backend().upload(p.value, values);
  }
  try {
    trainer.save(good);
    FAIL() << "saved non-finite weights";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "diverged")) << e.what();
  }
  EXPECT_NO_THROW(Trainer::resume(good));  // the last good checkpoint is intact
}

// Training faults: a learning rate so large that the first update overflows the weights. Each
// faulty step is rolled back (the weights before it come back exactly) and retried at a tenth of
// the learning rate until it holds; the user is told; a run that cannot recover stops cleanly.
TEST(Trainer, ADivergingUpdateIsRolledBackAndRetriedAtALowerLearningRate) {
  TrainConfig config = synthetic_config();
  config.lr_start = config.lr_end = 1e13;  // ~1e13 × gradients of order 0.1–1: beyond 1e9
  Trainer trainer(config);
  const auto before = weights_of(trainer);
  trainer.step();
  EXPECT_GE(trainer.fault_count(), 3);
  ASSERT_EQ(trainer.fault_notices().size(), size_t(trainer.fault_count()));
  EXPECT_TRUE(contains(trainer.fault_notices().front(), "rolled back")) << trainer.fault_notices().front();
  EXPECT_NEAR(trainer.learning_rate(), 1e13 * std::pow(0.1, trainer.fault_count()), 1e13 * 1e-9);
  EXPECT_EQ(trainer.step_count(), 1);
  for (const auto& w : weights_of(trainer))
    for (float v : w) ASSERT_TRUE(std::isfinite(v) && std::abs(v) <= 1e9f);
  EXPECT_NE(weights_of(trainer), before);  // the retried update was applied
  // The lowered rate is part of the run: a resumed run keeps it.
  TempDir dir;
  trainer.save(dir / "c.bin");
  EXPECT_DOUBLE_EQ(Trainer::resume(dir / "c.bin")->learning_rate(), trainer.learning_rate());
}

TEST(Trainer, ARunThatKeepsDivergingStopsWithAClearErrorAndItsLastGoodWeights) {
  TrainConfig config = synthetic_config();
  config.lr_start = config.lr_end = 1e30f;  // eight tenths down is still 1e22
  Trainer trainer(config);
  const auto before = weights_of(trainer);
  try {
    trainer.step();
    FAIL() << "a run that cannot recover went on";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "diverged")) << e.what();
    EXPECT_TRUE(contains(e.what(), "--lr")) << e.what();
  }
  EXPECT_EQ(weights_of(trainer), before);  // rolled back, not left overflowed
}

TEST(Trainer, ResumingFromACheckpointReproducesTheUninterruptedRun) {
  TempDir dir;
  TrainConfig config = synthetic_config();
  config.epochs = 0.04;  // 8 steps
  Trainer straight(config);
  while (!straight.finished()) straight.step();

  Trainer first_half(config);
  for (int i = 0; i < 4; ++i) first_half.step();
  first_half.save(dir / "half.bin");
  auto resumed = Trainer::resume(dir / "half.bin");
  EXPECT_EQ(resumed->step_count(), 4);
  while (!resumed->finished()) resumed->step();
  EXPECT_EQ(resumed->step_count(), straight.step_count());
  EXPECT_EQ(weights_of(*resumed), weights_of(straight));
  // The curves come back with the checkpoint: the resumed history holds the first half's rows.
  std::vector<int64_t> logged, expected;
  for (const MetricsRow& row : resumed->history()) logged.push_back(row.step);
  for (const MetricsRow& row : straight.history()) expected.push_back(row.step);
  EXPECT_EQ(logged, expected);
  ASSERT_FALSE(first_half.history().empty());
  EXPECT_EQ(resumed->history().front().loss_total, first_half.history().front().loss_total);
}

double reconstruction_error(Trainer& t, const Dataset& data, size_t count) {
  DrmmModel& model = t.model();
  model.bottom_up(model.upload_images(data.images(0, count)), false);
  Tensor labels = t.backend().alloc(Shape{int(count), 1, 1, 1});
  std::vector<float> values(data.labels.begin(), data.labels.begin() + long(count));
  t.backend().upload(labels, values);
  const std::vector<float> rendered = t.backend().download(model.top_down(labels, true));
  double error = 0;
  for (size_t i = 0; i < rendered.size(); ++i) error += std::pow(double(rendered[i]) - data.pixels[i], 2);
  return error / double(count);
}

bool fashion_mnist_installed() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

TrainConfig fashion_tiny_config(double epochs, size_t test_limit) {
  TrainConfig c;
  c.dataset = "fashion-mnist";
  c.preset = "tiny";
  c.epochs = epochs;
  c.threads = 2;
  c.test_limit = int64_t(test_limit);
  return c;
}

// The tiny preset's defaults (all four losses, 100 labels) for 600 steps on Fashion-MNIST: the
// class-rendered Î of test images must be much closer to them than the untrained model's
// (measured: the squared error per image falls from 170 to 36; the bound is 0.6×). Not fewer steps: whether L_RC has fallen by step 300 depends on the
// trajectory (seed 1 stayed near its initial value in one build and halved in another, from
// rounding differences alone), while by step 600 every trajectory tried had reached a third.
TEST(Trainer, TrainingMakesTheTopDownReconstructionCloserToTheInput) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Trainer trainer(fashion_tiny_config(0.5, 500));
  const Dataset test = load_dataset("fashion-mnist", Split::Test);
  const double before = reconstruction_error(trainer, test, 200);
  while (!trainer.finished()) trainer.step();
  const double after = reconstruction_error(trainer, test, 200);
  EXPECT_LT(after, 0.6 * before) << "before " << before << ", after " << after;
}

// Supervised only (α_RC = α_KL = α_NN = 0) on 1,000 labeled Fashion-MNIST images, 300 steps of
// the tiny preset: stated target 75 % on the first 2,000 test images.
TEST(Trainer, SupervisedTinyOnAThousandFashionMnistImagesReachesSeventyFivePercent) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TrainConfig config = fashion_tiny_config(30, 2000);
  config.labeled = 1000;
  config.labeled_fraction = 1.0;  // every image of a batch labeled: one pass = 10 steps
  config.alpha = LossWeights{1, 0, 0, 0};
  config.alpha_from_preset = false;
  config.test_every = 1000000;  // evaluate only at the end
  Trainer trainer(config);
  EXPECT_EQ(trainer.total_steps(), 300);
  while (!trainer.finished()) trainer.step();
  const EvalResult result = trainer.evaluate_test();
  EXPECT_EQ(result.count, 2000u);
  EXPECT_GE(result.accuracy, 0.75);
}

// A new run fits the preset's stack to the data (convlarge was made for 3×32×32, synthetic is
// 1×28×28); an architecture that must be kept as it is (a continued run) and does not match is
// a clear error.
TEST(Trainer, MismatchedPresetAndDatasetAreClearErrors) {
  TrainConfig config = synthetic_config();
  config.preset = "convlarge";
  EXPECT_NO_THROW(Trainer{config});
  try {
    Trainer t(config, load_model_spec("convlarge"), Trainer::SpecFit::exact);
    FAIL();
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "3x32x32")) << e.what();
  }
}

template <class Predicate>
std::shared_ptr<const Snapshot> wait_for(TrainingSession& s, Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto snapshot = s.latest();
    if (done(*snapshot)) return snapshot;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return nullptr;
}

TEST(TrainingSession, StartPauseStepAndSaveFromAnotherThread) {
  TempDir dir;
  TrainConfig config = synthetic_config();
  config.epochs = 5;
  TrainingSession session(config);
  auto ready = wait_for(session, [](const Snapshot& s) { return !s.level_names.empty(); });
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->step, 0);
  EXPECT_EQ(ready->probes.size(), 6u);
  EXPECT_EQ(ready->probes[0].from_level.size(), ready->level_names.size());
  EXPECT_EQ(ready->first_layer_filters.size(), 32u);  // conv1 of the tiny preset

  session.step_once();
  auto one = wait_for(session, [](const Snapshot& s) { return s.step == 1 && !s.running; });
  ASSERT_TRUE(one);

  session.start();
  ASSERT_TRUE(wait_for(session, [](const Snapshot& s) { return s.step >= 5; }));
  session.pause();
  auto paused = wait_for(session, [](const Snapshot& s) { return !s.running; });
  ASSERT_TRUE(paused);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(session.latest()->step, paused->step);  // nothing trains while paused

  session.set_probes({10, 11});
  ASSERT_TRUE(wait_for(session, [](const Snapshot& s) { return s.probes.size() == 2 && s.probes[0].dataset_index == 10; }));
  session.save_checkpoint(dir / "session.bin");
  EXPECT_EQ(read_checkpoint(dir / "session.bin").meta["step"], paused->step);

  // Features for E-DRMM trees come from the session's model, between two batches.
  const FeatureMatrix features = session.features(2, {0, 1, 2});  // conv2 of the tiny preset
  EXPECT_EQ(features.rows, 3u);
  EXPECT_EQ(features.shape, (Shape{1, 64, 14, 14}));
  ASSERT_EQ(features.values.size(), 3u * 64 * 14 * 14);
  EXPECT_GT(*std::max_element(features.values.begin(), features.values.end()), 0.0f);
  EXPECT_THROW(session.features(99, {0}), Error);
  const Dataset data = load_dataset("synthetic", Split::Train);
  std::vector<float> pixels(data.image(1).begin(), data.image(1).end());
  const FeatureMatrix drawn = session.features_of_images(2, pixels);
  ASSERT_EQ(drawn.rows, 1u);
  EXPECT_TRUE(std::equal(drawn.values.begin(), drawn.values.end(), features.values.begin() + 64 * 14 * 14));  // image 1 = row 1
  EXPECT_THROW(session.features_of_images(2, std::vector<float>(5)), Error);
}

// `drmm-studio --screenshot --after-steps N` stops at exactly N: the worker stops itself, so no
// batch runs between the step and a pause that the GUI thread would send late.
// The nice value of every thread of this process (Linux: field 19 of /proc/self/task/T/stat).
std::vector<int> nice_values_of_threads() {
  std::vector<int> values;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (name) "
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i)
      if (i == 19) values.push_back(std::stoi(field));
  }
  return values;
}

// The session is the studio's worker: it trains below the GUI's priority, so frames do not wait
// for batches (core/util/thread_priority.h).
TEST(TrainingSession, TrainsBelowTheCallersPriority) {
  if (!std::filesystem::exists("/proc/self/task")) GTEST_SKIP() << "no /proc";
  const std::vector<int> before = nice_values_of_threads();
  ASSERT_FALSE(before.empty());
  if (*std::max_element(before.begin(), before.end()) >= 10) GTEST_SKIP() << "a thread already runs at nice 10";
  TrainingSession session(synthetic_config());
  ASSERT_TRUE(wait_for(session, [](const Snapshot& s) { return !s.level_names.empty(); }));
  const std::vector<int> during = nice_values_of_threads();
  EXPECT_GE(std::count(during.begin(), during.end(), 10), 1) << "no thread at nice 10";
  // A job between batches runs on the thread that asked for it, at that thread's priority.
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  int nice_in_job = -1;
  session.run_between_batches([&](Trainer&) {
    ran_on = std::this_thread::get_id();
    nice_in_job = getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)));
  });
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(nice_in_job, getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid))));
}

TEST(TrainingSession, StartUntilAStepStopsExactlyThere) {
  TrainConfig config = synthetic_config();
  config.epochs = 5;
  TrainingSession session(config);
  for (const int64_t until : {1, 7}) {
    session.start(until);
    auto stopped = wait_for(session, [&](const Snapshot& s) { return s.step >= until && !s.running; });
    ASSERT_TRUE(stopped);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(session.latest()->step, until);
    EXPECT_FALSE(session.latest()->running);
  }
  session.start();  // without a step: on until paused
  ASSERT_TRUE(wait_for(session, [](const Snapshot& s) { return s.step >= 10; }));
  session.pause();
}

// The studio's timeline: past steps are kept with their weights, an analysis run while a past
// step is viewed sees that step's model, and the live weights come back after it; a save always
// holds the live run.
TEST(TrainingSession, KeepsPastStepsAndRunsAnalysesOnTheirWeights) {
  TempDir dir;
  TrainConfig config = synthetic_config();
  config.epochs = 5;
  TrainingSession session(config);
  ASSERT_TRUE(wait_for(session, [](const Snapshot& s) { return !s.level_names.empty(); }));
  const FeatureMatrix at_start = session.features(2, {0, 1});
  for (int64_t step = 1; step <= 3; ++step) {
    session.step_once();
    ASSERT_TRUE(wait_for(session, [&](const Snapshot& s) { return s.step == step && !s.running; }));
  }
  ASSERT_TRUE(wait_for(session, [&](const Snapshot&) { return session.history_steps().size() == 4; }));
  EXPECT_EQ(session.history_steps(), (std::vector<int64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(session.snapshot_at(0));
  EXPECT_EQ(session.snapshot_at(0)->step, 0);
  EXPECT_FALSE(session.snapshot_at(0)->probes.empty());
  EXPECT_EQ(session.snapshot_at(2)->step, 2);
  const FeatureMatrix live = session.features(2, {0, 1});
  ASSERT_NE(live.values, at_start.values);  // training moved the weights
  session.view_step(0);
  EXPECT_EQ(session.features(2, {0, 1}).values, at_start.values);
  session.save_checkpoint(dir / "viewing.bin");
  session.view_step(-1);
  EXPECT_EQ(session.features(2, {0, 1}).values, live.values);  // swapped back
  session.save_checkpoint(dir / "live.bin");
  const auto viewing = read_checkpoint(dir / "viewing.bin"), newest = read_checkpoint(dir / "live.bin");
  ASSERT_EQ(viewing.arrays.size(), newest.arrays.size());
  for (size_t i = 0; i < viewing.arrays.size(); ++i) EXPECT_EQ(viewing.arrays[i].values, newest.arrays[i].values);

  // Over its budget the history thins out: the first and the newest step stay, the cadence grows.
  const size_t budget = session.history_bytes();
  session.set_history_budget(budget);
  for (int64_t step = 4; step <= 12; ++step) {
    session.step_once();
    ASSERT_TRUE(wait_for(session, [&](const Snapshot& s) { return s.step == step && !s.running; }));
  }
  const std::vector<int64_t> kept = session.history_steps();
  EXPECT_LE(session.history_bytes(), budget);
  EXPECT_LE(kept.size(), 4u);
  EXPECT_EQ(kept.front(), 0);
  EXPECT_GE(kept.back(), 10);
}

// Watching a run folder that another process writes: it waits for the first checkpoint, shows
// each newer one (weights, step, history) and metrics.csv's newer rows, keeps the last good
// checkpoint when a bad one lands, and never trains itself.
TEST(TrainingSession, WatchesARunFolderAndShowsEachCheckpointThatLands) {
  TempDir dir;
  const std::string checkpoint = dir / "checkpoint.bin";
  TrainConfig config = synthetic_config();
  config.epochs = 0.05;
  auto session = TrainingSession::watching(config, dir.str());
  ASSERT_TRUE(wait_for(*session, [](const Snapshot& s) { return contains(s.status, "waiting for its first checkpoint"); }));
  Trainer writer(config);  // the other process
  writer.step();
  writer.step();
  writer.save(checkpoint);
  auto seen = wait_for(*session, [](const Snapshot& s) { return s.step == 2 && !s.level_names.empty(); });
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->watched_folder, dir.str());
  EXPECT_TRUE(contains(seen->status, "step 2 of")) << seen->status;
  EXPECT_FALSE(seen->probes.empty());
  const FeatureMatrix at_two = session->features(2, {0, 1});
  EXPECT_EQ(at_two.values, extract_features(writer.model(), writer.train_data(), std::vector<size_t>{0, 1}, 2).values);

  session->start();  // does nothing: the run is trained elsewhere
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(session->latest()->step, 2);

  for (int i = 0; i < 3; ++i) writer.step();
  writer.save(checkpoint);
  ASSERT_TRUE(wait_for(*session, [](const Snapshot& s) { return s.step == 5; }));
  EXPECT_EQ(session->features(2, {0, 1}).values,
            extract_features(writer.model(), writer.train_data(), std::vector<size_t>{0, 1}, 2).values);
  EXPECT_EQ(session->history_steps().back(), 5);  // on the timeline

  // metrics.csv rows past the checkpoint reach the curves.
  {
    MetricsCsv csv(dir / "metrics.csv", -1, {"conv1", "pool1", "conv2", "pool2", "class"});
    MetricsRow row;
    for (int64_t step : {10, 20, 30}) {
      row.step = step;
      row.loss_total = 1.0 / double(step);
      csv.append(row);
    }
  }
  auto curves = wait_for(*session, [](const Snapshot& s) { return !s.history.empty() && s.history.back().step == 30; });
  ASSERT_TRUE(curves);
  EXPECT_EQ(curves->history.size(), 3u);
  EXPECT_DOUBLE_EQ(curves->history[1].loss_total, 0.05);

  // A bad checkpoint (written in place by a careless tool) is reported; the last good one stays.
  {
    std::ofstream bad(checkpoint, std::ios::binary | std::ios::trunc);
    bad << "not a checkpoint at all, just some bytes";
  }
  auto refused = wait_for(*session, [](const Snapshot& s) { return contains(s.status, "bad magic"); });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->step, 5);
  EXPECT_TRUE(contains(refused->status, checkpoint)) << refused->status;
}

TEST(TrainingSession, ABadDatasetIsReportedInTheSnapshot) {
  TrainConfig config = synthetic_config();
  config.dataset = "/no/such/folder";
  TrainingSession session(config);
  auto failed = wait_for(session, [](const Snapshot& s) { return !s.status.empty(); });
  ASSERT_TRUE(failed);
  EXPECT_TRUE(contains(failed->status, "error:")) << failed->status;
  EXPECT_TRUE(contains(failed->status, "/no/such/folder")) << failed->status;
}

}  // namespace
}  // namespace drmm
