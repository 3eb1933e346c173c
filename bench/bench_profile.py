"""Where veritee's time goes under load: py-spy profiles of the gateway and the enclave.

64 clients drive the gateway path (gateway -> enclave -> simulator, upstream 50 ms) while
``py-spy record --nonblocking`` samples the gateway and the enclave from outside, 200 times
a second, every thread, without pausing them. Samples of threads waiting idle (in epoll, on
a lock) are left out, so the shares are of busy time: running, or blocked in a call py-spy
does not count as idle, such as the fsync of the SQLite store's commits. `Runner.run` "in
itself" is uvloop, whose C code does the socket reads and writes and the epoll loop.
"""

from __future__ import annotations

import threading

from bench.loadgen import Load
from bench.probe import chat_body
from bench.profiles import Profile, pyspy_available, pyspy_profile, pyspy_start, top_table
from bench.stats import table
from bench.suite import Context, Options, Section

TITLE = "Where the time goes: profiles under load"
ORDER = 55
SERVERS = True
CLIENTS = 64


def budget(options: Options) -> float:
    return 10 if options.quick else 40


def _packages(profile: Profile) -> str:
    rows = [[f"`{name}`", f"{share:.1%}"] for name, share in profile.packages]
    return table(["package of the innermost frame", "share of CPU samples"], rows, "lr")


def run(ctx: Context) -> Section:
    if not pyspy_available():
        return Section(
            TITLE, "py-spy is not installed (`pip install -e '.[bench]'`): no profile.\n"
        )
    gateway = ctx.stacks().targets["gateway"]
    seconds = ctx.pick(20.0, 2.0)
    outs = {proc: ctx.workdir / f"profile-{proc}.txt" for proc in gateway.pids}
    load = Load(gateway.url, chat_body(stream=False, latency_ms=50), CLIENTS, gateway.headers)
    samplers = []

    def start_sampling() -> None:  # once the load has warmed up
        for proc, pid in gateway.pids.items():
            samplers.append(pyspy_start(pid, seconds, outs[proc]))

    timer = threading.Timer(1.5, start_sampling)
    timer.start()
    (result,) = ctx.loadgen().run([load], duration=seconds + 2, warmup=1.0)
    timer.join()
    for sampler in samplers:
        if sampler is not None:
            sampler.wait(30)
    parts = [
        f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}

{seconds:g} s of samples at {result.rate:,.0f} requests/s through the gateway.
"""
    ]
    data = {}
    for proc in gateway.pids:
        profile = pyspy_profile(outs[proc])
        data[proc] = {"samples": profile.samples, "packages": profile.packages}
        if not profile.samples:
            parts.append(f"\nNo samples of the {proc} (py-spy could not attach?).\n")
            continue
        parts.append(f"""
**The {proc}** ({profile.samples:,} samples). Functions with the most CPU in themselves:

{top_table(profile.top)}

By package:

{_packages(profile)}
""")
    return Section(TITLE, "".join(parts), data=data)
