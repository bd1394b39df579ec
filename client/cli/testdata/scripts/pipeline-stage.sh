#!/bin/bash
#SBATCH --job-name=evaluate
#SBATCH --dependency=afterok:1041:1042,afterany:1043_7
#SBATCH --kill-on-invalid-dep=yes
#SBATCH --begin=2026-11-22T02:00:00
#SBATCH --export=NONE,DATA=/scratch/data
#SBATCH --chdir=/home/alice/proj/eval
#SBATCH --no-requeue
#SBATCH --comment="nightly eval"
#SBATCH --gres=gpu:1
#SBATCH -t 30

python evaluate.py --data "$DATA"
