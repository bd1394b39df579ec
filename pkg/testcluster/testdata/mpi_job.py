# An MPI program (Debian's python3-mpi4py on Open MPI) started by mpirun
# inside a gsched job: each rank reports where it runs and the sum of an
# allreduce over all ranks, and rank 0 checks that ranks on different
# nodes exchanged point-to-point messages.
import os
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
node = os.environ.get("SLURMD_NODENAME", "?")
total = comm.allreduce(rank + 1)
nodes = comm.gather(node, root=0)
if rank == 0:
    for src in range(1, size):
        got = comm.recv(source=src, tag=7)
        assert got == src * 10, (src, got)
    print(f"mpi nodes {','.join(sorted(set(nodes)))}", flush=True)
else:
    comm.send(rank * 10, dest=0, tag=7)
print(f"mpi rank {rank} of {size} on {node} sum {total}", flush=True)
