"""HTTP routes: thin handlers that validate, call the store and answer; slow work is the worker's."""
