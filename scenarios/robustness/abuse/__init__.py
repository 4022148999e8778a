"""Abuse cases (opt-in: ``--include abuse``, every loop bounded in count and time): a message flood,
a slow sender, many idle sockets."""
