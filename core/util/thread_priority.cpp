#include "core/util/thread_priority.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace drmm {

void run_below_interactive_priority() {
#ifdef __linux__
  constexpr int kBackgroundNice = 10;
  // PRIO_PROCESS with a thread id sets that one thread's nice value on Linux. Failure (a thread
  // already nicer than 10 may not be raised without privileges; a sandbox may forbid it) is harmless.
  (void)setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), kBackgroundNice);
#endif
}

}  // namespace drmm
