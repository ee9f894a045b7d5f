// The NRM options of `drmm train` (paper 004: conv biases as priors, the Rendering Path
// Normalization, the Max-Min network), run as a person would: the model they build is the one
// the checkpoint keeps, resumes and evaluates, and what cannot take it says so.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/cli/run_drmm.h"

namespace drmm {
namespace {

using test::contains;
using test::Outcome;
using test::TempDir;

// "test accuracy 0.9100 on 100 images" (train) or "accuracy 0.9100 on 100 test images" (eval).
std::string accuracy_in(const std::string& text) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(R"(accuracy (\d\.\d+) on)")) ? m[1].str() : "none";
}

TEST(NrmCli, AnNrmRunKeepsItsArchitectureThroughCheckpointResumeAndEval) {
  TempDir dir;
  const std::string run = dir / "run";
  const std::string train = "train --data synthetic --model tiny --epochs 0.02 --threads 1 --test-limit 100 --quiet "
                            "--render-limit 50 --nrm-biases --alpha-rpn 1 --max-min --out " + run;
  Outcome first = test::run_drmm(dir, train);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_TRUE(contains(first.err, "RPN 1)")) << first.err;
  EXPECT_TRUE(contains(first.err, "Max-Min")) << first.err;
  // The checkpoint's model is the Max-Min network: evaluated on the same images it scores as the
  // run did at its end (a plain net with the same weights would not).
  Outcome eval = test::run_drmm(dir, "eval --checkpoint " + run + "/checkpoint.bin --data synthetic --limit 100");
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_EQ(accuracy_in(eval.out), accuracy_in(first.out)) << first.out << "\n" << eval.out;

  Outcome resumed = test::run_drmm(dir, "train --resume --epochs 0.04 --quiet --out " + run);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "after 8 steps")) << resumed.out;

  Outcome exported = test::run_drmm(dir, "export --checkpoint " + run + "/checkpoint.bin --out " + (dir / "m.onnx"));
  EXPECT_NE(exported.status, 0);
  EXPECT_TRUE(contains(exported.err, "Max-Min")) << exported.err;
}

TEST(NrmCli, ThePathPriorWithoutConvBiasesIsAClearError) {
  TempDir dir;
  Outcome r = test::run_drmm(dir, "train --data synthetic --model tiny --epochs 0.02 --alpha-rpn 1 --out " + (dir / "r"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "α_RPN 1 needs conv biases")) << r.err;
  EXPECT_TRUE(contains(r.err, "--nrm-biases")) << r.err;
}

}  // namespace
}  // namespace drmm
