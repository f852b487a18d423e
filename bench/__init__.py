"""`make bench`: load, latency and fault drills against real servers (bench/README.md)."""
