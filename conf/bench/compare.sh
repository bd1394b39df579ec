#!/usr/bin/env bash
# compare.sh SLURM_TSV GSCHED_TSV: the two benchmark results side by side
# (keys matched after renaming gsched's commands to Slurm's), with the
# ratio gsched/Slurm and what it means: for times and memory lower is
# better, for rates (jobs/s) higher is.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 slurm.tsv gsched.tsv" >&2; exit 2; }
awk -F'\t' '
  function norm(k) {
    gsub(/gsub/, "sbatch", k); gsub(/gqueue/, "squeue", k); gsub(/gcancel/, "scancel", k)
    gsub(/gctld/, "slurmctld", k); gsub(/job_retention/, "MinJobAge", k)
    return k
  }
  NR == FNR { slurm[$1] = $2; continue_ = 1; next }
  {
    k = norm($1)
    if (!(k in slurm)) next
    s = slurm[k]; g = $2; unit = $3
    if (s == "NA" || g == "NA" || s + 0 == 0 || g + 0 == 0) { ratio = "-"; verdict = "" }
    else {
      r = g / s; ratio = sprintf("%.3f", r)
      if (unit == "jobs/s") verdict = (r >= 1) ? sprintf("%.1fx more", r) : sprintf("%.1fx fewer", 1 / r)
      else if (unit == "jobs") verdict = ""
      else verdict = (r <= 1) ? sprintf("%.1fx %s", 1 / r, unit == "MiB" ? "less" : "faster") : sprintf("%.1fx %s", r, unit == "MiB" ? "more" : "slower")
    }
    printf "%-44s %12s %12s %-7s %9s  %s\n", $1, s, g, unit, ratio, verdict
  }
  BEGIN { printf "%-44s %12s %12s %-7s %9s  %s\n", "metric (gsched names)", "Slurm", "gsched", "unit", "g/S", "gsched is"
          printf "%-44s %12s %12s %-7s %9s  %s\n", "--------------------------------------------", "------------", "------------", "-------", "---------", "---------" }
' "$1" "$2"
