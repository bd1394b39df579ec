#!/bin/bash
#SBATCH --job-name=from-script --time=10 --partition=cpu
#SBATCH --gres=gpu:2
true
