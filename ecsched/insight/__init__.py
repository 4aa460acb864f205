"""Operator insight: what ran (`status`, `history`), what will run (`timeline`), and the history sink.

- runs.py: one Run, from a DescribeTasks task or an "ECS Task State Change" event;
- tasks.py: ListTasks/DescribeTasks per cluster, and attributing tasks to schedules (startedBy);
- events.py: history events from the log group: parse, dedupe by task ARN and detail.version;
- metrics.py: AWS/Events metrics per rule through GetMetricData;
- ticks.py: past and next fire times; flags.py: missed/failed/overlap/long;
- report.py: one ScheduleStatus per schedule, from all of the above;
- timeline.py, html.py: lanes and peaks, in the terminal and as one self-contained HTML file;
- sink.py: the `history:` resources (rule, log group, Logs resource policy): desired, live, plan, apply;
- settings.py: what these read from the file (`history:`, `statusGrace`, pause reasons).
"""
