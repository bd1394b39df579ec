#!/bin/bash
#SBATCH --job-name=resnet50-lightning
#SBATCH --partition=gpu
#SBATCH --account=vision
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=4        # one task per GPU, as Lightning wants
#SBATCH --gres=gpu:a100:4
#SBATCH --cpus-per-task=8
#SBATCH --mem=200G
#SBATCH --time=2-00:00:00
#SBATCH --output=logs/%x-%j.out
#SBATCH --error=logs/%x-%j.err
#SBATCH --signal=SIGUSR1@90        # Lightning checkpoints and requeues on SIGUSR1
#SBATCH --mail-type=END,FAIL
#SBATCH --mail-user=alice@example.org

module load cuda/12.4 2>/dev/null || true
source ~/venvs/torch/bin/activate

srun python train.py --trainer.devices=4 --trainer.num_nodes=$SLURM_NNODES
