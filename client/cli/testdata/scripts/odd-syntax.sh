#!/bin/bash
#  A script that has been through many hands.

#SBATCH -J "odd job"   -p gpu	-c4   # several options, a tab, a comment
#SBATCH --time 1-12 --mem 32G
##SBATCH --gres=gpu:8             (disabled: two #)
# SBATCH --partition=debug         (ignored: space after #)
#sbatch --qos=lowercase-is-not-a-directive
#SBATCH --output=run-${EXPERIMENT}-%j.out   # no expansion in directives
#GSUB --gpus=2
#SBATCH --export=ALL,OMP_NUM_THREADS=4
#SBATCH --exclusive=user

echo "first command: directives end here"
#SBATCH --job-name=too-late
python run.py
