// Background threads of the studio run below the GUI (core/util/thread_priority.h).
#include "core/util/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

namespace drmm {
namespace {

int nice_of_this_thread() { return getpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid))); }

TEST(ThreadPriority, LowersTheCallingThreadOnlyAndTheThreadsItStarts) {
  const int caller = nice_of_this_thread();
  if (caller >= 10) GTEST_SKIP() << "the test already runs at nice " << caller;
  int worker = caller, child = caller;
  std::thread([&] {
    run_below_interactive_priority();
    worker = nice_of_this_thread();
    std::thread([&] { child = nice_of_this_thread(); }).join();
  }).join();
  EXPECT_EQ(worker, 10);
  EXPECT_EQ(child, 10);  // the cpu backend's pool threads, started by the trainer's thread
  EXPECT_EQ(nice_of_this_thread(), caller);
}

}  // namespace
}  // namespace drmm
