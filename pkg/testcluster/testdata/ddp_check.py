# What a Slurm-aware trainer (Lightning's SLURMEnvironment, submitit,
# accelerate) reads from each task's environment, then a real
# torch.distributed all-reduce over gloo at MASTER_ADDR:MASTER_PORT.
import os
import torch
import torch.distributed as dist

env = os.environ
rank, world = int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
local, node = int(env["SLURM_LOCALID"]), int(env["SLURM_NODEID"])
dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
print(f"rank {rank}/{world} node {node} local {local} "
      f"gpus {env.get('CUDA_VISIBLE_DEVICES')} on_node {env.get('SLURM_GPUS_ON_NODE')} "
      f"job {env['SLURM_JOB_NAME']} sum {t.item():.0f}", flush=True)
dist.destroy_process_group()
