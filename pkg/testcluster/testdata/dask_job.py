import asyncio, os, sys
from distributed import Scheduler, Worker, Client

rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])

def square(x):
    return x * x, os.environ["GSCHED_NODEID"]

async def scheduler():
    async with Scheduler(host=host, port=port, dashboard_address=None) as s:
        async with Client(s.address, asynchronous=True) as c:
            await c.wait_for_workers(world - 1, timeout=60)
            res = await c.gather(c.map(square, range(20)))
            print("sum", sum(r[0] for r in res), "nodes", ",".join(sorted({r[1] for r in res})), flush=True)
            await c.shutdown()

async def worker():
    for _ in range(200):
        try:
            async with Worker(f"tcp://{host}:{port}", nthreads=1, dashboard_address=None) as w:
                await w.finished()
                return
        except OSError:
            await asyncio.sleep(0.1)

asyncio.run(scheduler() if rank == 0 else worker())
