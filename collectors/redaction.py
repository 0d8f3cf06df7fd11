"""The one way a collector keeps a secret out of the snapshot: names stay, values go.

Lambda environment variables and API Gateway stage variables are both name/value maps that
people fill with credentials. The snapshot is a file attached to tickets, so every value is
replaced before a resource envelope is built; the names stay, because "a variable called
API_KEY holds a literal" is itself a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"


def redacted_values(variables: Any) -> Any:
    """A name/value map with every value replaced; anything else (absent, null) as it was."""
    if isinstance(variables, Mapping):
        return dict.fromkeys((str(name) for name in variables), REDACTED)
    return variables
