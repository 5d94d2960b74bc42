"""GPU benchmark modules; each exposes run(results, quick=False)."""
