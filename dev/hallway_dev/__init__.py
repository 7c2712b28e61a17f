"""Development and test tooling for Hallway: never shipped in images.

Test support (``testing``), the development PKI (``devpki``), generation of gRPC code
(``protogen``) and of the event contracts (``asyncapi``), and the schema
compatibility check (``compat``). The runtime package ``hallway_common`` must not
import this one (import-linter checks it).
"""
