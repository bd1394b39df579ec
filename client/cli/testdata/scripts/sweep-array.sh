#!/bin/bash
# Hyper-parameter sweep: 100 configurations, at most 10 running at once.
#SBATCH --job-name=sweep
#SBATCH --array=0-99%10
#SBATCH --gpus=1
#SBATCH --mem-per-gpu=16G
#SBATCH --cpus-per-gpu=4
#SBATCH -t 0-04:00
#SBATCH -o logs/sweep_%A_%a.out
#SBATCH --open-mode=append

cfg=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" sweep.txt)
python train.py $cfg --seed $SLURM_ARRAY_TASK_ID
