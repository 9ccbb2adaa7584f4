"""The Pit: in-process infrastructure extensions (artifact store, …)."""
