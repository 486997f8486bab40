"""The Dagster code location of meter-personas: definitions, partitions, resources, jobs, schedules."""
