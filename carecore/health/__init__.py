"""Health checks: vital-sign observations, their quality gate, and the rules that turn them into incidents."""
