#!/usr/bin/env bash
#SBATCH --job-name=accelerate-sft
#SBATCH --nodes=1
#SBATCH --gpus=h100:8
#SBATCH --cpus-per-gpu=12
#SBATCH --ntasks=1
#SBATCH --wckey=nlp --acctg-freq=task=30 --gres-flags=enforce-binding
#SBATCH --mem=0
#SBATCH --time=7-00:00:00
#SBATCH --output=%x_%j.out

accelerate launch --multi_gpu --num_processes 8 sft.py
