"""Put on a child's PYTHONPATH by tests/support/platform_sim.sim_env(): the simulation is installed before
the child imports any of our modules."""

import os

if os.environ.get("POLARIS_SIM_PLATFORM"):
    from tests.support.platform_sim import install

    install(os.environ["POLARIS_SIM_PLATFORM"])
