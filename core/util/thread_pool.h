#pragma once
// A small persistent thread pool for data-parallel loops (the cpu backend splits a batch
// across cores with it). Workers are started once. Between jobs a worker first spins for a
// short while (a training step's ops follow each other within microseconds, and waking a
// sleeping thread took ~130 µs on average in a 2-core VM, a tenth of a small op) and then
// sleeps, so an idle pool costs no CPU.
//
// parallel_for splits [0, count) into size() static, contiguous chunks: chunk t always goes
// to worker t, so per-worker scratch memory (indexed by worker) needs no locking, and a
// result never depends on timing.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace drmm {

class ThreadPool {
 public:
  // fn(begin, end, worker): process [begin, end); worker in [0, size()).
  using RangeFn = std::function<void(size_t begin, size_t end, int worker)>;

  // `threads` counts the calling thread too; 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Runs fn on every non-empty chunk and returns when all are done; the caller runs chunk 0.
  // The first exception a chunk throws is rethrown here (the other chunks still finish).
  // A call from inside a chunk (nested parallelism) runs serially on the calling thread.
  void parallel_for(size_t count, const RangeFn& fn);

  // The chunk of [0, count) that worker t of `workers` gets.
  static std::pair<size_t, size_t> chunk(size_t count, int workers, int t);

 private:
  void worker_loop(int worker);
  void run_chunk(int worker);

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // one job at a time when several threads share the pool
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const RangeFn* job_ = nullptr;
  size_t job_count_ = 0;
  // Written under mutex_, read by spinning threads without it: the release store of
  // generation_ publishes job_ and job_count_, the release decrement of pending_ the results.
  std::atomic<unsigned long> generation_ = 0;  // bumped per job, so a worker never runs one job twice
  std::atomic<int> pending_ = 0;               // workers still running the current job
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace drmm
