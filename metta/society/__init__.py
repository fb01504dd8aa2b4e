"""The social layer: kinship structures, reward sharing, social metrics. NumPy only."""
