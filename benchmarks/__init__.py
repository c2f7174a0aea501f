"""Benchmarks of upconv against PyTorch CPU (run ``python -m benchmarks``)."""
