// The studio's comparison mode (core/train/comparison.h): the CNN twin of a run trains on the
// same seed, labeled split and batch order with L_H only, also when the run continues a
// checkpoint; and the view of a run renders the compared test images and one rendering path.
#include <chrono>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "core/model/model_spec.h"
#include "core/train/comparison.h"
#include "core/train/trainer.h"
#include "core/train/training_session.h"
#include "tests/core/dataset_test_files.h"

namespace drmm {
namespace {

using test::TempDir;

TrainConfig synthetic_config() {
  TrainConfig c;
  c.dataset = "synthetic";
  c.preset = "tiny";
  c.labeled = 100;
  c.epochs = 0.05;
  c.threads = 1;
  c.seed = 7;
  c.test_limit = 100;
  c.render_limit = 0;
  return c;
}

// What the test compares of a run, read between two of its batches.
struct RunFacts {
  TrainConfig config;
  int64_t step = -1;
  uint64_t split = 0;
  std::vector<size_t> first_batch, second_batch;
};

RunFacts facts_of(TrainingSession& session) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (session.latest()->version == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  RunFacts facts;
  session.run_between_batches([&](Trainer& trainer) {
    facts.config = trainer.config();
    facts.step = trainer.step_count();
    facts.split = split_fingerprint(trainer.split());
    facts.first_batch = trainer.batch_indices(0);
    facts.second_batch = trainer.batch_indices(1);
  });
  return facts;
}

void expect_twins(const RunFacts& drmm, const RunFacts& cnn) {
  EXPECT_EQ(cnn.config.seed, drmm.config.seed);
  EXPECT_EQ(cnn.config.dataset, drmm.config.dataset);
  EXPECT_EQ(cnn.config.labeled, drmm.config.labeled);
  EXPECT_EQ(cnn.split, drmm.split) << "another labeled split";
  ASSERT_EQ(cnn.first_batch.size(), size_t(drmm.config.batch_size));
  EXPECT_EQ(cnn.first_batch, drmm.first_batch) << "another first batch";
  EXPECT_EQ(cnn.second_batch, drmm.second_batch) << "another batch order";
  EXPECT_EQ(cnn.config.alpha.h, drmm.config.alpha.h);
  EXPECT_EQ(cnn.config.alpha.rc, 0.0f);
  EXPECT_EQ(cnn.config.alpha.kl, 0.0f);
  EXPECT_EQ(cnn.config.alpha.nn, 0.0f);
}

TEST(CompareCnnTwin, SharesSeedSplitAndBatchOrderAndTrainsOnTheCrossEntropyAlone) {
  TrainingSession drmm(synthetic_config());
  const std::unique_ptr<TrainingSession> cnn = cnn_twin(drmm);
  const RunFacts d = facts_of(drmm), c = facts_of(*cnn);
  // The preset's four losses on the DRMM side: the twin differs from it in the objective only.
  const LossWeights preset = load_model_spec("tiny").alpha;
  EXPECT_EQ(d.config.alpha.rc, preset.rc);
  EXPECT_GT(d.config.alpha.rc, 0.0f);
  expect_twins(d, c);
  EXPECT_NE(d.first_batch, d.second_batch);  // the comparison of batches means something

  // Trained side by side, the twin makes steps with no reconstruction (the top-down is skipped).
  drmm.start(2);
  cnn->start(2);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((drmm.latest()->step < 2 || cnn->latest()->step < 2) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(cnn->latest()->step, 2);
  ASSERT_FALSE(cnn->latest()->history.empty());
  EXPECT_EQ(cnn->latest()->history.back().loss_rc, 0.0);
  EXPECT_GT(drmm.latest()->history.back().loss_rc, 0.0);
}

// A run continued from a checkpoint gets a twin from step 0 with the checkpoint's setup.
TEST(CompareCnnTwin, TheTwinOfAContinuedRunStartsFreshOnItsSplit) {
  TempDir dir;
  {
    Trainer trainer(synthetic_config());
    trainer.step();
    trainer.save(dir / "run.bin");
  }
  TrainConfig config = Trainer::checkpoint_config(dir / "run.bin");
  TrainingSession drmm(config, dir / "run.bin");
  const std::unique_ptr<TrainingSession> cnn = cnn_twin(drmm);
  const RunFacts d = facts_of(drmm), c = facts_of(*cnn);
  EXPECT_EQ(d.step, 1);
  EXPECT_EQ(c.step, 0);
  expect_twins(d, c);
}

TEST(CompareCnnTwin, TheViewOfARunRendersTheTestImagesAndThePathOfTheFirst) {
  Trainer trainer(synthetic_config());
  trainer.step();
  const RunView view = view_of_run(trainer, 4, 12);
  EXPECT_EQ(view.step, 1);
  ASSERT_EQ(view.inputs.size(), 4u);
  ASSERT_EQ(view.renderings.size(), 4u);
  ASSERT_EQ(view.r.size(), 4u);
  const Dataset& test = *trainer.test_data();
  EXPECT_TRUE(std::equal(view.inputs[1].data.begin(), view.inputs[1].data.end(), test.image(1).begin()));
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(view.renderings[i].data.size(), view.inputs[i].data.size());
    EXPECT_TRUE(std::isfinite(view.r[i]) && std::abs(view.r[i]) <= 1.0) << view.r[i];
  }
  EXPECT_EQ(view.path.input, view.inputs[0].data);
  EXPECT_FALSE(view.path.levels.empty());
  EXPECT_EQ(view.strongest.size(), 12u);
  EXPECT_GE(view.strongest.front().contribution, view.strongest.back().contribution);
}

}  // namespace
}  // namespace drmm
