"""The simulated charge point's state: connectors, configuration, authorization, meter, profiles."""
