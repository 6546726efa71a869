"""Training: configuration, the training run, cross-validation. Imports data, models and eval; never the CLI."""
