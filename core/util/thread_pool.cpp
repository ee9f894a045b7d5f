#include "core/util/thread_pool.h"

#include <chrono>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace drmm {

namespace {
// How long a thread polls for the next job (or for the workers to finish) before it
// blocks: longer than the gap between two ops of a training step, short enough that an
// idle pool returns its cores almost at once.
constexpr auto kSpin = std::chrono::microseconds(200);

// Polls `ready` until it holds or kSpin has passed; returns whether it holds.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    if (i % 64 == 63 && std::chrono::steady_clock::now() > deadline) return false;
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }
}

// Set while a thread runs a chunk: a nested parallel_for then runs inline instead of
// waiting for workers that are busy with the outer job (which would deadlock).
thread_local bool t_inside_chunk = false;

struct InsideChunk {
  bool saved = t_inside_chunk;
  InsideChunk() { t_inside_chunk = true; }
  ~InsideChunk() { t_inside_chunk = saved; }
};
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  workers_.reserve(size_t(threads - 1));
  // Where threads cannot be created (a low process limit, common in containers) the pool runs
  // on those it got, down to the calling thread alone, instead of failing or waiting for them.
  try {
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
  } catch (const std::system_error&) {
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

std::pair<size_t, size_t> ThreadPool::chunk(size_t count, int workers, int t) {
  // Balanced to within one item: the first count % workers chunks get one more.
  const size_t base = count / size_t(workers), extra = count % size_t(workers);
  const size_t ut = size_t(t);
  const size_t begin = ut * base + (ut < extra ? ut : extra);
  return {begin, begin + base + (ut < extra ? 1 : 0)};
}

void ThreadPool::run_chunk(int worker) {
  auto [begin, end] = chunk(job_count_, size(), worker);
  if (begin == end) return;
  InsideChunk guard;
  try {
    (*job_)(begin, end, worker);
  } catch (...) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::parallel_for(size_t count, const RangeFn& fn) {
  if (count == 0) return;
  if (workers_.empty() || count == 1 || t_inside_chunk) {
    InsideChunk guard;
    fn(0, count, 0);
    return;
  }
  std::lock_guard submit(submit_mutex_);
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_count_ = count;
    pending_.store(int(workers_.size()), std::memory_order_relaxed);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunk(0);
  std::exception_ptr error;
  const auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  spin_until(all_done);
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, all_done);
    job_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::worker_loop(int worker) {
  unsigned long seen = 0;
  const auto new_job = [&] { return generation_.load(std::memory_order_acquire) != seen; };
  for (;;) {
    if (!spin_until(new_job)) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || new_job(); });
      if (stopping_) return;
    }
    seen = generation_.load(std::memory_order_acquire);
    run_chunk(worker);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      { std::lock_guard lock(mutex_); }  // the caller is now either waiting or will see 0
      done_.notify_one();
    }
  }
}

}  // namespace drmm
