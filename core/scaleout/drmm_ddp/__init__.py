"""drmm_ddp: the DRMM trainer of the engine (core/), in PyTorch, for many processes or GPUs.

The same model, E-step, losses, optimiser, schedule, labeled split and seeds as the C++ engine
(../../model, ../../train; paper 002 eq. 5-8 and App. B, DESIGN.md §3.2), run with
DistributedDataParallel under torchrun (gloo on CPUs, NCCL on GPUs). It reads the data the
engine exports (`drmm data export`) and writes the engine's checkpoints and metrics.csv, so
`drmm eval`, the tree commands and the studio (`drmm-studio --watch DIR`) use its runs as
their own. Start it with `python3 -m drmm_ddp --help`.
"""
