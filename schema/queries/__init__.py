"""Query roots, one per domain, merged into `Query` by schema.build.

Reads answer within the caller's scope; an object out of scope is null, exactly like a missing one.
"""
