#!/bin/bash
#SBATCH --job-name=ddp-smoke
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=2          # one rank per GPU
#SBATCH --gpus-per-node=2
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:10:00
#SBATCH --output=%x-%j.out

# The lines at the top of most multi-node training scripts: the first node
# of the allocation is the rendezvous point.
export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
export MASTER_PORT=$((20000 + SLURM_JOB_ID % 10000))
export WORLD_SIZE=$SLURM_NTASKS
echo "master $MASTER_ADDR:$MASTER_PORT world $WORLD_SIZE nodes $SLURM_JOB_NODELIST"

srun python3 ddp_check.py
