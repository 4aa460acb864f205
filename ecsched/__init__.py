"""ecsched: schedule-as-code for Amazon ECS scheduled tasks."""

__version__ = "0.1.0"
