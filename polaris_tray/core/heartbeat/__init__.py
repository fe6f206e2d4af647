"""Sending the heartbeat: sample the machine, build the body, post it, decide when the next one goes."""
