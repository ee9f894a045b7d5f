// Every op of the Backend interface has its cpu-vs-vulkan test: the ops are read from the
// run_<op> declarations of core/backend/backend.h, and each must be named by a test file's
// DRMM_VULKAN_TESTS_COVER (vulkan_test_support.h). Adding an op without its Vulkan test fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/vulkan/vulkan_test_support.h"

namespace drmm::test {
namespace {

std::vector<std::string> declared_backend_ops() {
  std::ifstream in(std::string(DRMM_SOURCE_DIR) + "/core/backend/backend.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex declaration(R"(virtual\s+[\w:<>]+\s+run_(\w+)\s*\()");
  std::vector<std::string> ops;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), declaration); it != std::sregex_iterator(); ++it)
    ops.push_back((*it)[1].str());
  return ops;
}

TEST(VulkanOpCoverage, EveryBackendOpHasACpuVersusVulkanTest) {
  const std::vector<std::string> ops = declared_backend_ops();
  ASSERT_GT(ops.size(), 30u) << "backend.h was not read (or no longer declares run_<op>)";
  for (const std::string& op : ops)
    EXPECT_TRUE(covered_backend_ops().count(op)) << "Backend op '" << op << "' has no cpu-vs-vulkan test "
                                                 << "(name it in a test file's DRMM_VULKAN_TESTS_COVER)";
  for (const std::string& op : covered_backend_ops())
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << "covered op '" << op << "' is not in backend.h";
}

}  // namespace
}  // namespace drmm::test
