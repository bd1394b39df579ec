#!/bin/bash
#SBATCH -J llama-ft
#SBATCH -N 4
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=96
#SBATCH --exclusive
#SBATCH --time=48:00:00
#SBATCH -o /scratch/%u/llama/%j.log
#SBATCH --requeue

set -euo pipefail
nodes=( $(scontrol show hostnames "$SLURM_JOB_NODELIST") )
export MASTER_ADDR=${nodes[0]}
export MASTER_PORT=$((29500 + SLURM_JOB_ID % 1000))

srun torchrun \
    --nnodes="$SLURM_NNODES" --nproc_per_node=8 \
    --rdzv_id="$SLURM_JOB_ID" --rdzv_backend=c10d \
    --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT" \
    finetune.py --config configs/llama.yaml
