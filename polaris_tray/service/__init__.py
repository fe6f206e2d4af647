"""The agent as a service: systemd notifications and a Prometheus endpoint, hooked into the beat loop."""
