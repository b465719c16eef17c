"""The request/response models between the gateway and each service, and the client
Protocols the gateway programs against. A service's application object satisfies its
Protocol directly (the in-process client); the gateway's HTTP clients satisfy it over
the wire. Stored documents and events are separate models."""
