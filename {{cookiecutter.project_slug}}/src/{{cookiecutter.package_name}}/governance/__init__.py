"""Model governance: why the model predicts what it does, and whether it treats groups alike."""
