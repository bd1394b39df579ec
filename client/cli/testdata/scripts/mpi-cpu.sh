#!/bin/sh
#SBATCH --ntasks=64
#SBATCH --ntasks-per-node=16
#SBATCH --mem-per-cpu=2000
#SBATCH --time=100:00:00
#SBATCH --partition=cpu
#SBATCH --qos=long
#SBATCH --nice=50
#SBATCH --hint=nomultithread
#SBATCH --distribution=block:block
#SBATCH --constraint="avx512&ib"

mpirun ./lammps -in in.melt
