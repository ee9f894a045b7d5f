#include "core/util/thread_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace drmm {
namespace {

// With a process limit that allows no new thread, the pool runs on the calling thread alone and
// still covers the range (in a child process, as an unprivileged user, so the limit applies).
TEST(ThreadPool, RunsOnTheThreadsItGetsWhenNoneCanBeCreated) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::getuid() == 0 && ::setuid(65534) != 0) ::_exit(3);
    const rlimit none{1, 1};  // this process only: no thread beyond it
    if (::setrlimit(RLIMIT_NPROC, &none) != 0) ::_exit(4);
    ThreadPool pool(8);
    std::atomic<size_t> sum{0};
    pool.parallel_for(100, [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) sum += i;
    });
    ::_exit(pool.size() < 8 && sum == 4950 ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child crashed or was killed (status " << status << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: setuid, 4: setrlimit, 5: fewer threads not used or range not covered";
}

TEST(ThreadPool, CoversTheRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t count : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(1000)}) {
      std::vector<std::atomic<int>> hits(count);
      pool.parallel_for(count, [&](size_t b, size_t e, int) {
        for (size_t i = b; i < e; ++i) ++hits[i];
      });
      for (size_t i = 0; i < count; ++i) EXPECT_EQ(hits[i].load(), 1) << "threads " << threads << " item " << i;
    }
  }
}

TEST(ThreadPool, StaticChunksGoToFixedWorkers) {
  ThreadPool pool(3);
  std::vector<int> owner(10, -1);
  for (int repeat = 0; repeat < 20; ++repeat)
    pool.parallel_for(10, [&](size_t b, size_t e, int worker) {
      auto [cb, ce] = ThreadPool::chunk(10, 3, worker);
      EXPECT_EQ(b, cb);
      EXPECT_EQ(e, ce);
      for (size_t i = b; i < e; ++i) owner[i] = worker;
    });
  // Balanced to within one item, in order: 4, 3, 3.
  EXPECT_EQ(owner, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
}

TEST(ThreadPool, RunsChunksOnDifferentThreads) {
  ThreadPool pool(2);
  std::thread::id ids[2];
  pool.parallel_for(2, [&](size_t, size_t, int worker) { ids[worker] = std::this_thread::get_id(); });
  EXPECT_EQ(ids[0], std::this_thread::get_id());  // the caller runs chunk 0
  EXPECT_NE(ids[0], ids[1]);
}

TEST(ThreadPool, RethrowsAWorkersExceptionAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(2,
                                 [](size_t, size_t, int worker) {
                                   if (worker == 1) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  std::atomic<int> sum{0};
  pool.parallel_for(4, [&](size_t b, size_t e, int) { sum += int(e - b); });
  EXPECT_EQ(sum.load(), 4);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.parallel_for(2, [&](size_t, size_t, int) {
    pool.parallel_for(3, [&](size_t b, size_t e, int worker) {
      EXPECT_EQ(worker, 0);
      inner += int(e - b);
    });
  });
  EXPECT_EQ(inner.load(), 6);
}

// Workers poll for a short while after a job and then sleep: jobs that follow each other at
// once (taken while polling) and jobs after an idle pause (a wake-up) must all run, and a pool
// must close while its workers still poll. A lost job or wake-up hangs here.
TEST(ThreadPool, JobsAtOnceAndAfterIdlePausesAllRun) {
  ThreadPool pool(3);
  std::atomic<long> done{0};
  for (int job = 0; job < 3000; ++job) {
    if (job % 300 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));  // the workers fall asleep
    pool.parallel_for(30, [&](size_t begin, size_t end, int) { done += long(end - begin); });
  }
  EXPECT_EQ(done.load(), 3000L * 30);
  for (int i = 0; i < 50; ++i) {
    ThreadPool brief(2);
    brief.parallel_for(4, [&](size_t begin, size_t end, int) { done += long(end - begin); });
  }  // each closes right after its job, its worker still polling
  EXPECT_EQ(done.load(), 3000L * 30 + 50 * 4);
}

TEST(ThreadPool, ZeroMeansHardwareConcurrency) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), std::max(1, int(std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace drmm
