"""Hallway gateway: public REST API, Server-Sent Events and the web page over gRPC."""
