"""DDP setup from the environment torchrun provides (RANK, WORLD_SIZE, LOCAL_RANK).

NCCL on CUDA, gloo on CPU. Without torchrun this is one process, rank 0.
"""
import os
from dataclasses import dataclass
from typing import Any, List

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def init_distributed() -> DistEnv:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistEnv(rank, local_rank, world_size, device)


def gather_objects(env: DistEnv, obj: Any) -> List[Any]:
    """Every rank's `obj`, in rank order (on every rank)."""
    if not env.is_distributed:
        return [obj]
    out: List[Any] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sum(env: DistEnv, values: torch.Tensor) -> torch.Tensor:
    if env.is_distributed:
        values = values.to(env.device)
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values.cpu()


def from_main(env: DistEnv, value: float) -> float:
    """Rank 0's `value` on every rank."""
    if not env.is_distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=env.device)
    dist.broadcast(tensor, src=0)
    return float(tensor[0])


def barrier(env: DistEnv) -> None:
    if env.is_distributed:
        dist.barrier()


def shutdown(env: DistEnv, finished: bool = False) -> None:
    """Close the process group; after a finished run, only once every rank is done with it."""
    if env.is_distributed and dist.is_initialized():
        if finished:
            # A rank that tears the group down while another still sends into it aborted
            # once in CI (gloo, SIGABRT at exit after a finished run). After a failure there
            # is no barrier: the other ranks may never arrive, and torchrun ends them.
            dist.barrier()
        dist.destroy_process_group()
