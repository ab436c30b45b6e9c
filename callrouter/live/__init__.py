"""Live updates: domain events fanned out to this instance's Server-Sent Events streams."""
