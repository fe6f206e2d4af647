"""A built-in orchestrator on 127.0.0.1 for --demo and the tests, validating like the real one."""
