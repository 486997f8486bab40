"""pandera (polars backend) models, one per table: strict, ordered, every column described."""
