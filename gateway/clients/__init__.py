"""How the gateway reaches the services. In the all-in-one process the client *is* the
service's application object (no network hop, no serialisation); in a split deployment
the classes in `http` speak the services' internal HTTP APIs. Both satisfy the Protocols
in `backbone.contracts`."""
