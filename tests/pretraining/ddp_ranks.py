"""Run by torchrun in test_distributed.py: `python -m spacy_wv ARGS` as users run it, and
before the process group closes, every rank's weights compared with rank 0's, written as
JSON to $SPACY_WV_RANKS_REPORT by rank 0. DDP must keep the ranks identical: the warm start
runs on rank 0 only and reaches the other ranks only through the broadcast DDP makes
when it wraps the model, so a warm start applied after that shows up here."""
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import parallel

from spacy_wv.cli import main
from spacy_wv.pretraining import loop

wrapped = []


class RecordingDDP(parallel.DistributedDataParallel):
    def __init__(self, module, *args, **kwargs):
        super().__init__(module, *args, **kwargs)
        wrapped.append(module)


def compare_ranks_then(shutdown):
    def compare_then_shutdown(env, finished=False):
        if wrapped and dist.is_initialized():
            weights = torch.cat([p.detach().double().flatten() for p in wrapped[-1].parameters()])
            every_rank = [torch.empty_like(weights) for _ in range(env.world_size)]
            dist.all_gather(every_rank, weights)
            if env.is_main:
                report = {"world_size": env.world_size, "parameters": weights.numel(),
                          "max_difference": max(float((other - weights).abs().max()) for other in every_rank[1:])}
                Path(os.environ["SPACY_WV_RANKS_REPORT"]).write_text(json.dumps(report), encoding="utf8")
        shutdown(env, finished)

    return compare_then_shutdown


if __name__ == "__main__":
    parallel.DistributedDataParallel = RecordingDDP  # what loop.py imports when it wraps the model
    loop.shutdown = compare_ranks_then(loop.shutdown)
    sys.argv = ["spacy_wv", *sys.argv[1:]]
    main()
