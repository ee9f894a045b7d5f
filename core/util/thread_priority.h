#pragma once
// The endless background work of an interactive program (the studio's training run) runs below
// the GUI: on a 2-core machine with software OpenGL the trainer, the GUI thread and the
// rasteriser's threads share the cores, and frames must not wait for a batch. Work a person asked
// for and waits on (an analysis, a forest, hard EM) keeps the GUI's priority: below it, any other
// busy program on the machine would take nine tenths of its share. Measured on llvmpipe
// at 1400×900 while training (README, "Smooth frames"): presented-frame interval p99 36 ms with
// the trainer at the GUI's priority, 31 ms below it.
namespace drmm {

// Lowers the calling thread's scheduling priority (nice 10 on Linux, where it is per thread and
// inherited by the threads it then creates, such as the cpu backend's pool). Where that is not
// possible it does nothing: the work is the same, only its share of a busy machine changes.
void run_below_interactive_priority();

}  // namespace drmm
