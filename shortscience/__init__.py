"""The composition root: the all-in-one runner, the demo data and the `shortscience` CLI.
It is the one place that imports the services and the gateway together."""
