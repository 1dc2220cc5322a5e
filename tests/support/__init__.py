"""Local stand-ins for the outside services Jikimi talks to, shared by tests and benchmarks."""
