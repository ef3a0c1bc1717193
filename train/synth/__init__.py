"""Made-up logs for training and tests: background traffic, planted incidents
and random traffic with its own programs and words."""
