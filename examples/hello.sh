#!/bin/bash
#GSUB --job-name=hello
#GSUB --time=5:00
#GSUB --mem=256M
#GSUB --cpus-per-task=1
# A first gsched job: where it runs, as whom, and inside which limits.
echo "hello from job $GSCHED_JOB_ID ($GSCHED_JOB_NAME) on $GSCHED_NODELIST"
echo "user: $(id -un) (uid $(id -u)), working dir: $(pwd)"
echo "cpus on node: $GSCHED_CPUS_ON_NODE, memory: ${GSCHED_MEM_PER_NODE} MiB, gpus: ${GSCHED_GPUS_ON_NODE}"
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo unknown)
echo "memory limit seen by the job: $limit"
echo "processes visible in the container: $(ls /proc | grep -c '^[0-9]')"
touch /etc/gsched-test 2>/dev/null && echo "host /etc is writable (unexpected)" || echo "host filesystem is read-only, as it should be"
