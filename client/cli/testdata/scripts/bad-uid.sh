#!/bin/bash
#SBATCH --uid=0
#SBATCH -t 10
id
