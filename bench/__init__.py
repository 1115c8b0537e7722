"""The benchmark (`python -m bench.run`) and what it needs: text generation, simulated annotations."""
