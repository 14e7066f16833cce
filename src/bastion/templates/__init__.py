"""Package data: email bodies (``email/<kind>.txt`` and ``.html``)."""
