"""XML signatures as SAML uses them: a namespace-preserving parser (``tree``), exclusive XML
canonicalization (``c14n``), enveloped-signature verification (``signature``) and identity
provider metadata (``metadata``). Written on expat and ``cryptography``; loaded lazily, only when
a SAML provider is written or a SAML response arrives."""
