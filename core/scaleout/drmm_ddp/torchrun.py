"""torchrun itself (torch.distributed.run), with one fix for Debian 12's torch 1.13 on Python 3.11.

There `torchrun` fails before starting any process with "AttributeError: 'NoneType' object has
no attribute 'get'": its Std.from_str finds the value of --redirects/--tee by iterating the
IntFlag Std, and Python 3.11 no longer yields the zero member NONE (nor the alias ALL) when
iterating a flag, so the default "0" maps to None. The fix maps values with Std(value).

  python3 -m drmm_ddp.torchrun --nproc_per_node 2 -m drmm_ddp --data fashion-mnist ...

takes exactly torchrun's arguments; where `torchrun` works, use it instead.
"""
import re
import sys

from torch.distributed import run
from torch.distributed.elastic.multiprocessing import api


def _std_from_str(vm):
    if re.match(api._VALUE_REGEX, vm):
        return api.Std(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")


api.Std.from_str = staticmethod(_std_from_str)

if __name__ == "__main__":
    sys.exit(run.main())
