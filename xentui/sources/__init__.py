"""Ways of reaching a host. Each returns Snapshots and carries out actions for the UI."""
