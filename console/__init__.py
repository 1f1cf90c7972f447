"""The coordinators' web console at /console: server-rendered pages over the core services (issue 11).

A thin layer like `schema/`: it may import `carecore`, never the reverse; every read and change goes
through the same core functions and the same authorization as the GraphQL API.
"""
