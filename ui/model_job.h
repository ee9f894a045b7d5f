#pragma once
// One analysis of the live model at a time, off the GUI thread (DESIGN.md §2, §4): the job runs
// inside TrainingSession::run_between_batches on a std::async thread, so it sees the weights the
// run trains right now and never races a batch. The GUI thread starts it, polls it once per
// frame and never blocks on it, except in the destructor: a panel that goes away waits for its
// job, because the job's lambda may still point into the panel's results. A failure (the run
// was reset, the model is not built yet) comes back as a message for the panel to show.
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "core/train/trainer.h"
#include "core/train/training_session.h"
#include "core/util/error.h"

namespace drmm::ui {

template <class Result>
class ModelJob {
 public:
  ModelJob() = default;
  ModelJob(const ModelJob&) = delete;
  ModelJob& operator=(const ModelJob&) = delete;
  ~ModelJob() { wait(); }

  bool busy() const { return future_.valid(); }

  // Starts `work(trainer)` between two batches of `run`. The run is held by the job, so a reset
  // that retires it meanwhile only delays its destruction. Call only when !busy().
  void start(std::shared_ptr<TrainingSession> run, std::function<Result(Trainer&)> work) {
    future_ = std::async(std::launch::async, [run = std::move(run), work = std::move(work)]() -> Result {
      if (!run) throw Error("no training run");
      Result result{};
      run->run_between_batches([&](Trainer& trainer) { result = work(trainer); });
      return result;
    });
  }

  // When the job has finished: its result in `out` (true), or its error in `error` (false, and
  // `error` is set). Returns false with `error` untouched while it still runs or when idle.
  bool take(Result& out, std::string& error) {
    if (!future_.valid() || future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    try {
      out = future_.get();
      error.clear();
      return true;
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error";
    }
    return false;
  }
  // Whether a finished job is waiting for take().
  bool ready() const {
    return future_.valid() && future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

  void wait() {
    if (future_.valid()) future_.wait();
  }

 private:
  std::future<Result> future_;
};

}  // namespace drmm::ui
