"""Operations on the online store (keys, links, recipients, sends, stats).

The API routes and the CLI's embedded mode both call these functions; each takes an engine and
plain values and raises domain errors (`NotFound`, `Conflict`, `InvalidLink`, `AuthError`).
"""
