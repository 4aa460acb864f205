"""`ecsched run`: start a schedule's task now, exactly as EventBridge would, and follow it to the end.

The engine knows nothing of the command line: it takes typed options (`runner.RunOptions`), the config's
schedule, the AWS handle and an output sink (`output.Output`). The modules, each usable on its own:

- `request`   the RunTask request EventBridge sends for a target, plus the user's adjustments;
- `taskdef`   what we need from DescribeTaskDefinition (essential containers, awslogs);
- `prepare`   everything before RunTask: the task definition, the container to adjust, the request;
- `start`     RunTask with a clientToken, and the lookup by startedBy when its answer is lost;
- `logs`      CloudWatch Logs of the essential containers, streamed as they arrive, retried on errors;
- `codes`     `docker run`'s exit codes for a stopped task;
- `result`    what happened, as JSON;
- `signals`   SIGINT/SIGTERM as flags for the loop;
- `runner`    the DescribeTasks poll loop: signals, --timeout, StopTask, riding out AWS outages;
- `text`      the status line and the end-of-run summary;
- `output`    the terminal sink: rich's live status line, log lines printed above it;
- `retry`     which AWS errors are worth retrying, and the backoff.

Exit codes: the first non-zero exit code of an essential container (0 when all exited 0); 125 when ecsched
could not start the task, the task failed to start, or ecsched lost track of it (--lost-timeout); 124 on
--timeout; 128+N after signal N (130, 143).
"""
