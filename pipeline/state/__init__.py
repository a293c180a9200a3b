"""The shared state: the asset store (atomic files), the ledger and its database, locks, the topic queue, takes
and the layout of SHORTS_HOME."""
