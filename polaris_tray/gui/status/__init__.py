"""The status window: the state, the latency chart and the recent attempts."""
