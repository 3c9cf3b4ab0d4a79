"""Code generated from botocore's service models, and the report of how much of it is implemented.

``python -m kumoi.codegen`` writes ``kumoi/services/<service>/api.py`` for every service kumoi
serves: typed request and response shapes, the modelled errors, and the base class whose methods
providers implement (:mod:`kumoi.codegen.generate`). :mod:`kumoi.codegen.coverage` counts which
of those methods a provider defines; :mod:`kumoi.codegen.conformance` checks that the ones it does
define keep the generated signatures.
"""
