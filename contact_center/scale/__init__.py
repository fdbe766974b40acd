"""What several processes need to work as one: the Redis routing log, the router
lease, cluster presence."""
