# prefect-dbt's orchestrator, PER_WAVE, as the benchmark runs it (bench/lib/variants/prefect.mjs): one in-process
# `dbt build` per topological wave, waves in sequence. Prints one BENCH_RESULT line (JSON) with versions, statuses,
# waves and times, or the error.
#
#   python prefect_per_wave.py <project dir> <threads> <IMMEDIATE | DEFERRED>
import json, os, sys, time
from collections import Counter
from pathlib import Path
t0 = time.time()
from prefect_dbt.core._orchestrator import PrefectDbtOrchestrator, ExecutionMode, TestStrategy
from prefect_dbt.core.settings import PrefectDbtSettings
import importlib.metadata as md
proj = Path(sys.argv[1]).resolve()
threads = int(sys.argv[2])
strategy = sys.argv[3]
t1 = time.time()
orch = PrefectDbtOrchestrator(settings=PrefectDbtSettings(project_dir=proj, profiles_dir=proj), threads=threads,
    execution_mode=ExecutionMode.PER_WAVE, test_strategy=TestStrategy[strategy], create_summary_artifact=False,
    write_run_results=True, raise_on_failure=False, disable_assets=True)
out = {'version': md.version('prefect-dbt'), 'prefect': md.version('prefect'), 'import_s': t1 - t0}
try:
    res = orch.run_build()
    out['statuses'] = dict(Counter(r['status'] for r in res.values()))
    out['waves'] = len({r.get('timing', {}).get('started_at') for r in res.values() if r.get('timing')})
except Exception as e:
    out['error'] = type(e).__name__ + ': ' + str(e)
out['build_s'] = time.time() - t1
print('BENCH_RESULT ' + json.dumps(out), flush=True)
