"""Everything that touches Sample Factory: env registration, model, train and evaluate entry points."""
