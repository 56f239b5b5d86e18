"""Many runs, one engine: a labelled plan (or a sweep's grid) of ordinary run dirs, started in this process, as
local child processes or on Ray, resumed run by run, and reported as curves with their spread over seeds.

plan.py reads a plan file and the schedule every run shares; jobs.py turns runs into jobs (new, resumed or
finished) after checking every started run still matches its entry; executors.py starts the jobs (local,
inprocess, ray; ray_runner.py is the only module that imports ray); side_by_side.py starts them all at once,
sharing the cores and handing a finished run's to the others, with an optional deadline; it and `local` take a
stop rule (target.py: the target-stop rule, checked over whole episodes; `inprocess` and `ray` cannot stop a run); train_job.py is what trains one job inside
a process; curves.py draws curves with spread; results.py carries rows between runs of a results file;
aggregate.py is the IQM over seeds; availability.py whether the runs can start here at all.
The drivers (studies/: learning plans and the bench; sweep/: grids) only say what to run and report."""
