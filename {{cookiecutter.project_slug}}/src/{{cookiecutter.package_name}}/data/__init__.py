"""The data layer: the contract, reading, validation, splits and features."""
