"""ClickHouse (chDB, in-process) as the store's peer: loads the same gzip objects as
Ferry's ingest benchmark on one thread into a MergeTree of (time, raw line) with the line
in CODEC(ZSTD(1)) and a tokenbf_v1 index, then runs the two searches Ferry's benchmark runs.
Usage: chdb_peer.py json|cloudtrail DIR RARE_TOKEN COMMON_WORD HOUR_START(ISO, UTC)
Prints one JSON object: events, load CPU seconds (the INSERTs; OPTIMIZE FINAL apart),
bytes_on_disk of the active parts after OPTIMIZE FINAL, and p50 latencies of the searches."""
import glob, json, os, resource, sys, tempfile, time

from chdb import session

kind, directory, rare, common, hour = sys.argv[1:6]
files = sorted(glob.glob(os.path.join(os.path.abspath(directory), "*.gz")))
work = tempfile.mkdtemp(prefix="ferry-chdb-")
db = session.Session(work)
one = "SETTINGS max_threads=1, max_insert_threads=1"


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


db.query("CREATE DATABASE IF NOT EXISTS bench")
db.query("""CREATE TABLE bench.logs (
  time DateTime64(3, 'UTC'),
  line String CODEC(ZSTD(1)),
  INDEX tokens line TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1
) ENGINE = MergeTree ORDER BY time""")
if kind == "json":
    select = ("SELECT parseDateTime64BestEffort(JSONExtractString(line, 'ts'), 3, 'UTC'), line "
              "FROM file('{path}', 'LineAsString', 'line String')")
else:
    select = ("SELECT parseDateTime64BestEffort(JSONExtractString(r, 'eventTime'), 3, 'UTC'), r FROM "
              "(SELECT arrayJoin(JSONExtractArrayRaw(json, 'Records')) AS r FROM file('{path}', 'JSONAsString', 'json String'))")
start_cpu, start = cpu(), time.perf_counter()
for path in files:
    db.query(f"INSERT INTO bench.logs {select.format(path=path)} {one}")
load_cpu, load_seconds = cpu() - start_cpu, time.perf_counter() - start
start_cpu = cpu()
db.query("OPTIMIZE TABLE bench.logs FINAL")
optimize_cpu = cpu() - start_cpu
events = int(db.query("SELECT count() FROM bench.logs", "CSV").bytes().strip())
on_disk = int(db.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND table = 'logs' AND active", "CSV").bytes().strip())


def p50(sql, runs=20):
    db.query(sql, "CSV")
    samples = []
    found = 0
    for _ in range(runs):
        t = time.perf_counter()
        out = db.query(sql, "CSV").bytes()
        samples.append((time.perf_counter() - t) * 1000)
        found = out.count(b"\n")
    samples.sort()
    return samples[len(samples) // 2], found


hour_from = f"parseDateTime64BestEffort('{hour}', 3, 'UTC')"
rare_ms, rare_found = p50(f"SELECT time, line FROM bench.logs WHERE hasToken(line, '{rare}') ORDER BY time DESC LIMIT 100 {one}")
common_ms, common_found = p50(
    f"SELECT time, line FROM bench.logs WHERE time >= {hour_from} AND time < {hour_from} + INTERVAL 1 HOUR "
    f"AND hasTokenCaseInsensitive(line, '{common}') ORDER BY time DESC LIMIT 100 {one}")
import chdb
print(json.dumps({"version": chdb.__version__, "events": events, "load_cpu_seconds": load_cpu, "load_seconds": load_seconds,
                  "optimize_cpu_seconds": optimize_cpu, "bytes_on_disk": on_disk,
                  "rare_p50_ms": rare_ms, "rare_found": rare_found,
                  "common_p50_ms": common_ms, "common_found": common_found}))
